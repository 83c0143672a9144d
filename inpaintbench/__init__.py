"""inpaintbench: train, run and compare image-inpainting methods.

The public surface for plugin authors is small: :class:`Method` (and
:class:`TrainableMethod`), :class:`Dataset`, and the ``hookimpl`` marker.
"""

from .datasets.base import Dataset
from .hookspecs import hookimpl
from .methods import Method, NoOptions, TrainableMethod
from .protocol import Protocol

__all__ = ["Dataset", "Method", "NoOptions", "Protocol", "TrainableMethod", "hookimpl"]
__version__ = "0.1.0"
