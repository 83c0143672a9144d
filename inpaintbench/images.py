"""Decode any image file a dataset may hold into one canonical form: RGB uint8 (H, W, 3).

Every loader goes through here so that methods and scorers see one pixel format,
whatever the file held (grayscale scans, PNGs with alpha, 16-bit TIFFs, float
EXRs).  OpenCV decodes with ``IMREAD_UNCHANGED`` so that nothing is converted
behind our back: bit depth and channels are mapped explicitly below, and the
EXIF orientation flag is ignored (the stored pixel grid is the image, as in the
reference implementations' loaders).  Anything that cannot be mapped raises
:class:`~inpaintbench.errors.ImageReadError` with a short reason, so the runner
can report the item and skip it.
"""

from __future__ import annotations

import io
import os
import re
import stat
import threading
import warnings
from os import PathLike

import cv2
import numpy as np

from .errors import ImageReadError, InpaintbenchError

#: the smallest side a method can work with (a mask needs pixels around the hole)
MIN_SIDE = 8
#: images with more pixels than this are skipped unread: a 3 MB PNG can claim 30000x30000 px (5 GB decoded)
DEFAULT_MAX_PIXELS = 150_000_000
#: the environment variable that raises (or lowers) that limit; ``--max-pixels`` sets it for worker processes too
MAX_PIXELS_VARIABLE = "INPAINTBENCH_MAX_PIXELS"


def max_pixels() -> int:
    """The pixel limit in force: ``INPAINTBENCH_MAX_PIXELS``, else :data:`DEFAULT_MAX_PIXELS`.

    A malformed value is an error rather than the default: a user who wrote
    ``2e8`` meant to raise the limit, and would otherwise see files skipped.
    """
    value = os.environ.get(MAX_PIXELS_VARIABLE, "").strip()
    if not value:
        return DEFAULT_MAX_PIXELS
    if not re.fullmatch(r"[0-9]+", value) or int(value) == 0:
        raise InpaintbenchError(
            f"{MAX_PIXELS_VARIABLE}={value!r} is not a positive whole number of pixels: write digits only "
            f"(e.g. {MAX_PIXELS_VARIABLE}=200000000), or unset it for the default of {DEFAULT_MAX_PIXELS:,}"
        )
    return int(value)


def read_image(path: str | PathLike[str]) -> np.ndarray:
    """Read and decode the image file at ``path`` as RGB uint8 (H, W, 3)."""
    return _decode(read_file_bytes(path), str(path))


def read_file_bytes(path: str | PathLike[str]) -> np.ndarray:
    """The bytes of a regular file, refusing pipes and devices (they would block the run forever).

    Read with ``np.fromfile`` rather than ``cv2.imread``, which cannot open
    non-ASCII paths on every platform.
    """
    try:
        kind = os.stat(path).st_mode
        if not stat.S_ISREG(kind) and not stat.S_ISDIR(kind):  # a FIFO would block the run forever
            raise ImageReadError(str(path), "not a regular file (a pipe, socket or device)")
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise ImageReadError(str(path), "no such file") from None
    except IsADirectoryError:
        raise ImageReadError(str(path), "is a directory, not an image file") from None
    except PermissionError:
        raise ImageReadError(str(path), "permission denied") from None
    except OSError as error:
        raise ImageReadError(str(path), error.strerror or str(error)) from None
    return data


def decode_image(data: bytes, source: str) -> np.ndarray:
    """Decode encoded image bytes (PNG, JPEG, WebP, ...) as RGB uint8 (H, W, 3).

    ``source`` names where the bytes came from (a path, a database key); it is
    quoted in the error when they cannot be decoded.
    """
    return _decode(np.frombuffer(data, dtype=np.uint8), source)


def _decode(buffer: np.ndarray, source: str) -> np.ndarray:
    image = decode_unchanged(buffer, source)
    if image is None:
        raise ImageReadError(source, "not a decodable image (corrupt, truncated or unsupported format)")
    return to_rgb8(image, source)


