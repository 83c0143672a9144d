"""The harness end to end on a tiny folder dataset, with throw-away methods."""

import cv2
import numpy as np
import pytest

from inpaintbench import Method
from inpaintbench.datasets.folder import FolderDataset
from inpaintbench.metrics import score_batch
from inpaintbench.protocol import Protocol
from inpaintbench.results import ResultsStore
from inpaintbench.runner import RunSpec, evaluate, select_items


@pytest.fixture
def photo_folder(tmp_path):
    """Six real-photo crops (scikit-image data) as PNG files of different sizes."""
    from skimage import data

    folder = tmp_path / "photos"
    folder.mkdir()
    for k, image in enumerate([data.astronaut(), data.coffee(), data.chelsea()]):
        for j, size in enumerate((160, 200)):
            crop = image[20 * j : 20 * j + size, 30 * k : 30 * k + size + 40]
            cv2.imwrite(str(folder / f"img{k}{j}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    return folder


class Identity(Method):
    name = "identity"

    def inpaint_one(self, image, mask):
        return image


class Spy(Method):
    """Records what it is given."""

    name = "spy"
    batched = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def inpaint(self, images, masks):
        self.seen.append((images.copy(), masks.copy()))
        return np.full_like(images, 255)  # also scribbles over known pixels


class Broken(Method):
    name = "broken"

    def inpaint_one(self, image, mask):
        raise RuntimeError("weights exploded")


def _spec(folder, **kwargs):
    return RunSpec(FolderDataset(folder), **{"protocol": Protocol(), "batch_size": 4, **kwargs})


def test_identity_scores_exactly_what_zero_fill_scores(photo_folder, tmp_path):
    store = ResultsStore(tmp_path / "out")
    evaluate(_spec(photo_folder), {"identity": Identity()}, store)
    rows = store.scores().set_index("item")
    dataset, protocol = FolderDataset(photo_folder), Protocol()
    for item in dataset.item_ids():
        target = protocol.prepare(dataset.read(item))[None]
        mask = protocol.make_mask(item, 0)[None]
        zero_fill = np.where(mask[..., None], 0, target).astype(np.uint8)
        expected = score_batch(zero_fill, target, mask)
        for key, value in expected.items():
            assert rows.loc[item, key] == pytest.approx(float(value[0]), abs=1e-12)


def test_methods_see_only_masked_images_and_never_change_known_pixels(photo_folder, tmp_path):
    spy = Spy()
    store = ResultsStore(tmp_path / "out")
    evaluate(_spec(photo_folder, keep_images=None), {"spy": spy}, store)
    images, masks = (np.concatenate(parts) for parts in zip(*spy.seen))
    assert len(images) == 6
    assert images[masks].max() == 0  # hole pixels zeroed: the ground truth never reaches the method
    dataset, protocol = FolderDataset(photo_folder), Protocol()
    for item in dataset.item_ids():
        target = protocol.prepare(dataset.read(item))
        mask = protocol.make_mask(item, 0)
        saved = cv2.cvtColor(cv2.imread(str(store.image_path("spy", item))), cv2.COLOR_BGR2RGB)
        assert np.array_equal(saved[~mask], target[~mask])  # composite restored the known pixels
        assert saved[mask].min() == 255


def test_every_method_sees_the_same_masks(photo_folder, tmp_path):
    first, second = Spy(), Spy()
    evaluate(_spec(photo_folder, protocol=Protocol(mask="random-box")), {"a": first, "b": second}, ResultsStore(tmp_path))
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(first.seen, second.seen))


def test_a_raising_method_is_reported_and_the_others_finish(photo_folder, tmp_path):
    store = ResultsStore(tmp_path / "out")
    report = evaluate(_spec(photo_folder, batch_size=2), {"broken": Broken(), "identity": Identity()}, store)
    assert report.scored == {"broken": 0, "identity": 6}
    assert "weights exploded" in report.failed_methods["broken"]
    assert sum(count for count, _ in report.method_errors["broken"]) == 6 and "identity" not in report.method_errors
    assert any(f["method"] == "broken" and "weights exploded" in f["error"] for f in store.failures())


def test_unreadable_images_are_reported_and_skipped(photo_folder, tmp_path):
    (photo_folder / "broken.png").write_bytes(b"not an image")
    store = ResultsStore(tmp_path / "out")
    report = evaluate(_spec(photo_folder), {"identity": Identity()}, store)
    assert report.scored["identity"] == 6
    assert [item for item, _ in report.unreadable] == ["broken.png"]
    assert "broken.png" in report.unreadable[0][1]


class Interrupting(Identity):
    """Identity that simulates Ctrl-C on its n-th call."""

    def __init__(self, stop_at):
        super().__init__()
        self.calls, self.stop_at = 0, stop_at

    def inpaint(self, images, masks):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return super().inpaint(images, masks)


class Counting(Identity):
    def __init__(self):
        super().__init__()
        self.items = 0

    def inpaint(self, images, masks):
        self.items += len(images)
        return super().inpaint(images, masks)


def test_an_interrupted_run_resumes_where_it_stopped(photo_folder, tmp_path):
    straight = ResultsStore(tmp_path / "straight")
    evaluate(_spec(photo_folder, batch_size=2), {"identity": Identity()}, straight)

    resumed = ResultsStore(tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        evaluate(_spec(photo_folder, batch_size=2), {"identity": Interrupting(stop_at=3)}, resumed)
    assert len(resumed.scores()) == 4
    counting = Counting()
    evaluate(_spec(photo_folder, batch_size=2), {"identity": counting}, resumed)
    assert counting.items == 2  # only the unscored pairs ran
    columns = ["item", "psnr", "ssim", "psnr_hole", "ssim_hole", "l1", "l1_hole"]
    a = straight.scores()[columns].sort_values("item").reset_index(drop=True)
    b = resumed.scores()[columns].sort_values("item").reset_index(drop=True)
    assert a.equals(b)


def test_limit_subsets_are_nested_and_seeded():
    ids = [f"{k:04d}" for k in range(200)]
    small, large = select_items(ids, 10, seed=0), select_items(ids, 50, seed=0)
    assert set(small) <= set(large) and len(small) == 10
    assert select_items(ids, 10, seed=1) != small
    assert select_items(ids, None, seed=0) == ids
