"""Plugin discovery: an outside package installed with pip, broken plugins, duplicates."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from inpaintbench import Method, hookimpl, plugins, registry
from inpaintbench.errors import DuplicateNameError, UnknownNameError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _doc_files() -> dict[str, str]:
    """The example plugin's files, exactly as docs/plugins.md shows them."""
    text = DOCS.read_text()
    return dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, flags=re.S))


def _pip_install(source: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True,
    )


def _cli(args, pythonpath: Path, cwd: Path):
    import os

    env = {**os.environ, "PYTHONPATH": str(pythonpath), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "inpaintbench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def installed_plugins(tmp_path_factory):
    """The docs' example plugin and a broken one, pip-installed into a throw-away directory."""
    root = tmp_path_factory.mktemp("plugins")
    example = root / "rowmean"
    example.mkdir()
    for name, content in _doc_files().items():
        (example / name).write_text(content)
    broken = root / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text(
        _doc_files()["pyproject.toml"].replace("inpaintbench-rowmean", "inpaintbench-broken")
        .replace('rowmean = "inpaintbench_rowmean"', 'broken = "inpaintbench_broken"')
    )
    (broken / "inpaintbench_broken.py").write_text("raise ImportError('needs libfoo 2.0')\n")
    site = root / "site"
    _pip_install(example, site)
    _pip_install(broken, site)
    return site


def test_docs_example_plugin_is_listed_after_pip_install(installed_plugins, tmp_path):
    result = _cli(["methods"], installed_plugins, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "row-mean" in result.stdout and "inpaintbench-rowmean" in result.stdout
    assert "telea" in result.stdout  # built-ins still there
    assert "inpaintbench-broken" in result.stdout and "needs libfoo 2.0" in result.stdout


def test_docs_example_plugin_runs_in_compare(installed_plugins, tmp_path):
    result = _cli(["compare", "--methods", "row-mean,telea", "--limit", "2", "--out", "res",
                   "-o", "row-mean.brightness=1.0", "--format", "csv"], installed_plugins, tmp_path)
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert table.startswith("method,") and "row-mean" in table and "telea" in table
    assert (tmp_path / "res" / "scores" / "row-mean.jsonl").exists()
    import json

    entry = json.loads((tmp_path / "res" / "run.json").read_text())["methods"]["row-mean"]
    assert entry["distribution"] == "inpaintbench-rowmean 0.1.0" and entry["options"] == {"brightness": 1.0}


class _Throwaway:
    """A plugin object registered in-process, as datasette's tests do."""

    def __init__(self, *classes, fail=False):
        self.classes, self.fail = classes, fail

    @hookimpl
    def register_methods(self, register):
        if self.fail:
            raise RuntimeError("cannot find CUDA")
        for cls in self.classes:
            register(cls)


class _Dup(Method):
    name = "telea"

    def inpaint_one(self, image, mask):
        return image


@pytest.fixture
def fresh_plugins():
    plugins.reset()
    yield plugins.plugin_manager()
    plugins.reset()


def test_a_plugin_that_raises_while_registering_is_named(fresh_plugins):
    fresh_plugins.register(_Throwaway(fail=True), name="gpu-only")
    assert "telea" in [entry.name for entry in registry.list_methods()]
    assert any(f.plugin == "gpu-only" and "cannot find CUDA" in f.error for f in plugins.plugin_failures())


def test_duplicate_names_are_an_error_not_a_silent_winner(fresh_plugins):
    fresh_plugins.register(_Throwaway(_Dup), name="impostor")
    with pytest.raises(DuplicateNameError, match="impostor"):
        registry.method_class("telea")


def test_unknown_names_suggest_the_closest(fresh_plugins):
    with pytest.raises(UnknownNameError, match="did you mean 'telea'"):
        registry.method_class("telia")
