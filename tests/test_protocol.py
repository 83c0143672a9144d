import numpy as np
import pytest

from inpaintbench.errors import InpaintbenchError
from inpaintbench.protocol import Protocol, center_crop, resize_shorter_side


def test_prepare_resizes_the_shorter_side_then_center_crops():
    image = np.zeros((300, 451, 3), np.uint8)
    image[:, 150:301] = 255  # a white band in the middle third
    out = Protocol().prepare(image)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    # the crop keeps the middle of the wide image: white center, dark corners
    assert out[64, 64].min() == 255 and out[64, 0].max() < 255


def test_tiny_images_are_upscaled_and_large_ones_shrunk():
    assert resize_shorter_side(np.zeros((32, 32, 3), np.uint8), 128).shape == (128, 128, 3)
    assert resize_shorter_side(np.zeros((512, 256, 3), np.uint8), 128).shape == (256, 128, 3)
    assert center_crop(np.zeros((256, 128, 3), np.uint8), 128).shape == (128, 128, 3)


def test_other_resolution_is_one_option_away():
    protocol = Protocol(image_size=256)
    assert protocol.prepare(np.zeros((300, 400, 3), np.uint8)).shape == (256, 256, 3)
    assert protocol.make_mask("x", 0).sum() == 128 * 128
    assert protocol.key != Protocol().key


@pytest.mark.parametrize("kwargs, message", [({"image_size": 8}, "too small"), ({"hole_size": 200}, "does not fit")])
def test_impossible_protocols_are_refused_up_front(kwargs, message):
    with pytest.raises(InpaintbenchError, match=message):
        Protocol(**kwargs)
