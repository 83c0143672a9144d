"""The method contract: what an inpainting method is, as the harness sees it.

A method receives a batch of uint8 RGB images whose hole pixels are zeroed,
and the boolean hole masks, and returns completed uint8 images of the same
shape.  It never sees the ground truth, and whatever it returns outside the
hole is discarded: the harness composites the known pixels back
(:func:`composite`).

Capabilities are class attributes, so the registry can list them without
building the method (which may load weights).  Options are a frozen dataclass
per method, set from the CLI with ``-o key=value``.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import typing
from abc import ABC
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .errors import CheckpointError, InpaintbenchError, MethodOutputError, PluginError


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """Options of a method that has none."""


class Method(ABC):
    """Base class for every inpainting method (built-in or from a plugin)."""

    #: registry name, lower-case with dashes: ``"telea"``, ``"context-encoder"``
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

    def __init__(self, options: Any = None, device: str = "cpu"):
        if device not in self.devices:
            raise InpaintbenchError(
                f"method {self.name!r} does not run on {device!r} (it supports: {', '.join(self.devices)})"
            )
        self.options = options if options is not None else self.Options()
        self.device = device
        self.checkpoint: Path | None = None

    @classmethod
    def pick_device(cls, requested: str) -> str:
        """``requested``, except that ``auto`` means CUDA when the method and the machine both support it."""
        if requested != "auto":
            return requested
        if "cuda" in cls.devices:
            import torch

            if torch.cuda.is_available():
                return "cuda"
        return "cpu"

    # -- what subclasses implement ---------------------------------------------------
    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Complete a batch: images (N, H, W, 3) uint8 with holes zeroed, masks (N, H, W) bool.

        The default loops over :meth:`inpaint_one`; batched methods override this.
        """
        return np.stack([self.inpaint_one(image, mask) for image, mask in zip(images, masks)])

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Complete one image (H, W, 3) uint8 given its hole mask (H, W) bool."""
        raise NotImplementedError(f"{type(self).__name__} implements neither inpaint() nor inpaint_one()")

    def check_input(self, height: int, width: int, masks: np.ndarray) -> None:
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

        E.g. GLCIC with or without its post-processing; empty (nothing printed) by default.
        """
        return ""


