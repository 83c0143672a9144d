"""Classical inpainting methods that need no training and no GPU.

Registered through the ``inpaintbench`` entry-point group exactly as an outside
plugin would be; they make a fresh-machine ``inpaintbench compare`` meaningful
before any learned model is trained.
"""

from inpaintbench import hookimpl

from .biharmonic import Biharmonic
from .mean_fill import MeanFill
from .opencv import NavierStokes, Telea

METHODS = (Telea, NavierStokes, Biharmonic, MeanFill)


@hookimpl
def register_methods(register):
    for method in METHODS:
        register(method)
