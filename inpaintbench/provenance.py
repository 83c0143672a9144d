"""What a result came from: software versions and file hashes, recorded in run.json."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
from collections.abc import Mapping
from pathlib import Path

_PACKAGES = ("inpaintbench", "numpy", "scikit-image", "scipy", "torch", "pandas", "pluggy")


def versions() -> dict[str, str]:
    """Python and the installed versions of the packages that shape the numbers."""
    import cv2

    found = {"python": platform.python_version(), "opencv": cv2.__version__}
    for package in _PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def distribution_of(cls: type) -> str | None:
    """``"name version"`` of the installed distribution that ships ``cls`` (a method's plugin)."""
    top_level = cls.__module__.split(".")[0]
    names = _packages_distributions().get(top_level) or []
    for name in names:
        try:
            return f"{name} {importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    """Top-level module -> distributions; scanning every installed package takes ~0.1 s, so once."""
    return importlib.metadata.packages_distributions()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, or of every file under a directory (sorted by relative path)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\x00")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