class TrainableMethod(Method):
    """A method whose weights come from ``inpaintbench train NAME``.

    Subclasses name their :class:`~inpaintbench.training.TrainingRecipe` in
    ``Recipe``; the engine trains it, and this class loads the exported model
    and runs the recipe's ``complete`` on batches, so a plugin writes its
    inference once.

    ``Recipe`` is best given as a ``"module:ClassName"`` string (the module
    may be relative to the method's package: ``".recipe:OursRecipe"``): a
    recipe imports torch and the networks, and listing methods, building
    ``--help`` or reporting an unknown name must not pay for that.  The class
    is imported by :meth:`recipe_class` on first use; always go through it
    rather than reading ``Recipe``.  A recipe class itself is accepted too.
    """

    trainable: ClassVar[bool] = True
    needs_checkpoint: ClassVar[bool] = True
    batched: ClassVar[bool] = True
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    #: the method's TrainingRecipe subclass (networks, schedule, training step, inference), or
    #: ``"module:ClassName"`` naming it; read it through :meth:`recipe_class`
    Recipe: ClassVar[type | str]
    #: options that only steer inference (e.g. post-processing): the user's value wins over the checkpoint's
    inference_options: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def recipe_class(cls) -> type:
        """The TrainingRecipe subclass named by ``Recipe``, imported on first use."""
        recipe = getattr(cls, "Recipe", None)
        if recipe is None:
            raise PluginError(f"trainable method {cls.name!r} sets no Recipe")
        if not isinstance(recipe, str):
            return recipe
        module_name, colon, class_name = recipe.partition(":")
        if not colon or not module_name or not class_name:
            raise PluginError(f"method {cls.name!r}: Recipe {recipe!r} must look like 'package.module:ClassName'")
        package = getattr(sys.modules.get(cls.__module__), "__package__", None)  # for a relative module name
        try:
            return getattr(importlib.import_module(module_name, package), class_name)
        except (ImportError, AttributeError) as error:
            raise PluginError(f"method {cls.name!r}: cannot import its Recipe {recipe!r}: {error}") from error

    def load_checkpoint(self, path: Path) -> None:
        """Load ``model.pt`` (or ``checkpoint.pt``) from a file or run directory.

        Architecture options come from the checkpoint (they define the weights);
        the options the user passed are replaced by them so results record the
        truth.  Only ``inference_options`` keep the user's values.
        """
        import torch

        from .training import checkpoint

        file = checkpoint.resolve(path)
        payload = checkpoint.read(file, self.name)
        checkpoint.require(payload, file, ("networks",))
        checkpoint.check_finite(payload["networks"], file)
        self.checkpoint = file
        fields = {f.name for f in dataclasses.fields(self.Options)}
        saved = {k: v for k, v in payload.get("options", {}).items() if k in fields and k not in self.inference_options}
        self.options = dataclasses.replace(self.options, **saved)
        self.image_size = int(payload.get("image_size", 128))
        self.trained_on = trained_on(payload)
        self.recipe = self.recipe_class()(self.options, self.image_size)
        networks = self.recipe.build_networks()
        try:
            for name in self.recipe.inference_networks:
                networks[name].load_state_dict(payload["networks"][name])
        except (KeyError, RuntimeError) as error:
            raise CheckpointError(f"checkpoint {file} does not fit method {self.name!r}: {str(error).splitlines()[0][:200]}") from None
        self.networks = {name: networks[name].to(torch.device(self.device)).eval() for name in self.recipe.inference_networks}

    @classmethod
    def parameter_counts(cls, options: Any = None) -> dict[str, int]:
        """Parameters per network, counted without allocating weights (meta device)."""
        import torch

        recipe_cls = cls.recipe_class()
        recipe = recipe_cls(options or cls.Options(), (recipe_cls.image_sizes or (128,))[0])
        with torch.device("meta"):
            networks = recipe.build_networks()
        return {name: sum(p.numel() for p in net.parameters()) for name, net in networks.items()}

    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        import torch

        from .training.engine import predict

        if not hasattr(self, "networks"):
            raise CheckpointError(f"method {self.name!r} has no weights loaded; pass --checkpoint {self.name}=RUN_DIR")
        self.check_image_size(images.shape[1], images.shape[2])
        self.check_masks(masks)
        height, width = images.shape[1:3]
        padded_images, padded_masks = _pad_to_multiple(images, masks, self.SIDE_MULTIPLE if self.recipe.image_sizes is None else 1)
        output = predict(self.recipe, self.networks, padded_images, padded_masks, torch.device(self.device))
        return np.ascontiguousarray(output[:, :height, :width])

    #: a fully convolutional recipe (``image_sizes`` None) runs on sides padded up to a multiple of this
    #: (two stride-2 downsamplings and the matching upsamplings)
    SIDE_MULTIPLE: ClassVar[int] = 4

    def check_image_size(self, height: int, width: int) -> None:
        """The trained size; a fully convolutional recipe (``image_sizes`` None) takes any size."""
        if self.recipe.image_sizes is not None and (height, width) != (self.image_size, self.image_size):
            raise InpaintbenchError(
                f"method {self.name!r} was trained on {self.image_size}x{self.image_size} images, got "
                f"{width}x{height}; run with --image-size {self.image_size}"
            )

    def check_input(self, height: int, width: int, masks: np.ndarray) -> None:
        """Photographs at their own size: refuse, naming what it takes, what a fixed-size model cannot complete."""
        if not hasattr(self, "recipe"):
            return  # no weights: inpaint() says so
        try:
            self.check_image_size(height, width)
            self.check_masks(masks)
        except InpaintbenchError:  # the compare-side messages speak of --image-size and --mask: say it for photographs
            side = self.image_size
            hole = f" with the center {side // 2}x{side // 2} hole" if tuple(self.recipe.masks) == ("center",) else ""
            raise InpaintbenchError(
                f"method {self.name!r} completes only {side}x{side} images{hole} (what it was trained on), not "
                f"this {width}x{height} image and its mask; use a method that takes any size and hole, e.g. "
                "patchmatch, telea or glcic"
            ) from None

    def check_masks(self, masks: np.ndarray) -> None:
        """Refuse holes the model cannot fill: a model trained only on the center hole predicts only that square."""
        if tuple(self.recipe.masks) == ("center",):
            from .training.gan import require_center_masks

            require_center_masks(self.name, masks)


def _pad_to_multiple(images: np.ndarray, masks: np.ndarray, multiple: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad the bottom and right edges (mirrored, hole and all) up to sides that are multiples of ``multiple``."""
    height, width = images.shape[1:3]
    extra = (-height % multiple, -width % multiple)
    if extra == (0, 0):
        return images, masks
    pad = ((0, 0), (0, extra[0]), (0, extra[1]))
    return np.pad(images, (*pad, (0, 0)), mode="symmetric"), np.pad(masks, pad, mode="symmetric")


def trained_on(payload: dict[str, Any]) -> dict[str, Any]:
    """Where and how a checkpoint's weights were trained, recorded with every result.

    ``images_seen`` (steps done x global batch) is what makes learned rows
    comparable: methods train with different batches, so equal steps are not
    equal training.  ``resize_to`` and ``flip`` say which crops they saw.
    """
    config = payload.get("config", {})
    steps, batch = payload.get("step"), config.get("batch_size")
    return {
        "dataset": config.get("dataset"),
        "split": config.get("split"),
        "manifest": payload.get("manifest"),
        "steps": steps,
        "images_seen": steps * batch if isinstance(steps, int) and isinstance(batch, int) else None,
        "resize_to": config.get("resize_to"),
        "flip": config.get("flip"),
    }


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
