"""Every extension point of inpaintbench, in one place.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names
match the specs below.  Built-in methods and datasets use these same hooks; an
outside package registers its module under the ``inpaintbench`` entry-point group
and needs nothing else.  See docs/plugins.md.
"""

from __future__ import annotations

import pluggy

PROJECT = "inpaintbench"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_methods(register):
    """Register inpainting methods.

    Call ``register(MethodClass)`` once per :class:`inpaintbench.Method` subclass
    this plugin provides.  Registering a name twice is an error.
    """


@hookspec
def register_datasets(register):
    """Register dataset loaders.

    Call ``register(DatasetClass)`` once per :class:`inpaintbench.Dataset` subclass.
    """
