"""Throw-away plugins registered in-process on the plugin manager (with the ``fresh_plugins`` fixture), as datasette's tests do."""

from __future__ import annotations

from inpaintbench import hookimpl


def registering(hook: str, *classes: type, error: Exception | None = None) -> object:
    """A plugin whose ``hook`` (``register_methods``, ``register_scorers``, ...) registers ``classes``, or raises ``error``."""

    def implementation(self, register):
        if error is not None:
            raise error
        for cls in classes:
            register(cls)

    return type(f"Throwaway-{hook}", (), {hook: hookimpl(implementation)})()
