"""A method whose weights come from ``inpaintbench train``: the inference half of a trainable method.

:class:`TrainableMethod` loads the model the engine exported and runs the
recipe's ``complete`` on batches, so a plugin writes its inference once.
This module stays free of torch at import (the class is public through
``inpaintbench`` and listed by ``inpaintbench methods``); torch, the recipe
and the networks are imported when weights are loaded or run.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import CheckpointError, InpaintbenchError, PluginError
from ..methods import Method

if TYPE_CHECKING:
    import torch

    from .recipe import TrainingRecipe


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
    Recipe: ClassVar[type[TrainingRecipe] | str]
    #: options that only steer inference (e.g. post-processing): the user's value wins over the checkpoint's
    inference_options: ClassVar[tuple[str, ...]] = ()
    #: options small enough to train a couple of steps in a test (``-o`` strings; the registry-wide
    #: tests train every trainable method with them); empty: the defaults are small enough
    test_options: ClassVar[dict[str, str]] = {}

    @classmethod
    def recipe_class(cls) -> type[TrainingRecipe]:
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

        from . import checkpoint

        file = checkpoint.resolve(path)
        payload = checkpoint.read(file, self.name)
        checkpoint.require(payload, file, ("networks",))
        checkpoint.check_finite(payload["networks"], file)
        self.checkpoint = file
        fields = {f.name for f in dataclasses.fields(self.Options)}
        saved = {k: v for k, v in payload.get("options", {}).items() if k in fields and k not in self.inference_options}
        self.options = dataclasses.replace(self.options, **saved)
        self.image_size = int(payload.get("image_size", 128))
        self.trained_on = _trained_on(payload)
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

        if not hasattr(self, "networks"):
            raise CheckpointError(f"method {self.name!r} has no weights loaded; pass --checkpoint {self.name}=RUN_DIR")
        self.check_image_size(images.shape[1], images.shape[2])
        self.check_masks(masks)
        height, width = images.shape[1:3]
        multiple = self.recipe.side_multiple if self.recipe.image_sizes is None else 1
        padded_images, padded_masks = _pad_to_multiple(images, masks, multiple)
        output = predict(self.recipe, self.networks, padded_images, padded_masks, torch.device(self.device))
        return np.ascontiguousarray(output[:, :height, :width])

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
                f"this {width}x{height} image and its mask; use a method that takes any size and hole, "
                f"{_suggest(self.alternatives)}"
            ) from None

    def check_masks(self, masks: np.ndarray) -> None:
        """Refuse holes the model cannot fill: a model trained only on the center hole predicts only that square."""
        if tuple(self.recipe.masks) == ("center",):
            from .gan import require_center_masks

            require_center_masks(self.name, masks)


def _suggest(alternatives: tuple[str, ...]) -> str:
    """``e.g. a, b or c`` from a method's own suggestions, else where to look."""
    if not alternatives:
        return "see `inpaintbench methods`"
    names = list(alternatives)
    return "e.g. " + (f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0])


def _pad_to_multiple(images: np.ndarray, masks: np.ndarray, multiple: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad the bottom and right edges (mirrored, hole and all) up to sides that are multiples of ``multiple``."""
    height, width = images.shape[1:3]
    extra = (-height % multiple, -width % multiple)
    if extra == (0, 0):
        return images, masks
    pad = ((0, 0), (0, extra[0]), (0, extra[1]))
    return np.pad(images, (*pad, (0, 0)), mode="symmetric"), np.pad(masks, pad, mode="symmetric")


def _trained_on(payload: dict[str, Any]) -> dict[str, Any]:
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


def predict(recipe: TrainingRecipe, networks: dict, masked: np.ndarray, masks: np.ndarray, device: torch.device) -> np.ndarray:
    """Inference shared by sample grids and the evaluation method: uint8 in, composited uint8 out."""
    import torch

    from .data import to_model_input, to_uint8

    images, hole = to_model_input(torch.from_numpy(masked), torch.from_numpy(masks), device)
    for network in networks.values():
        network.eval()
    with torch.inference_mode():
        completed = recipe.complete(networks, images * (1 - hole), hole)
    output = to_uint8(completed)
    return np.where(masks[..., None], output, masked).astype(np.uint8)
