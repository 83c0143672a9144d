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

from os import PathLike

import cv2
import numpy as np

from .errors import ImageReadError

#: the smallest side a method can work with (a mask needs pixels around the hole)
MIN_SIDE = 8


def read_image(path: str | PathLike[str]) -> np.ndarray:
    """Read and decode the image file at ``path`` as RGB uint8 (H, W, 3).

    The bytes are read with ``np.fromfile`` rather than ``cv2.imread``, which
    cannot open non-ASCII paths on every platform.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise ImageReadError(str(path), "no such file") from None
    except IsADirectoryError:
        raise ImageReadError(str(path), "is a directory, not an image file") from None
    except PermissionError:
        raise ImageReadError(str(path), "permission denied") from None
    except OSError as error:
        raise ImageReadError(str(path), error.strerror or str(error)) from None
    return _decode(data, str(path))


def decode_image(data: bytes, source: str) -> np.ndarray:
    """Decode encoded image bytes (PNG, JPEG, WebP, ...) as RGB uint8 (H, W, 3).

    ``source`` names where the bytes came from (a path, a database key); it is
    quoted in the error when they cannot be decoded.
    """
    return _decode(np.frombuffer(data, dtype=np.uint8), source)


def _decode(buffer: np.ndarray, source: str) -> np.ndarray:
    if buffer.size == 0:
        raise ImageReadError(source, "empty file")
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageReadError(source, "not a decodable image (corrupt, truncated or unsupported format)")
    return to_rgb8(image, source)


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
