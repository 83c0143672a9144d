"""The method contract: what an inpainting method is, as the harness sees it.

A method receives a batch of uint8 RGB images whose hole pixels are zeroed,
and the boolean hole masks, and returns completed uint8 images of the same
shape.  It never sees the ground truth, and whatever it returns outside the
hole is discarded: the harness composites the known pixels back
(:func:`composite`).

Capabilities are class attributes, so the registry can list them without
building the method (which may load weights).  Options are a frozen dataclass
per method, set from the CLI with ``-o key=value``.

Methods trained by ``inpaintbench train`` subclass
:class:`~inpaintbench.training.method.TrainableMethod`, which lives with the
training code: this contract imports neither torch nor the engine.
"""

from __future__ import annotations

import dataclasses
import typing
from abc import ABC
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .errors import CheckpointError, InpaintbenchError, MethodOutputError


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """Options of a method that has none."""


class Method(ABC):
    """Base class for every inpainting method (built-in or from a plugin)."""

    #: registry name, lower-case with dashes: ``"my-method"``
    name: ClassVar[str]
    #: one line for ``inpaintbench methods``
    summary: ClassVar[str] = ""
    #: True when the method cannot run without trained weights
    needs_checkpoint: ClassVar[bool] = False
    #: True when ``inpaintbench train NAME`` can produce those weights
    trainable: ClassVar[bool] = False
    #: True when :meth:`inpaint` processes a whole batch at once (GPU models);
    #: False means the base class loops over :meth:`inpaint_one`
    batched: ClassVar[bool] = False
    #: devices the method can run on
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    #: the method's options dataclass (frozen); its defaults are the paper's values
    Options: ClassVar[type] = NoOptions
    #: True for a quick, training-free method worth a row beside every trained model:
    #: ``inpaintbench train`` ends by printing a ``compare`` command with these rows
    reference_row: ClassVar[bool] = False
    #: methods to suggest when this one refuses an input (a model that completes only the size
    #: and hole it was trained on); empty: the message points to ``inpaintbench methods``
    alternatives: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: Any = None, device: str = "cpu"):
        if device not in self.devices:
            raise InpaintbenchError(
                f"method {self.name!r} does not run on {device!r} (it supports: {', '.join(self.devices)})"
            )
        self.options = options if options is not None else self.Options()
        self.device = device
        self.checkpoint: Path | None = None

    # -- what subclasses implement ---------------------------------------------------
    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Complete a batch: images (N, H, W, 3) uint8 with holes zeroed, masks (N, H, W) bool.

        The default loops over :meth:`inpaint_one`; batched methods override this.
        """
        return np.stack([self.inpaint_one(image, mask) for image, mask in zip(images, masks)])

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Complete one image (H, W, 3) uint8 given its hole mask (H, W) bool."""
        raise NotImplementedError(f"{type(self).__name__} implements neither inpaint() nor inpaint_one()")

    def check_input(self, height: int, width: int, masks: np.ndarray) -> None:  # noqa: B027 -- optional hook, empty by design
        """Raise :class:`InpaintbenchError` naming what the method accepts when it cannot take this size or hole.

        Called before :meth:`inpaint` where images come at any size and with
        any hole (``inpaintbench inpaint``); the default takes anything.
        """

    def load_checkpoint(self, path: Path) -> None:
        """Load trained weights; methods with ``needs_checkpoint`` override this."""
        raise CheckpointError(f"method {self.name!r} takes no checkpoint (got {path})")

    def describe_options(self) -> dict[str, Any]:
        """The options in effect, recorded with every result."""
        return dataclasses.asdict(self.options)

    def variant(self) -> str:
        """A few words that tables print after the method's name when an option changes what it is.

        E.g. a model with or without its post-processing; empty (nothing printed) by default.
        """
        return ""


def composite(masked: np.ndarray, output: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Known pixels from the method's input, hole pixels from its output."""
    return np.where(masks[..., None], output, masked)


def check_output(method_name: str, output: Any, images: np.ndarray) -> np.ndarray:
    """Reject an output that is not a completed batch, with a message naming the method."""
    if not isinstance(output, np.ndarray):
        raise MethodOutputError(f"method {method_name!r} returned {type(output).__name__}, expected a numpy array")
    if output.shape != images.shape:
        raise MethodOutputError(
            f"method {method_name!r} returned shape {output.shape}, expected {images.shape}"
        )
    if output.dtype != np.uint8:
        raise MethodOutputError(f"method {method_name!r} returned dtype {output.dtype}, expected uint8")
    return output


def parse_options(method_cls: type[Method], pairs: dict[str, str]) -> Any:
    """Build a method's Options from ``key=value`` strings, converting by field type."""
    fields = {f.name: f for f in dataclasses.fields(method_cls.Options)}
    hints = typing.get_type_hints(method_cls.Options)
    values: dict[str, Any] = {}
    for key, raw in pairs.items():
        attr = key.replace("-", "_")
        if attr not in fields:
            known = ", ".join(fields) or "none"
            raise InpaintbenchError(f"method {method_cls.name!r} has no option {key!r} (options: {known})")
        values[attr] = _convert(method_cls.name, key, raw, hints[attr])
    return method_cls.Options(**values)


def _convert(method_name: str, key: str, raw: str, kind: Any) -> Any:
    """Turn the CLI string for one option into the field's declared type."""
    try:
        if kind is bool:
            lowered = raw.lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(raw)
            return lowered in {"true", "1", "yes"}
        if kind in (int, float, str):
            return kind(raw)
        return raw
    except ValueError:
        raise InpaintbenchError(
            f"method {method_name!r}: option {key}={raw!r} is not a valid {getattr(kind, '__name__', kind)}"
        ) from None
