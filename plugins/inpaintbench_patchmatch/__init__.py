"""PatchMatch inpainting (Barnes et al. 2009) inside coarse-to-fine EM completion (Wexler et al. 2007).

Modules: ``pyramid`` (hole-aware pyramid and the coarsest level's smooth fill),
``nnf`` (vectorised PatchMatch fields), ``completion`` (EM and voting),
``schedule`` (its parameters, importable without torch), ``method`` (options
and the registered Method).  Registered through the
``inpaintbench`` entry-point group like any outside plugin.
"""

from inpaintbench import hookimpl

from .method import PatchMatch, PatchMatchOptions

__all__ = ["PatchMatch", "PatchMatchOptions"]


@hookimpl
def register_methods(register):
    register(PatchMatch)
