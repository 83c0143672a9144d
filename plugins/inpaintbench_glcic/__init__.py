"""GLCIC (Iizuka, Simo-Serra & Ishikawa 2017, "Globally and Locally Consistent Image Completion").

One module per concern: :mod:`.networks` (layers), :mod:`.patches` (where the
local discriminator looks), :mod:`.options` (what ``-o`` sets, imported without
torch), :mod:`.recipe` (schedule, training step), :mod:`.postprocess` (Telea +
Poisson blending), :mod:`.method` (inference).

Deviations from the paper and the authors' release (docs/methods.md says why):
128x128 images with a 64x64 local patch (the paper: 256 / 128), so both
discriminator stacks end at 2x2x512; one 1.25x resize before cropping instead
of a random 1-1.5x; the local patch centred on the hole and clamped to the
image, at the same place for real and completed images; a ReLU after each
FC-1024; the non-saturating GAN loss, α on the completion network's term
only; the hole MSE averaged over hole pixels in [0, 1]; the mean pixel of the
user's training split, not Places2's; biases kept before batch norm (as the
released model); PyTorch's default initialisation; the Poisson clone centred
for OpenCV 4.
"""

from inpaintbench import hookimpl

from .method import Glcic


@hookimpl
def register_methods(register):
    register(Glcic)
