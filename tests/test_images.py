"""Every odd kind of image file decodes to RGB uint8 (H, W, 3), or fails with a named reason."""

from __future__ import annotations

import io
import struct
import types
import zlib

import cv2
import numpy as np
import pytest

from inpaintbench.errors import ImageReadError, InpaintbenchError
from inpaintbench.images import decode_image, max_pixels, read_image, to_rgb8

RED = (200, 30, 10)  # RGB


def encode(array: np.ndarray, ext: str = ".png") -> bytes:
    ok, data = cv2.imencode(ext, array)
    assert ok
    return data.tobytes()


def rgb_image(height: int = 16, width: int = 24) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = RED
    image[0, 0] = (1, 2, 3)
    return image


def test_rgb_png_comes_back_in_rgb_order():
    image = rgb_image()
    out = decode_image(encode(image[:, :, ::-1]), "x.png")  # cv2 writes BGR
    assert out.dtype == np.uint8 and out.shape == (16, 24, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, image)


def test_jpeg_decodes_close_to_its_colour():
    out = decode_image(encode(rgb_image()[:, :, ::-1], ".jpg"), "x.jpg")
    assert out.shape == (16, 24, 3)
    assert np.abs(out[8, 12].astype(int) - RED).max() <= 8


def test_grayscale_is_replicated_to_three_channels():
    gray = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16)
    out = decode_image(encode(gray), "gray.png")
    assert out.shape == (16, 16, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[:, :, channel], gray)


def test_rgba_drops_alpha_and_keeps_the_colour():
    bgra = np.zeros((10, 12, 4), np.uint8)
    bgra[:] = (*RED[::-1], 0)  # fully transparent: the stored colour still counts
    out = decode_image(encode(bgra), "rgba.png")
    assert out.shape == (10, 12, 3)
    assert tuple(out[5, 5]) == RED


def test_gray_alpha_png_becomes_gray_rgb():
    Image = pytest.importorskip("PIL.Image")
    gray = np.full((10, 10), 77, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.dstack([gray, np.full_like(gray, 128)]), mode="LA").save(buffer, format="PNG")
    out = decode_image(buffer.getvalue(), "la.png")
    assert out.shape == (10, 10, 3) and (out == 77).all()


def test_two_channel_array_is_gray_plus_alpha():
    array = np.dstack([np.full((9, 9), 40, np.uint8), np.full((9, 9), 255, np.uint8)])
    assert (to_rgb8(array, "la") == 40).all()


def test_16_bit_png_is_scaled_with_exact_rounding():
    values = np.array([0, 128, 129, 385, 386, 257 * 100, 65534, 65535], np.uint16)
    gray16 = np.tile(values, (8, 1))
    out = decode_image(encode(gray16), "deep.png")
    expected = np.round(values / 257).astype(np.uint8)
    np.testing.assert_array_equal(out[0, :, 0], expected)
    assert list(expected[:5]) == [0, 0, 1, 1, 2]


def test_16_bit_colour_png_is_rgb():
    bgr16 = np.zeros((8, 8, 3), np.uint16)
    bgr16[..., 2] = 65535  # red
    out = decode_image(encode(bgr16), "deep.png")
    assert tuple(out[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize(
    ("peak", "value", "expected"),
    [(1.0, 0.5, 128), (255.0, 100.0, 100), (300.0, -5.0, 0), (300.0, 299.0, 255)],
)
def test_float_images_in_unit_or_byte_range(peak, value, expected):
    image = np.full((8, 8, 3), value, np.float32)
    image[0, 0] = (peak, 0, 0)  # the maximum decides the range: [0, 1], else clipped [0, 255]
    out = decode_image(encode(image, ".tiff"), "float.tiff")
    assert out.dtype == np.uint8
    assert tuple(out[4, 4]) == (expected,) * 3


def test_unsupported_pixel_type_is_an_image_error():
    with pytest.raises(ImageReadError, match="unsupported pixel type int16"):
        to_rgb8(np.zeros((8, 8), np.int16), "signed.tif")


def test_too_small_image_is_refused_with_its_size():
    with pytest.raises(ImageReadError, match=r"too small \(20x7\); at least 8 px per side needed"):
        decode_image(encode(np.zeros((7, 20, 3), np.uint8)), "tiny.png")
    assert decode_image(encode(np.zeros((8, 8, 3), np.uint8)), "ok.png").shape == (8, 8, 3)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"this is not an image at all", "not a decodable image"),
        (encode(rgb_image())[:40], "not a decodable image"),  # truncated PNG
    ],
)
def test_corrupt_bytes_name_the_source(data, reason):
    with pytest.raises(ImageReadError) as caught:
        decode_image(data, "db/key42")
    assert caught.value.path == "db/key42"
    assert reason in str(caught.value)
    assert isinstance(caught.value, InpaintbenchError)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageReadError, match="no such file") as caught:
        read_image(tmp_path / "absent.png")
    assert str(tmp_path / "absent.png") in str(caught.value)
    with pytest.raises(ImageReadError, match="is a directory"):
        read_image(tmp_path)


