"""``paris-streetview``: the Paris StreetView set of Pathak et al. (Context Encoders).

It is distributed by its authors on request as two folders of photographs; some
copies rename them ``train/`` and ``test/`` (or ``val/``), which are accepted too.
Ids are relative to the split's folder, so both namings give the same manifest.
"""

from __future__ import annotations

from pathlib import Path

from ._files import first_dir
from .folder import ImageTreeDataset

#: split -> folder names tried in order
SPLIT_FOLDERS = {
    "train": ("paris_train_original", "train"),
    "test": ("paris_eval_gt", "test", "val"),
}


class ParisStreetView(ImageTreeDataset):
    """Street-level facades of Paris: 14,900 training and 100 test photographs."""

    name = "paris-streetview"
    summary = "Paris StreetView (Pathak et al. 2016): 14,900 train / 100 test"
    layout = (
        "ROOT/paris_train_original/ (train, 14,900 images) and ROOT/paris_eval_gt/ (test, 100 images); "
        "train/ and test/ (or val/) also accepted"
    )
    splits = ("train", "test")
    default_split = "test"

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        names = SPLIT_FOLDERS[self.split]
        folder = first_dir(self.root, names)
        if folder is None:
            others = ", ".join(name + "/" for name in names[1:])
            raise self.layout_error(f"no {names[0]}/ folder (nor {others}) for split {self.split!r}")
        self._use_folder(folder)
