"""Plugins that add commands (the register_commands hook): the docs' example end to end, and a clash with a built-in."""

from __future__ import annotations

import json

import pytest

from doc_examples import install_example, one_module_package, pip_install, run_cli


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The docs' ``wins`` example and a plugin whose command is called ``compare``, pip-installed into one throw-away target."""
    root = tmp_path_factory.mktemp("plugins")
    target = install_example("wins", root, root / "site")
    clash = one_module_package(root, "clash", (
        "import click\n\nfrom inpaintbench import hookimpl\n\n\n"
        "@hookimpl\ndef register_commands(cli):\n"
        "    @cli.command('compare')\n    def compare():\n        click.echo('the plugin compare ran')\n\n"
        "    @cli.command('clash-extra')\n    def extra():\n        click.echo('extra')\n"
    ))
    pip_install(clash, target)
    return target


def _best_counts(results, key: str, higher_is_better: bool) -> dict[str, float]:
    """Wins per method, from the stored per-image rows read as plain JSON (ties shared)."""
    rows = {path.stem: {row["item"]: row.get(key) for row in map(json.loads, path.read_text().splitlines())}
            for path in (results / "scores").glob("*.jsonl")}
    items = [item for item in rows[next(iter(rows))] if all(rows[m].get(item) is not None for m in rows)]
    counts = dict.fromkeys(rows, 0.0)
    for item in items:
        values = {method: rows[method][item] for method in rows}
        best = (max if higher_is_better else min)(values.values())
        winners = [method for method, value in values.items() if value == best]
        for method in winners:
            counts[method] += 1 / len(winners)
    return counts


def test_the_docs_command_plugin_counts_wins_per_score(site, tmp_path):
    compared = run_cli(["compare", "--methods", "telea,biharmonic,mean-fill", "--limit", "4", "--out", "res", "--format", "csv"],
                       site, tmp_path)
    assert compared.returncode == 0, compared.stderr
    listed = run_cli(["--help"], site, tmp_path)
    assert "wins" in listed.stdout
    result = run_cli(["wins", "res"], site, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = {line.partition(" on ")[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == {"PSNR (dB)", "SSIM", "hole PSNR (dB)", "hole SSIM", "hole L1 (%)"}  # tabulated scores only
    for label, key, higher in (("PSNR (dB)", "psnr", True), ("hole L1 (%)", "l1_hole", False)):
        counts = _best_counts(tmp_path / "res", key, higher)
        assert lines[label].startswith(f"{label} on 4 images: ")
        shown = dict(part.rsplit(" ", 1) for part in lines[label].split(": ", 1)[1].split(", "))
        assert {method: float(count) for method, count in shown.items()} == pytest.approx(counts)
        assert sum(counts.values()) == pytest.approx(4)
    missing = run_cli(["wins", "no-such-dir"], site, tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_a_plugin_cannot_replace_a_builtin_command(site, tmp_path):
    listed = run_cli(["methods"], site, tmp_path)
    assert listed.returncode == 0, listed.stderr
    shown = " ".join(listed.stdout.split())
    assert "inpaintbench-clash" in shown and "command(s) compare already exist" in shown
    builtin = run_cli(["compare", "--help"], site, tmp_path)
    assert builtin.returncode == 0 and "--methods" in builtin.stdout and "the plugin compare ran" not in builtin.stdout
    extra = run_cli(["clash-extra"], site, tmp_path)  # only the clashing command is left out
    assert extra.returncode == 0 and extra.stdout == "extra\n"
    assert run_cli(["wins", "--help"], site, tmp_path).returncode == 0  # the other plugins' commands still load
