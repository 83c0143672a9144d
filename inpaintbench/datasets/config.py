"""Where datasets live on this machine, and where derived data may be cached.

A dataset root comes from, in order: the ``--root`` option, the dataset's
environment variable (:func:`~inpaintbench.datasets.base.env_var`), then the
user's config file.  The answer carries its source so that run records and
error messages can say which setting was used.

Config file (TOML), ``$INPAINTBENCH_CONFIG`` or ``~/.config/inpaintbench/config.toml``::

    [datasets.paris-streetview]
    root = "~/data/paris"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from .base import env_var

CONFIG_ENV = "INPAINTBENCH_CONFIG"
CACHE_ENV = "INPAINTBENCH_CACHE"


def config_path() -> Path:
    """The config file: ``$INPAINTBENCH_CONFIG``, else ``~/.config/inpaintbench/config.toml``.

    ``$XDG_CONFIG_HOME`` replaces ``~/.config`` when set, as for every XDG-aware tool.
    """
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base).expanduser() / "inpaintbench" / "config.toml"


def load_config() -> dict[str, Any]:
    """The parsed config file, or ``{}`` when there is none.

    Read on every call (it is tiny) so that an edit takes effect without restarting.
    """
    path = config_path()
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise DatasetError(f"config file {path} is not valid TOML: {error}; fix or remove it") from None
    except OSError as error:
        raise DatasetError(f"cannot read config file {path}: {error.strerror or error}") from None


def resolve_root(name: str, cli_root: str | os.PathLike[str] | None) -> tuple[Path | None, str]:
    """The root of dataset ``name`` and where it came from.

    Returns ``(path, source)`` with source ``"--root"``, the environment variable's
    name, or ``"config <file>"``; ``(None, "not set")`` when no setting names one.
    A relative root in the config file is taken relative to that file.
    """
    if cli_root is not None and str(cli_root) != "":
        return Path(cli_root).expanduser(), "--root"
    variable = env_var(name)
    if os.environ.get(variable):
        return Path(os.environ[variable]).expanduser(), variable
    path = config_path()
    section = load_config().get("datasets", {})
    if not isinstance(section, dict):
        raise DatasetError(f"config file {path}: 'datasets' must be a table, like [datasets.{name}]")
    entry = section.get(name)
    if entry is None:
        return None, "not set"
    if not isinstance(entry, dict) or not isinstance(entry.get("root"), str):
        raise DatasetError(f'config file {path}: [datasets.{name}] needs a string key root = "/path/to/{name}"')
    root = Path(entry["root"]).expanduser()
    if not root.is_absolute():
        root = path.parent / root
    return root, f"config {path}"


def cache_dir() -> Path:
    """Where derived data (the built ``sample`` dataset) is kept.

    ``$INPAINTBENCH_CACHE``, else ``$XDG_CACHE_HOME/inpaintbench``, else
    ``~/.cache/inpaintbench``.  Not created here: writers create what they need.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "inpaintbench"
    return Path.home() / ".cache" / "inpaintbench"
