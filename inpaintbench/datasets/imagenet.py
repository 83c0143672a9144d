"""``imagenet``: ILSVRC-2012 (CLS-LOC) in the folders ImageNet distributes.

The root may be the ``ILSVRC`` folder of the Kaggle/academic-torrents archive
(``Data/CLS-LOC/{train,val,test}``), its parent, or a folder that holds
``train/`` (class folders ``n########/*.JPEG``), ``val/`` (flat
``ILSVRC2012_val_*.JPEG`` or sorted into class folders) and ``test/`` directly.
Ids are paths relative to the split's folder.
"""

from __future__ import annotations

from pathlib import Path

from .folder import ImageTreeDataset

#: where the split folders may sit below the root, tried in order
BASES = ("Data/CLS-LOC", "ILSVRC/Data/CLS-LOC", ".")


class ImageNet(ImageTreeDataset):
    """ImageNet ILSVRC-2012 photographs (1000 classes)."""

    name = "imagenet"
    summary = "ImageNet ILSVRC-2012 (train / val / test folders)"
    layout = (
        "ROOT/Data/CLS-LOC/{train,val,test}/ or ROOT/{train,val,test}/, "
        "train/n########/*.JPEG, val/ILSVRC2012_val_*.JPEG (flat or in class folders)"
    )
    splits = ("train", "val", "test")
    default_split = "val"

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        for base in BASES:
            folder = self.root / base / self.split  # pathlib drops the "." base
            if folder.is_dir():
                self._use_folder(folder)
                return
        tried = ", ".join(f"{base}/{self.split}/" if base != "." else f"{self.split}/" for base in BASES)
        raise self.layout_error(f"no {self.split}/ folder (looked for {tried})")
