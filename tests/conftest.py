"""Shared test setup: keep every test away from the developer's own config, cache and data."""

from __future__ import annotations

import os
import re

import pytest

#: environment variables a developer may have set that would change what tests see
_ISOLATED = re.compile(r"^(INPAINTBENCH_.*|XDG_CACHE_HOME|XDG_CONFIG_HOME)$")


@pytest.fixture(autouse=True, scope="session")
def isolated_environment(tmp_path_factory):
    """A private cache and no config file or dataset roots for the whole session."""
    saved = {name: value for name, value in os.environ.items() if _ISOLATED.match(name)}
    for name in saved:
        del os.environ[name]
    home = tmp_path_factory.mktemp("inpaintbench-env")
    os.environ["INPAINTBENCH_CACHE"] = str(home / "cache")
    os.environ["INPAINTBENCH_CONFIG"] = str(home / "no-config.toml")
    yield
    for name in [name for name in os.environ if _ISOLATED.match(name)]:
        del os.environ[name]
    os.environ.update(saved)


@pytest.fixture
def fresh_plugins():
    """The plugin manager with the registries rebuilt before and after the test: register throw-away plugins on it."""
    from inpaintbench import plugins

    plugins.reset()
    yield plugins.plugin_manager()
    plugins.reset()


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """A click runner working in the test's own folder, 200 columns wide so tables and messages are not wrapped."""
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    return CliRunner(env={"COLUMNS": "200"})
