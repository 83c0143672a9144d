"""GLCIC (Iizuka, Simo-Serra & Ishikawa 2017, "Globally and Locally Consistent Image Completion").

One module per concern: :mod:`.networks` (layers), :mod:`.patches` (where the
local discriminator looks), :mod:`.recipe` (options, schedule, training step),
:mod:`.postprocess` (Telea + Poisson blending), :mod:`.method` (inference).
"""

from inpaintbench import hookimpl

from .method import Glcic


@hookimpl
def register_methods(register):
    register(Glcic)
