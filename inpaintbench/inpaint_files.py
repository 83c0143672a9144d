"""``inpaintbench inpaint``: complete the user's own photographs with the user's own masks, at full size.

No protocol applies here: no resize, no crop, no drawn hole.  Each image is
paired with its mask by name (:mod:`inpaintbench.pairing`; a single image may
take a single mask file), the hole is zeroed, the method completes it, the
known pixels are pasted back, and the result is written under the output
folder with the input's relative path and name (and so in its format).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from .datasets._files import list_images
from .errors import InpaintbenchError
from .images import read_image
from .mask_files import check_hole, read_mask_file
from .methods import Method, check_output, composite
from .pairing import CompanionFolder, is_mask_name, same_folder


@dataclasses.dataclass(frozen=True)
class Job:
    """One image to complete: where it is, its mask, and where the result goes."""

    image: Path
    mask: Path | None  # None: no mask file pairs with it (``problem`` says why)
    output: Path
    problem: str = ""


def plan(images: Path, masks: Path, out: Path) -> list[Job]:
    """Pair every image under ``images`` (a file or a folder) with its mask; refuse an ``out`` that overwrites inputs."""
    images, masks, out = Path(images), Path(masks), Path(out)
    if not images.exists():
        raise InpaintbenchError(f"{images}: no such image or folder")
    if not masks.exists():
        raise InpaintbenchError(f"--mask {masks}: no such mask file or folder")
    if images.is_file():
        if masks.is_file():
            jobs = [Job(images, masks, out / images.name)]
        else:
            beside = same_folder(images.parent, masks)
            jobs = [_pair(CompanionFolder(masks, "mask", prefer_masks=True, masks_only=beside), images.name, images, out / images.name)]
    elif masks.is_file():
        raise InpaintbenchError(f"--mask {masks} is one file but {images} is a folder: give a folder of masks")
    else:
        masks_beside = same_folder(images, masks)  # LaMa's layout: photo.png and photo_mask.png in one folder
        companions = CompanionFolder(masks, "mask", prefer_masks=True, masks_only=masks_beside)
        outputs = out.resolve()
        earlier = outputs != images.resolve()  # --out inside the folder: its completed images are not inputs
        jobs = [
            _pair(companions, relative, images / relative, out / relative)
            for relative in list_images(images)
            if not (masks_beside and is_mask_name(relative))
            and not (earlier and (images / relative).resolve().is_relative_to(outputs))
        ]
        if not jobs:
            raise InpaintbenchError(f"{images} holds no images to complete")
    if any(job.output.resolve() == job.image.resolve() for job in jobs):
        raise InpaintbenchError(f"--out {out} holds the inputs themselves: the completed images would replace the originals")
    return jobs


def _pair(companions: CompanionFolder, relative: str, image: Path, output: Path) -> Job:
    try:
        return Job(image, companions.find(relative), output)
    except InpaintbenchError as error:
        return Job(image, None, output, str(error))


def complete_file(method: Method, job: Job) -> None:
    """Complete one image at its own size and write it to ``job.output``; a one-line error when it cannot."""
    if job.mask is None:
        raise InpaintbenchError(job.problem)
    image = read_image(job.image)
    mask = read_mask_file(job.mask)
    if mask.shape != image.shape[:2]:
        raise InpaintbenchError(
            f"mask {job.mask} is {mask.shape[1]}x{mask.shape[0]} but image {job.image} is {image.shape[1]}x{image.shape[0]}"
        )
    check_hole(mask, job.mask)
    method.check_input(image.shape[0], image.shape[1], mask[None])
    masked = np.where(mask[..., None], np.uint8(0), image)[None]
    output = check_output(method.name, method.inpaint(masked.copy(), mask[None].copy()), masked)
    write_image(job.output, composite(masked, output, mask[None])[0])


def write_image(path: Path, rgb: np.ndarray) -> Path:
    """Write in the format the file name asks for, via a temporary name; the path written.

    A format OpenCV cannot encode is written as PNG under the same name plus ``.png``.
    """
    from .results import write_atomic

    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.suffix.lower() in (".jpg", ".jpeg") else []
    try:
        ok, encoded = cv2.imencode(path.suffix.lower(), bgr, params)
    except cv2.error:
        ok = False
    if not ok:
        ok, encoded = cv2.imencode(".png", bgr)
        path = path.with_name(path.name + ".png")
    write_atomic(path, encoded.tobytes())
    return path
