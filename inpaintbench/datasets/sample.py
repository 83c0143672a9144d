"""``sample``: a small test set built from the photographs scikit-image installs.

It lets every command run on a fresh machine with no dataset downloaded.  The
set is built once, at first use, into ``cache_dir()/sample-v1``: three square
crops of each photograph at fixed positions and scales, resized to 256x256 with
area interpolation and saved as PNG.  Only files already present in
scikit-image's data folder are used (never its downloader), and the build is
deterministic, so every machine with the same photographs gets the same bytes.
Bump :data:`VERSION` whenever the recipe changes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..errors import DatasetError
from ..images import read_image
from .base import Dataset
from .config import cache_dir

VERSION = "sample-v1"
SIZE = 256

#: item name -> file in skimage.data's folder (colour first, then grayscale)
PHOTOGRAPHS = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "retina": "retina.jpg",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "camera": "camera.png",
    "brick": "brick.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "moon": "moon.png",
    "coins": "coins.png",
}

#: photographs held back from the ``train`` split (their crops form ``val``)
VALIDATION_PHOTOGRAPHS = ("chelsea", "coffee", "brick")

#: (centre x, centre y, side) of each crop, relative to the width, height and shorter side
CROPS = ((0.5, 0.5, 1.0), (0.3, 0.35, 0.6), (0.7, 0.65, 0.6))


def _skimage_data_dir() -> Path:
    """scikit-image's bundled data folder, located without importing it or its downloader."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError("dataset 'sample' is built from scikit-image's photographs: pip install scikit-image")
    return Path(spec.submodule_search_locations[0]) / "data"


def square_crops(image: np.ndarray) -> list[np.ndarray]:
    """The :data:`CROPS` of one image, each SIZE x SIZE.

    A crop is never smaller than SIZE when the image allows it, so small
    photographs are cut, not upscaled.
    """
    height, width = image.shape[:2]
    short = min(height, width)
    crops = []
    for cx, cy, scale in CROPS:
        side = min(short, max(SIZE, round(scale * short)))
        left = min(max(round(cx * width - side / 2), 0), width - side)
        top = min(max(round(cy * height - side / 2), 0), height - side)
        crop = image[top : top + side, left : left + side]
        if side != SIZE:
            crop = cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        crops.append(crop)
    return crops


def build_sample(target: Path) -> None:
    """Build the sample set into ``target`` (which must not exist), atomically.

    The files are written into a temporary folder beside ``target`` and renamed
    into place, so a reader never sees half a set.  When another process wins
    the race, its copy is kept and ours discarded: both are identical.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        source = _skimage_data_dir()
        for name, filename in PHOTOGRAPHS.items():
            if not (source / filename).is_file():  # absent from this install: skip, never download
                continue
            for index, crop in enumerate(square_crops(read_image(source / filename))):
                ok, encoded = cv2.imencode(".png", np.ascontiguousarray(crop[:, :, ::-1]))
                if not ok:
                    raise DatasetError(f"dataset 'sample': OpenCV could not encode {name}-{index}.png")
                encoded.tofile(temporary / f"{name}-{index}.png")
        if not any(temporary.iterdir()):
            raise DatasetError(f"dataset 'sample': none of its photographs is in {source}; reinstall scikit-image")
        temporary.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        try:
            os.replace(temporary, target)
        except OSError:
            if not target.is_dir():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


class Sample(Dataset):
    """About 45 photographs, 256x256, from scikit-image: runs anywhere, no download."""

    name = "sample"
    scans_root = False  # its items are a fixed list: files written under the root never join them
    summary = "bundled: 256x256 crops of scikit-image's photographs (built once into the cache)"
    layout = f"built automatically into <cache>/{VERSION}/*.png (cache: $INPAINTBENCH_CACHE or ~/.cache/inpaintbench)"
    #: ``test`` is every image (the benchmark); ``train`` and ``val`` split it by photograph, so
    #: no crop of a held-back photograph is ever trained on (crops of one photograph overlap)
    splits = ("test", "train", "val")
    default_split = "test"
    needs_root = False
    #: the cache folder when no root is given (set in ``__init__``)
    root: Path

    @classmethod
    def splits_share_images(cls, first: str, second: str) -> bool:
        return first == second or "test" in (first, second)  # test is every image

    def __init__(self, root: Path | None = None, split: str | None = None):
        super().__init__(root, split)
        # An explicit root is a copy of a built set, read as is; by default the set
        # lives in the cache and is built there at first use (not here: listing
        # the registry must stay instant).
        self._build = self.root is None
        if self.root is None:
            self.root = cache_dir() / VERSION

    def _ensure_built(self) -> None:
        if self._build and not self.root.is_dir():
            build_sample(self.root)

    def item_ids(self) -> list[str]:
        self._ensure_built()
        ids = sorted(p.name for p in self.root.iterdir() if p.suffix == ".png")
        if not ids:
            raise self.layout_error("no .png files; delete the folder so that it is rebuilt")
        if self.split == "test":
            return ids
        held_back = [i for i in ids if i.rsplit("-", 1)[0] in VALIDATION_PHOTOGRAPHS]
        return held_back if self.split == "val" else [i for i in ids if i not in held_back]

    def read(self, item_id: str) -> np.ndarray:
        self._ensure_built()
        return read_image(self.root / item_id)
