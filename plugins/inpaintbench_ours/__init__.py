"""The paper's model: a context encoder with a 1x1 convolution and a 4000-d bottleneck,
trained against a local and a global discriminator with a three-phase curriculum.

One module per concern: :mod:`.networks` (layers, as docs/methods.md lists them),
:mod:`.options` (what ``-o`` sets, imported without torch),
:mod:`.recipe` (schedule, training step), :mod:`.method` (inference).
"""

from inpaintbench import hookimpl

from .method import Ours


@hookimpl
def register_methods(register):
    register(Ours)
