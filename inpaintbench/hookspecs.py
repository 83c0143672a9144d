"""Every extension point of inpaintbench, in one place.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names
match the specs below.  Every built-in (methods, datasets, scorers, mask
protocols) uses these same hooks; an outside package registers its module under
the ``inpaintbench`` entry-point group and needs nothing else.  See docs/plugins.md.
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


@hookspec
def register_scorers(register):
    """Register scorers: what the tables, CSV and bootstrap report per completed image.

    Call ``register(ScorerClass)`` once per :class:`inpaintbench.Scorer`
    subclass.  The built-in PSNR / SSIM / L1 scorer registers through this hook.
    """


@hookspec
def register_mask_protocols(register):
    """Register hole-mask protocols, the values ``--mask`` takes.

    Call ``register(ProtocolClass)`` once per :class:`inpaintbench.MaskProtocol`
    subclass.  The built-in ``center``, ``random-box``, ``irregular`` and
    ``files`` protocols register through this hook.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``inpaintbench`` command line.

    ``cli`` is the top-level :class:`click.Group`; add commands or whole groups
    with ``@cli.command()`` / ``@cli.group()``.  A command that would replace
    an existing one is refused and the plugin reported.  Keep the module that
    defines commands light (click only): it is imported for ``--help``.
    """
