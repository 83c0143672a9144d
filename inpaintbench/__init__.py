"""inpaintbench: train, run and compare image-inpainting methods.

The public surface for plugin authors is small: :class:`Method` (and
:class:`TrainableMethod`), :class:`Dataset`, and the ``hookimpl`` marker.
"""

import os

# OpenMP threads that wait by spinning collapse when another process shares the cores: the
# exemplar-based method took 44x longer per image beside one busy loop per core (2 cores), against 2x when waiting threads
# sleep.  The policy is read once, when torch loads OpenMP, so it is set before anything imports
# torch; a value the user exported wins (OMP_WAIT_POLICY=ACTIVE for a dedicated machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .datasets.base import Dataset  # noqa: E402  (after the OpenMP policy, on purpose)
from .hookspecs import hookimpl  # noqa: E402
from .mask_protocols import MaskProtocol  # noqa: E402
from .methods import Method, NoOptions  # noqa: E402
from .protocol import Protocol  # noqa: E402
from .scoring import ScoreColumn, Scorer  # noqa: E402
from .training.method import TrainableMethod  # noqa: E402  (torch only once weights load)

__all__ = ["Dataset", "MaskProtocol", "Method", "NoOptions", "Protocol", "ScoreColumn", "Scorer", "TrainableMethod", "hookimpl"]
__version__ = "0.1.0"
