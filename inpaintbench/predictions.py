"""Scoring completed images made elsewhere: a folder of predictions as a row of the table.

``compare --predictions lama=DIR`` reads, for each item, the file paired with
it in DIR (names as :mod:`inpaintbench.pairing` matches them: what ``masks
export`` wrote, with any image extension, or LaMa's ``*_mask.png``) and scores
it exactly as a method's output: the known pixels are pasted back from the
input, the same scorers, pairing and bootstrap apply.  A missing, unreadable or
wrongly sized file is reported by name and leaves that item out of the row;
it is tried again on a rerun, so files can be added later.

This is not a plugin: it is built by the harness from a folder, reads files by
item, and never sees the ground truth either.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from .errors import InpaintbenchError
from .images import read_image
from .methods import Method
from .pairing import CompanionFolder


class PredictionFolder(Method):
    """Completed images in a folder, one per item, under a row label given by the user."""

    name: ClassVar[str] = "predictions"
    summary: ClassVar[str] = "completed images produced outside inpaintbench"

    def __init__(self, label: str, folder: Path):
        super().__init__()
        check_label(label)
        self.name = label  # type: ignore[misc]  # the row label, per instance
        self.folder = Path(folder).expanduser().resolve()
        self.files = CompanionFolder(self.folder, f"prediction ({label})")

    def collect(self, item_ids: list[str], shape: tuple[int, int, int]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """The predictions of ``item_ids`` that exist and have ``shape``, and why each other one is missing."""
        found, missing = {}, {}
        for item_id in item_ids:
            try:
                path = self.files.find(item_id)
                image = read_image(path)
            except InpaintbenchError as error:
                missing[item_id] = str(error)
                continue
            if image.shape != shape:
                missing[item_id] = (
                    f"{path} is {image.shape[1]}x{image.shape[0]}, the benchmark image is {shape[1]}x{shape[0]} "
                    "(run the model on the inputs of `inpaintbench masks export`)"
                )
                continue
            found[item_id] = image
        return found, missing

    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        raise InpaintbenchError(f"{self.name!r} is a folder of predictions: it is read by item, not run")

    def describe_options(self) -> dict[str, str]:
        return {"folder": str(self.folder)}

    def variant(self) -> str:
        return "predictions"


def check_label(label: str) -> None:
    """A row label must be a safe file name: it names ``scores/<label>.jsonl`` and ``images/<label>/``."""
    from .results import REFERENCE_KINDS, is_row_name

    if not is_row_name(label):
        raise InpaintbenchError(
            f"--predictions {label!r}: a row name must be letters, digits, '.', '_', '+' or '-' (not starting with "
            f"a dot) and not one of {', '.join(REFERENCE_KINDS)}"
        )