def decode_unchanged(buffer: np.ndarray, source: str) -> np.ndarray | None:
    """OpenCV's ``IMREAD_UNCHANGED`` decoding of encoded bytes, after the checks every file needs.

    An empty buffer, or a header claiming more than :func:`max_pixels` pixels,
    raises :class:`ImageReadError`; None means OpenCV cannot decode the bytes
    (the caller words that for what the file is: an image, a mask).
    """
    if buffer.size == 0:
        raise ImageReadError(source, "empty file")
    _check_pixel_count(buffer, source)
    return cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)


class AbovePillowLimit(Exception):
    """A header above Pillow's own bomb limit, not read past it; ``pixels`` is its claim when Pillow states it."""

    def __init__(self, pixels: int | None, pillow_limit: int):
        super().__init__(pixels, pillow_limit)
        self.pixels = pixels
        self.pillow_limit = pillow_limit


#: Pillow's limit is one global for every thread: reads past it take turns, so none restores another's None
_PAST_PILLOW_LIMIT = threading.Lock()


def header_size(buffer: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from the file's header, without decoding pixels; None when Pillow does not know the format.

    Pillow refuses headers above its own bomb limit (twice ``MAX_IMAGE_PIXELS``).
    Such a file is over :func:`max_pixels` too unless the user raised it past
    Pillow's: only then is the size read past Pillow's limit (a swap of that
    global); otherwise :class:`AbovePillowLimit` is raised and the global is
    left alone, since another thread may be decoding.
    """
    from PIL import Image

    def read() -> tuple[int, int]:
        with Image.open(io.BytesIO(buffer.tobytes())) as header:
            return header.size

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return read()
        except Image.DecompressionBombError as error:
            pillow_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            if max_pixels() <= pillow_limit:
                stated = re.search(r"\((\d+) pixels\)", str(error))
                raise AbovePillowLimit(int(stated.group(1)) if stated else None, pillow_limit) from None
            with _PAST_PILLOW_LIMIT:
                saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                try:
                    return read()
                finally:
                    Image.MAX_IMAGE_PIXELS = saved
        except Exception:  # not a format Pillow reads (OpenCV may): no header check
            return None


def _check_pixel_count(buffer: np.ndarray, source: str) -> None:
    limit = max_pixels()
    fix = f"not decoded; raise it with --max-pixels or {MAX_PIXELS_VARIABLE}"
    try:
        size = header_size(buffer)
    except AbovePillowLimit as above:
        claim = f"{above.pixels:,}" if above.pixels is not None else f"more than {above.pillow_limit:,}"
        raise ImageReadError(source, f"its header claims {claim} pixels, above the limit of {limit:,} ({fix})") from None
    if size is not None and size[0] * size[1] > limit:
        width, height = size
        raise ImageReadError(source, f"{width}x{height} is {width * height:,} pixels, above the limit of {limit:,} ({fix})")


def to_rgb8(image: np.ndarray, source: str) -> np.ndarray:
    """Map an array as OpenCV decodes it (BGR order, any depth) to RGB uint8 (H, W, 3)."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3):
        raise ImageReadError(source, f"unsupported array shape {image.shape}")
    height, width = image.shape[:2]
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ImageReadError(source, f"too small ({width}x{height}); at least {MIN_SIDE} px per side needed")

    # Channels first, on the original depth: dropping alpha keeps the stored colour
    # (inpainting benchmarks score the RGB content, not a composite over a background).
    if image.ndim == 2:
        rgb = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 2:  # gray + alpha
        rgb = np.repeat(image[:, :, :1], 3, axis=2)
    elif image.shape[2] == 3:
        rgb = image[:, :, ::-1]
    elif image.shape[2] == 4:  # BGRA
        rgb = image[:, :, 2::-1]
    else:
        raise ImageReadError(source, f"unsupported channel count {image.shape[2]}")
    return np.ascontiguousarray(_to_uint8(rgb, source))


def _to_uint8(image: np.ndarray, source: str) -> np.ndarray:
    """Scale other bit depths to 8 bits the way a viewer would display them."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        # round(x * 255 / 65535) == round(x / 257), exactly, in integers
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if image.dtype in (np.float16, np.float32, np.float64):
        values = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        # Float files are either normalised to [0, 1] (the common convention) or
        # already on the 8-bit scale; the maximum tells which.
        if values.size and values.max() <= 1.0:
            values = values * 255.0
        return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)
    raise ImageReadError(source, f"unsupported pixel type {image.dtype}")
