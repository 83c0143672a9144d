"""Mask protocols: what a ``--mask`` value means, as a registered class.

``--mask NAME`` or ``--mask NAME:ARG`` names a :class:`MaskProtocol`
registered through the ``register_mask_protocols`` hook; the built-in
``center``, ``random-box``, ``irregular`` and ``files`` register below through
that same hook.  A protocol parses its argument, gives the text that
``Protocol.key`` and run.json record, and draws an item's hole from a generator
seeded by (seed, item, protocol) only, so every method sees the same hole.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .errors import DuplicateNameError, InpaintbenchError, PluginError, UnknownNameError
from .hookspecs import hookimpl
from .mask_files import benchmark_mask, mask_folder
from .masks import IRREGULAR_BINS, center_mask, irregular_mask, item_rng, random_box_mask

if TYPE_CHECKING:
    from .protocol import Protocol


class MaskProtocol:
    """Base class of every mask protocol (built-in or from a plugin); an instance is one parsed ``--mask`` value.

    Subclasses set the class attributes, parse their argument in ``__init__``
    (after ``super().__init__(argument)``) and implement :meth:`draw`.  A
    protocol whose masks belong to items rather than to a random draw (like
    ``files``) overrides :meth:`item_mask` instead and cannot be used for training.
    """

    #: registry name, the word before ``:`` in ``--mask``: lower-case, e.g. ``"random-box"``
    name: ClassVar[str] = ""
    #: one line for ``inpaintbench masks protocols``
    summary: ClassVar[str] = ""
    #: how the argument after ``:`` is written (``"LOW-HIGH"``, ``"DIR"``); ``""`` when the protocol takes none
    argument: ClassVar[str] = ""
    #: what the argument is, for listings and for the error when a required one is missing
    argument_help: ClassVar[str] = ""
    #: refuse ``--mask NAME`` without an argument
    argument_required: ClassVar[bool] = False
    #: hole-area bins (fractions of the image, ``[low, high)``) of the by-area table; ``()`` for none
    area_bins: ClassVar[tuple[tuple[float, float], ...]] = ()

    def __init__(self, argument: str | None = None) -> None:
        """Check ``argument`` (the text after ``:``, ``None`` without a ``:``); subclasses parse it after this."""
        if argument and not self.argument:
            raise InpaintbenchError(f"mask {self.name + ':' + argument!r}: {self.name!r} takes no argument (write --mask {self.name})")
        if not argument and self.argument_required:
            raise InpaintbenchError(
                f"mask {self.name!r} needs {self.argument_help or 'an argument'}: --mask {self.name}:{self.argument}"
            )
        self.value = argument

    @property
    def text(self) -> str:
        """The ``--mask`` value as recorded (``Protocol.key``, run.json): as written, unless a protocol normalises it.

        The text seeds every item's mask, so two spellings are two protocols;
        a subclass that normalises its argument sets ``self.value`` in ``__init__``.
        """
        return self.name if self.value is None else f"{self.name}:{self.value}"

    @property
    def label(self) -> str:
        """The protocol's part of a default results directory name: its text as one file-name component.

        Every character outside ``[A-Za-z0-9._+-]`` becomes ``_`` (``irregular:20-30`` ->
        ``irregular_20-30``), so an argument that is a path cannot create nested folders.
        """
        return re.sub(r"[^A-Za-z0-9._+-]", "_", self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text!r}>"

    @classmethod
    def draws_masks(cls) -> bool:
        """Whether the protocol draws masks from a generator (and so can be used for training)."""
        return cls.draw is not MaskProtocol.draw

    def draw(self, rng: np.random.Generator, size: int, hole_size: int) -> np.ndarray:
        """One (size, size) bool hole (True = hole) drawn from ``rng`` alone.

        ``hole_size`` is the benchmark's center-hole side (``center`` uses it;
        most protocols ignore it).  Evaluation calls this with a generator
        seeded by (seed, item, protocol); training with a fresh one per sample.
        """
        raise InpaintbenchError(
            f"mask protocol {self.name!r} does not draw masks from a seed: its masks belong to items, "
            "so it cannot be used for training"
        )

    def item_mask(
        self, protocol: Protocol, item_id: str, seed: int, source_shape: tuple[int, int] | None = None
    ) -> np.ndarray:
        """The item's hole at the benchmark's size, the same for every method.

        Drawn from :func:`inpaintbench.masks.item_rng` of (seed, item, ``protocol.key``);
        ``source_shape`` (the raw image's height and width) is for protocols
        whose masks come with the items.
        """
        rng = item_rng(seed, item_id, protocol.key)
        return self._checked(self.draw(rng, protocol.image_size, protocol.center_hole), protocol.image_size)

    def training_mask(self, rng: np.random.Generator, size: int, hole_size: int) -> np.ndarray:
        """A hole for one training sample (fresh ``rng`` per sample); refused by protocols that do not draw."""
        return self._checked(self.draw(rng, size, hole_size), size)

    def _checked(self, mask: np.ndarray, size: int) -> np.ndarray:
        """``mask`` when it is a (size, size) bool array; otherwise an error naming the protocol."""
        if isinstance(mask, np.ndarray) and mask.shape == (size, size) and mask.dtype == np.bool_:
            return mask
        shape, dtype = getattr(mask, "shape", None), getattr(mask, "dtype", None)  # what a plugin drew may not be an array
        raise PluginError(
            f"mask protocol {self.name!r} drew {type(mask).__name__} {shape} {dtype}, expected a ({size}, {size}) bool array"
        )


def parse_mask(text: str) -> MaskProtocol:
    """The registered protocol of a ``--mask`` value, ``NAME`` or ``NAME:ARG``; an unknown name suggests the closest."""
    from .registry import mask_protocol_class

    name, colon, argument = text.partition(":")
    return mask_protocol_class(name)(argument if colon else None)


def area_bins_of(mask_text: str) -> tuple[tuple[float, float], ...]:
    """The hole-area bins of a recorded ``--mask`` value; ``()`` when its protocol is no longer installed.

    Reading stored results must not fail because the plugin that drew them
    is gone: its run simply has no by-area table.
    """
    from .registry import mask_protocol_class

    try:
        return tuple(mask_protocol_class(mask_text.partition(":")[0]).area_bins)
    except (UnknownNameError, DuplicateNameError):
        return ()


def area_label(low: float, high: float) -> str:
    """How a bin is named in tables: ``"20-30 %"``."""
    return f"{low * 100:g}-{high * 100:g} %"


# --- the built-in protocols --------------------------------------------------------------


class Center(MaskProtocol):
    name = "center"
    summary = "one square hole in the middle, half the image side unless set (the paper's 64x64 in 128x128)"

    def draw(self, rng, size, hole_size):
        return center_mask(size, hole_size)


class RandomBox(MaskProtocol):
    name = "random-box"
    summary = "one box with sides in [3/8, 1/2] of the image, anywhere inside it (Iizuka et al. 2017)"

    def draw(self, rng, size, hole_size):
        return random_box_mask(size, rng)


class Irregular(MaskProtocol):
    name = "irregular"
    summary = "free-form brush strokes (DeepFill v2), the area in a bin drawn per item or a fixed one"
    argument = "LOW-HIGH"
    argument_help = "a fixed area bin in percent, e.g. irregular:20-30"
    area_bins = IRREGULAR_BINS

    def __init__(self, argument: str | None = None) -> None:
        super().__init__(argument)
        self.area_bin: tuple[float, float] | None = None
        if argument:
            try:
                low, high = (float(part) / 100 for part in argument.split("-"))
            except ValueError:
                raise InpaintbenchError(f"mask {self.text!r}: write the area bin in percent, e.g. irregular:20-30") from None
            if not 0 < low < high <= 0.9:
                raise InpaintbenchError(f"mask {self.text!r}: the area bin must satisfy 0 < low < high <= 90 (percent)")
            self.area_bin = (low, high)

    def draw(self, rng, size, hole_size):
        area_bin = self.area_bin or self.area_bins[rng.integers(len(self.area_bins))]
        return irregular_mask(size, area_bin, rng)


class Files(MaskProtocol):
    name = "files"
    summary = "your own mask files (white = hole), paired with the images by name (docs/own-data.md)"
    argument = "DIR"
    argument_help = "the folder of mask images"
    argument_required = True

    def __init__(self, argument: str | None = None) -> None:
        super().__init__(argument)
        assert argument is not None  # argument_required: the base class refused a missing one
        # recorded absolutely, so a results directory means the same folder from anywhere
        self.value = self.folder = str(Path(argument).expanduser().resolve())
        mask_folder(self.folder)  # fail early when it is not a folder of masks

    @property
    def label(self) -> str:
        """``files-<folder name>``: the whole absolute path would make a long, unreadable directory name."""
        return f"files-{Path(self.folder).name}"

    def item_mask(self, protocol, item_id, seed, source_shape=None):
        """The item's mask file, resized and cropped like the image when drawn on the photograph."""
        if source_shape is None:
            raise InpaintbenchError("masks from files need the image's size (make_mask(..., source_shape=...))")
        return benchmark_mask(self.folder, item_id, source_shape, protocol.image_size, protocol.prepare)


BUILTIN_MASK_PROTOCOLS: tuple[type[MaskProtocol], ...] = (Center, RandomBox, Irregular, Files)


@hookimpl
def register_mask_protocols(register):
    """Register the built-in protocols."""
    for protocol in BUILTIN_MASK_PROTOCOLS:
        register(protocol)
