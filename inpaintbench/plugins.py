"""The plugin manager: discovers plugins once, lazily, and never lets one break the rest.

Plugins come from the ``inpaintbench`` entry-point group (the built-in methods
under ``plugins/`` are registered there exactly like an outside package) plus
the core's default plugins (the built-in dataset loaders, scorers and mask
protocols).  A plugin that fails to import is recorded with its distribution,
entry point and error, and shown by ``inpaintbench methods``; the other plugins
still load.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.metadata
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "inpaintbench"

#: core modules registered through the same hooks as outside plugins: the built-in
#: dataset loaders, scorers and mask protocols (each light to import: listings load them)
DEFAULT_PLUGINS = ("inpaintbench.datasets", "inpaintbench.scoring", "inpaintbench.mask_protocols")


@dataclasses.dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used, and why."""

    plugin: str
    stage: str  # "import", "register" or "duplicate"
    error: str

    def __str__(self) -> str:
        return f"{self.plugin!r} failed to {self.stage}: {self.error}"


@dataclasses.dataclass
class _State:
    manager: pluggy.PluginManager
    failures: list[PluginFailure]
    #: what other modules derive from the loaded plugins (the registry's tables), dropped with them
    derived: dict[str, Any] = dataclasses.field(default_factory=dict)


_state: _State | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The one plugin manager, built on first use."""
    return _load().manager


def plugin_failures() -> list[PluginFailure]:
    """Plugins that failed so far (import and registration failures)."""
    return _load().failures


def record_failure(failure: PluginFailure) -> None:
    """Keep a failure found later (while registering) beside the import failures."""
    _load().failures.append(failure)



def derived() -> dict[str, Any]:
    """A cache for what is computed from the loaded plugins; :func:`reset` empties it with them."""
    return _load().derived


def reset() -> None:
    """Forget every loaded plugin and all derived from them (tests use this after registering throw-away plugins)."""
    global _state
    _state = None


def _load() -> _State:
    global _state
    if _state is None:
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        failures: list[PluginFailure] = []
        for module_name in DEFAULT_PLUGINS:
            manager.register(importlib.import_module(module_name), name=module_name)
        for entry_point in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
        ):
            label = _label(entry_point)
            if manager.has_plugin(label):
                continue
            try:
                plugin = entry_point.load()
                manager.register(plugin, name=label)
            except Exception as error:  # a broken third-party plugin must not break the rest
                failures.append(PluginFailure(label, "import", f"{type(error).__name__}: {error}"))
                continue
            unknown = _unknown_hooks(manager, plugin)
            if unknown:  # a misspelt hook would never run: the plugin is reported and left out, not half-used
                manager.unregister(plugin)
                failures.append(PluginFailure(label, "register", unknown))
        _state = _State(manager, failures)
    return _state


def _unknown_hooks(manager: pluggy.PluginManager, plugin: object) -> str:
    """Why ``plugin`` implements a hook that inpaintbench does not define ("" when it does not).

    pluggy's ``check_pending`` raises for the first such hook of any plugin, which would
    stop every command; checking each plugin on its own names the one to fix.
    """
    known = [name for name, caller in vars(manager.hook).items() if getattr(caller, "spec", None) is not None]
    problems = []
    for caller in manager.get_hookcallers(plugin) or []:
        if caller.spec is None and any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls()):
            close = difflib.get_close_matches(caller.name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (hooks: {', '.join(sorted(known))})"
            problems.append(f"unknown hook {caller.name!r}{hint}")
    return "; ".join(problems)


def _label(entry_point: importlib.metadata.EntryPoint) -> str:
    """``distribution:entry-point`` so an error names the package to fix or uninstall."""
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name}:{entry_point.name}" if dist is not None else entry_point.name