def test_corrupt_file_is_reported_with_its_path(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(ImageReadError, match="broken.jpg: not a decodable image"):
        read_image(path)


def test_non_ascii_path(tmp_path):
    folder = tmp_path / "données 写真"
    folder.mkdir()
    path = folder / "été.png"
    path.write_bytes(encode(rgb_image()[:, :, ::-1]))
    np.testing.assert_array_equal(read_image(path), rgb_image())
    np.testing.assert_array_equal(read_image(str(path)), rgb_image())


def test_cmyk_jpeg_is_read_as_rgb(tmp_path):
    """ImageNet holds a few CMYK JPEGs; they must not be taken for BGRA."""
    from PIL import Image
    from skimage import data

    rgb = data.astronaut()
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    decoded = read_image(tmp_path / "cmyk.jpg")
    assert decoded.shape == rgb.shape
    assert np.abs(decoded.astype(int) - rgb).mean() < 5


# -- the pixel limit -----------------------------------------------------------------------
def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def pillow_limit_writes(monkeypatch):
    """Every assignment to Pillow's global MAX_IMAGE_PIXELS made while the test runs (other threads read that global)."""
    import PIL
    from PIL import Image

    writes: list[object] = []

    class Watched(types.ModuleType):
        def __getattr__(self, name):
            return getattr(Image, name)

        def __setattr__(self, name, value):
            if name == "MAX_IMAGE_PIXELS":
                writes.append(value)
            setattr(Image, name, value)

    monkeypatch.setattr(PIL, "Image", Watched("PIL.Image"))
    return writes


def test_a_header_above_pillows_limit_is_refused_without_touching_pillows_global(pillow_limit_writes):
    from PIL import Image

    assert 30000 * 30000 > 2 * Image.MAX_IMAGE_PIXELS > max_pixels()
    with pytest.raises(ImageReadError, match="bomb.png: its header claims 900,000,000 pixels, above the limit of 150,000,000"):
        decode_image(png_header_claiming(30000, 30000), "bomb.png")
    assert pillow_limit_writes == []


def test_a_limit_raised_past_pillows_reads_the_size_past_it_and_restores_pillows(pillow_limit_writes, monkeypatch):
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    assert 2 * before < 190_000_000 < 20000 * 10000
    monkeypatch.setenv("INPAINTBENCH_MAX_PIXELS", "190000000")
    with pytest.raises(ImageReadError, match="20000x10000 is 200,000,000 pixels, above the limit of 190,000,000"):
        decode_image(png_header_claiming(20000, 10000), "wide.png")
    assert pillow_limit_writes == [None, before] and Image.MAX_IMAGE_PIXELS == before


@pytest.mark.parametrize("value", ["2e8", "200_000_000", "-5", "0", "1,000", "lots"])
def test_a_malformed_pixel_limit_is_an_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("INPAINTBENCH_MAX_PIXELS", value)
    with pytest.raises(InpaintbenchError, match=r"INPAINTBENCH_MAX_PIXELS=.* digits only") as caught:
        decode_image(encode(rgb_image()), "photo.png")
    assert repr(value) in str(caught.value) and not isinstance(caught.value, ImageReadError)


@pytest.mark.parametrize("value, expected", [(" 5000 ", 5000), ("", 150_000_000)])
def test_a_pixel_limit_of_digits_or_empty_is_read(monkeypatch, value, expected):
    monkeypatch.setenv("INPAINTBENCH_MAX_PIXELS", value)
    assert max_pixels() == expected
