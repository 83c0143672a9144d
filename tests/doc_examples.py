"""The example plugins of docs/plugins.md, pip-installed from the page as a reader would.

Each example's files are marked on the page with ``<!-- file: EXAMPLE/PATH -->``
before a fenced block; :func:`install_example` writes them into a folder and
pip-installs that folder into a throw-away target directory, which tests then
put on ``PYTHONPATH`` for a fresh ``python -m inpaintbench``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def example_files(example: str) -> dict[str, str]:
    """``{path: content}`` of one example, exactly as the page shows them."""
    found = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", DOCS.read_text(), flags=re.S)
    files = {path.partition("/")[2]: content for path, content in found if path.partition("/")[0] == example}
    assert files, f"docs/plugins.md has no files of the example {example!r}"
    return files


def write_package(folder: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    return folder


def one_module_package(folder: Path, name: str, source: str) -> Path:
    """A package ``inpaintbench-NAME`` whose one module ``inpaintbench_NAME`` is ``source``, registered as entry point NAME.

    For plugins that go wrong on purpose (a failing import, a misspelt hook, a command that clashes).
    """
    return write_package(folder / name, {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "inpaintbench-{name}"\nversion = "0.1.0"\n\n'
            f'[project.entry-points.inpaintbench]\n{name} = "inpaintbench_{name}"\n'
        ),
        f"inpaintbench_{name}.py": source,
    })


def pip_install(source: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True,
    )


def install_example(example: str, root: Path, target: Path) -> Path:
    """Write the page's example ``example`` under ``root`` and pip-install it into ``target``; returns ``target``."""
    folder = write_package(root / example, example_files(example))
    pip_install(folder, target)
    return target


def run_cli(args: list[str], pythonpath: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m inpaintbench ARGS`` in a fresh interpreter that also sees the packages installed in ``pythonpath``."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "inpaintbench", *args], env=env, cwd=cwd, capture_output=True, text=True)
