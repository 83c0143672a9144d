"""The core names no particular method or dataset: they come and go as plugins, and the harness must not care."""

import re
from pathlib import Path

from inpaintbench import registry

CORE = Path(__file__).resolve().parents[1] / "inpaintbench"
#: the built-in dataset loaders: a default plugin, each module naming the dataset it reads
LOADERS = CORE / "datasets"
#: the core's own generic loaders (any folder of images; the bundled sample set that `compare` runs by default)
GENERIC_DATASETS = {"folder", "sample"}


def _core_files() -> list[Path]:
    files = [path for path in CORE.rglob("*") if path.suffix in {".py", ".html"}]
    return sorted(path for path in files if LOADERS not in path.parents)


def _named(text: str, name: str) -> list[str]:
    """Lines of ``text`` that name ``name`` as a word of its own (any case; '-' and '_' join words)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)
    return [line.strip() for line in text.splitlines() if pattern.search(line)]


def test_no_core_module_names_a_method_or_a_dataset():
    names = [entry.name for entry in registry.list_methods()]
    names += [entry.name for entry in registry.list_datasets() if entry.name not in GENERIC_DATASETS]
    assert "telea" in names and "imagenet" in names  # the check below looks for real names
    hits = [
        f"{path.relative_to(CORE.parent)}: {name!r} in {line!r}"
        for path in _core_files()
        for name in names
        for line in _named(path.read_text(), name)
    ]
    assert not hits, "the core names plugins' methods or datasets:\n" + "\n".join(hits)


def test_the_check_finds_a_name_written_any_way():
    assert _named("use Telea or GLCIC here", "telea") and _named("(glcic)", "glcic")
    assert _named('default="paris-streetview"', "paris-streetview")
    assert not _named("tours and contours", "ours") and not _named("ours_variant", "ours")
