"""Each loader on a tiny copy of its dataset's real layout, built under tmp_path."""

from __future__ import annotations

import pickle
import shlex
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pluggy
import pytest

from inpaintbench import hookspecs, registry
from inpaintbench.cli.train import compare_command
from inpaintbench.datasets import (
    BUILTIN_DATASETS,
    CIFAR10,
    DTD,
    LSUN,
    DeepFashion,
    FolderDataset,
    ImageNet,
    ParisStreetView,
    Sample,
    cache_dir,
    env_var,
    manifest_hash,
    resolve_root,
)
from inpaintbench.datasets.lsun import id_to_key, key_to_id
from inpaintbench.datasets.sample import build_sample
from inpaintbench.errors import DatasetError, ImageReadError
from inpaintbench.experiments.stages import Runtime
from inpaintbench.registry import held_out_split
from inpaintbench.training import TrainConfig
from inpaintbench.training.engine import plan
from inpaintbench_paper import comparison

from cifar_fixture import make_cifar, write_cifar_batch


def colour(index: int) -> tuple[int, int, int]:
    """A distinct RGB colour per index, exact through PNG."""
    return (10 + 40 * (index % 6), 20 + 30 * (index % 7), 250 - 50 * (index % 5))


def encoded(rgb: tuple[int, int, int], ext: str = ".png", size: tuple[int, int] = (12, 16)) -> bytes:
    image = np.empty((*size, 3), np.uint8)
    image[:] = rgb[::-1]  # cv2 encodes BGR
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if ext == ".webp" else []  # 101: lossless WebP
    ok, data = cv2.imencode(ext, image, params)
    assert ok
    return data.tobytes()


def write_image(path: Path, rgb: tuple[int, int, int] = (200, 30, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded(rgb, path.suffix.lower() if path.suffix.lower() != ".jpeg" else ".jpg"))
    return path


def assert_colour(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 0) -> None:
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert np.abs(image.astype(int) - rgb).max() <= tolerance


# --- folder -----------------------------------------------------------------------


def test_folder_lists_images_recursively_and_skips_the_rest(tmp_path):
    write_image(tmp_path / "b.png", colour(1))
    write_image(tmp_path / "a" / "Z.JPG", colour(2))
    write_image(tmp_path / "a" / "deep" / "x.jpeg", colour(3))
    write_image(tmp_path / "c.WebP", colour(4))
    write_image(tmp_path / "._b.png")  # macOS resource fork
    write_image(tmp_path / ".thumbs" / "t.png")
    (tmp_path / "notes.txt").write_text("not an image")

    dataset = FolderDataset(tmp_path)
    assert dataset.split == "all"
    assert dataset.item_ids() == ["a/Z.JPG", "a/deep/x.jpeg", "b.png", "c.WebP"]
    assert_colour(dataset.read("b.png"), colour(1))
    assert_colour(dataset.read("a/Z.JPG"), colour(2), tolerance=8)
    assert_colour(dataset.read("c.WebP"), colour(4))


def test_folder_errors_name_the_root_and_the_layout(tmp_path):
    with pytest.raises(DatasetError, match="no image files .* in it or its subfolders .*expected layout: ROOT/"):
        FolderDataset(tmp_path)
    with pytest.raises(DatasetError, match="is not a directory"):
        FolderDataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="INPAINTBENCH_FOLDER_ROOT"):
        FolderDataset(None)
    write_image(tmp_path / "a.png")
    with pytest.raises(DatasetError, match="no split 'test'"):
        FolderDataset(tmp_path, "test")


def test_unreadable_file_is_reported_with_its_path(tmp_path):
    write_image(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    dataset = FolderDataset(tmp_path)
    assert dataset.item_ids() == ["bad.png", "good.png"]
    with pytest.raises(ImageReadError) as caught:
        dataset.read("bad.png")
    assert caught.value.path == str(tmp_path / "bad.png")


# --- folder: split subfolders and split lists ---------------------------------------


def write_photos(folder: Path, names: list[str]) -> None:
    for index, name in enumerate(names):
        write_image(folder / name, colour(index))


def test_folder_split_subfolders(tmp_path, caplog):
    write_photos(tmp_path, ["train/a.png", "train/deep/b.png", "Val/c.png", "extra/d.png", "e.png"])
    (tmp_path / "test").mkdir()  # no image: not a split

    every = FolderDataset(tmp_path)
    assert every.split_names() == ("all", "train", "val")
    assert every.item_ids() == ["Val/c.png", "e.png", "extra/d.png", "train/a.png", "train/deep/b.png"]
    train = FolderDataset(tmp_path, "train")
    assert train.item_ids() == ["train/a.png", "train/deep/b.png"]  # ids relative to ROOT, as in split all
    val = FolderDataset(tmp_path, "val")
    assert val.item_ids() == ["Val/c.png"]
    assert_colour(val.read("Val/c.png"), colour(2))
    assert "2 of 5 images are in no split of the split folders Val/, train/" in caplog.text


def test_folder_one_split_like_subfolder_is_not_a_split_layout(tmp_path):
    write_photos(tmp_path, ["test/a.png", "holiday/b.png"])
    dataset = FolderDataset(tmp_path)
    assert dataset.split_names() == ("all",)
    with pytest.raises(DatasetError, match=r"no split 'test' \(splits: all\)"):
        FolderDataset(tmp_path, "test")


def test_folder_tsv_split_list_with_bare_names_beside_photos(tmp_path, caplog):
    write_photos(tmp_path, ["photos/a.jpg", "photos/b.png", "photos/2020/c.png", "photos/d.png", "photos/e.png"])
    (tmp_path / "notes.csv").write_text("title,year\nholiday,2020\n")  # no split column: not a split list
    (tmp_path / "MANIFEST.tsv").write_text(
        "\ufeffFile\tcaption, with a comma\tSplit\n"  # a byte-order mark, header in any case
        "a.jpg\ta cat\ttrain\n"
        "b.png\t\tTrain\n"
        "c.png\ta dog\tval\n"
        "\n"
        "d.png\tnot in any split\t\n",
        encoding="utf-8",
    )
    dataset = FolderDataset(tmp_path)
    assert dataset.split_names() == ("all", "train", "val")
    assert len(dataset.item_ids()) == 5
    assert FolderDataset(tmp_path, "train").item_ids() == ["photos/a.jpg", "photos/b.png"]
    assert FolderDataset(tmp_path, "val").item_ids() == ["photos/2020/c.png"]
    assert "2 of 5 images are in no split of the split list MANIFEST.tsv" in caplog.text


def test_folder_csv_split_list_with_relative_paths(tmp_path):
    write_photos(tmp_path, ["a/x.png", "b/x.png", "b/y.png", "x.png"])
    (tmp_path / "splits.csv").write_text('path,split\r\n./a/x.png,test\r\nb\\x.png,train\r\n"b/y.png",train\r\nx.png,test\r\n')
    assert FolderDataset(tmp_path, "train").item_ids() == ["b/x.png", "b/y.png"]  # a Windows separator is a slash
    assert FolderDataset(tmp_path, "test").item_ids() == ["a/x.png", "x.png"]  # x.png: the exact path wins
    assert FolderDataset(tmp_path).item_ids() == ["a/x.png", "b/x.png", "b/y.png", "x.png"]


def test_folder_split_list_wins_over_split_folders(tmp_path):
    write_photos(tmp_path, ["train/a.png", "val/b.png"])
    (tmp_path / "splits.tsv").write_text("image\tsplit\na.png\tholdout\nb.png\tfit\n")
    assert FolderDataset(tmp_path).split_names() == ("all", "fit", "holdout")
    assert FolderDataset(tmp_path, "fit").item_ids() == ["val/b.png"]


def test_folder_split_list_errors(tmp_path):
    write_photos(tmp_path, ["photos/a.png", "photos/b.png", "more/b.png"])
    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text("file\tsplit\na.png\ttrain\ngone.png\tval\nalso-gone.png\tval\n")
    FolderDataset(tmp_path)  # split all does not read the entries
    with pytest.raises(DatasetError, match=r"MANIFEST.tsv: 2 entries name no image .*the first: 'gone.png' \(line 3\)"):
        FolderDataset(tmp_path, "train")

    manifest.write_text("file\tsplit\nb.png\ttrain\n")
    with pytest.raises(DatasetError, match=r"line 2: 'b.png' matches 2 images \(more/b.png, photos/b.png\)"):
        FolderDataset(tmp_path, "train")

    manifest.write_text("file\tsplit\nphotos/a.png\ttrain\na.png\tval\n")
    with pytest.raises(DatasetError, match=r"photos/a.png is listed twice \(line 2 as 'photos/a.png', line 3 as 'a.png'\)"):
        FolderDataset(tmp_path, "val")

    manifest.write_text("file\tsplit\na.png\tall\n")
    with pytest.raises(DatasetError, match="line 2: 'all' is every image"):
        FolderDataset(tmp_path)

    manifest.write_text("file\tsplit\na.png\ttrain\n")
    (tmp_path / "other.csv").write_text("name,split\nphotos/b.png,val\n")
    with pytest.raises(DatasetError, match=r"holds 2 split lists \(MANIFEST.tsv, other.csv\); .*splits.tsv or splits.csv"):
        FolderDataset(tmp_path)
    (tmp_path / "splits.csv").write_text("filename,split\nphotos/b.png,val\n")
    assert FolderDataset(tmp_path).split_names() == ("all", "val")  # splits.csv is the one to use

    (tmp_path / "splits.csv").write_bytes("filename,split\nphotos/b.png,val\xe9\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="splits.csv: not UTF-8 text"):
        FolderDataset(tmp_path)


def test_folder_unknown_split_lists_the_splits_found(tmp_path):
    write_photos(tmp_path, ["photos/a.png", "photos/b.png"])
    (tmp_path / "MANIFEST.tsv").write_text("file\tsplit\na.png\ttrain\nb.png\tval\n")
    with pytest.raises(DatasetError, match=r"^dataset 'folder' has no split 'test' \(splits: all, train, val\)$"):
        FolderDataset(tmp_path, "test")


def test_folder_splits_share_images_only_with_all(tmp_path):
    write_photos(tmp_path, ["train/a.png", "val/b.png"])
    dataset = FolderDataset(tmp_path, "val")
    assert dataset.splits_share_images("train", "all") and dataset.splits_share_images("all", "val")
    assert dataset.splits_share_images("val", "val")
    assert not dataset.splits_share_images("train", "val")


def test_folder_splits_pick_the_training_and_held_out_splits(tmp_path, monkeypatch):
    write_photos(tmp_path / "photos", ["a.png", "b.png", "c.png"])
    (tmp_path / "MANIFEST.tsv").write_text("file\tsplit\na.png\ttrain\nb.png\ttrain\nc.png\tval\n")
    assert registry.training_split("folder", tmp_path) == "train"
    assert registry.training_split("sample") == "train"
    training = plan(TrainConfig(method="ours", dataset="folder", root=str(tmp_path), out=str(tmp_path / "run"), steps=1))
    assert training.split == "train" and training.stream.item_ids == ["photos/a.png", "photos/b.png"]
    assert held_out_split(FolderDataset(tmp_path), "train") == "val"

    splits = []  # the experiment trains on train and evaluates on val, both picked from the list
    monkeypatch.setattr(comparison, "ensure_trained", lambda config, hooks: splits.append(config.split) or tmp_path)
    monkeypatch.setattr(comparison, "evaluate_entries", lambda entries, trained, dataset, *rest, **keywords: splits.append(dataset.split))
    experiment = comparison.table_vi(("ours",), dataset="folder", root=str(tmp_path), steps=1)
    comparison.run_comparison(experiment, tmp_path / "experiment", Runtime(device="cpu"))
    assert splits == ["train", "val"]

    (tmp_path / "MANIFEST.tsv").write_text("file\tsplit\na.png\ttrain\nb.png\ttest\nc.png\tval\n")
    assert held_out_split(FolderDataset(tmp_path), "train") == "test"  # test before val


def test_train_prints_a_compare_command_for_the_held_out_split(tmp_path):
    """Following the printed command scores images the run never saw, under the same root."""
    photos = tmp_path / "my photos"
    write_photos(photos / "photos", ["a.png", "b.png", "c.png"])
    (photos / "MANIFEST.tsv").write_text("file\tsplit\na.png\ttrain\nb.png\ttrain\nc.png\tval\n")
    config = TrainConfig(method="ours", dataset="folder", root=str(photos), out=str(tmp_path / "run"))
    words = shlex.split(compare_command(config, tmp_path / "run"))
    assert words[words.index("--root") + 1] == str(photos) and words[words.index("--split") + 1] == "val"
    assert words[words.index("--checkpoint") + 1] == f"ours={tmp_path / 'run'}"
    assert "--split" not in compare_command(TrainConfig(method="ours", dataset="folder", root=str(photos / "photos")), tmp_path)


# --- paris-streetview ------------------------------------------------------------


@pytest.mark.parametrize(
    ("train", "test"), [("paris_train_original", "paris_eval_gt"), ("train", "test"), ("train", "val")]
)
def test_paris_streetview_both_namings(tmp_path, train, test):
    write_image(tmp_path / train / "48.84_2.33_0.JPG", colour(0))
    write_image(tmp_path / train / "48.85_2.34_1.JPG", colour(1))
    write_image(tmp_path / test / "001_im.png", colour(2))
    dataset = ParisStreetView(tmp_path)
    assert dataset.split == "test"
    assert dataset.item_ids() == ["001_im.png"]
    assert_colour(dataset.read("001_im.png"), colour(2))
    assert ParisStreetView(tmp_path, "train").item_ids() == ["48.84_2.33_0.JPG", "48.85_2.34_1.JPG"]


def test_paris_streetview_missing_split_folder(tmp_path):
    write_image(tmp_path / "paris_train_original" / "a.JPG")
    expected = r"no paris_eval_gt/ folder \(nor test/, val/\).*expected layout: .*paris_eval_gt"
    with pytest.raises(DatasetError, match=expected):
        ParisStreetView(tmp_path)
    (tmp_path / "paris_eval_gt").mkdir()
    with pytest.raises(DatasetError, match="no image files .* under paris_eval_gt/"):
        ParisStreetView(tmp_path)


# --- imagenet --------------------------------------------------------------------


def make_imagenet(base: Path, val_in_classes: bool = False) -> None:
    write_image(base / "train" / "n01440764" / "n01440764_10026.JPEG", colour(0))
    write_image(base / "train" / "n01443537" / "n01443537_2.JPEG", colour(1))
    val = "val/n01440764" if val_in_classes else "val"
    write_image(base / val / "ILSVRC2012_val_00000002.JPEG", colour(2))
    write_image(base / val / "ILSVRC2012_val_00000001.JPEG", colour(3))
    write_image(base / "test" / "ILSVRC2012_test_00000001.JPEG", colour(4))


@pytest.mark.parametrize("below", ["ILSVRC/Data/CLS-LOC", "Data/CLS-LOC", "."])
def test_imagenet_layouts(tmp_path, below):
    make_imagenet(tmp_path / below)
    dataset = ImageNet(tmp_path)
    assert dataset.split == "val"
    assert dataset.item_ids() == ["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"]
    assert_colour(dataset.read("ILSVRC2012_val_00000001.JPEG"), colour(3), tolerance=8)
    assert ImageNet(tmp_path, "train").item_ids() == ["n01440764/n01440764_10026.JPEG", "n01443537/n01443537_2.JPEG"]
    assert len(ImageNet(tmp_path, "test").item_ids()) == 1


def test_imagenet_val_in_class_folders(tmp_path):
    make_imagenet(tmp_path, val_in_classes=True)
    assert ImageNet(tmp_path).item_ids()[0] == "n01440764/ILSVRC2012_val_00000001.JPEG"


def test_imagenet_missing_split(tmp_path):
    write_image(tmp_path / "train" / "n01440764" / "a.JPEG")
    expected = r"no val/ folder \(looked for Data/CLS-LOC/val/.*expected layout: ROOT/Data/CLS-LOC"
    with pytest.raises(DatasetError, match=expected):
        ImageNet(tmp_path)


# --- dtd ---------------------------------------------------------------------------


def make_dtd(dtd: Path) -> None:
    for index, name in enumerate(["banded/banded_0002.jpg", "banded/banded_0004.jpg", "zigzagged/zigzagged_0010.jpg"]):
        write_image(dtd / "images" / name, colour(index))
    labels = dtd / "labels"
    labels.mkdir()
    (labels / "train1.txt").write_text("banded/banded_0004.jpg\n")
    (labels / "val1.txt").write_text("banded/banded_0002.jpg\n")
    (labels / "test1.txt").write_text("zigzagged/zigzagged_0010.jpg\nbanded/banded_0002.jpg\n\n")
    (labels / "test3.txt").write_text("banded/banded_0004.jpg\n")


@pytest.mark.parametrize("point_at_parent", [False, True])
def test_dtd_folds(tmp_path, point_at_parent):
    make_dtd(tmp_path / "dtd")
    root = tmp_path if point_at_parent else tmp_path / "dtd"
    dataset = DTD(root)
    assert dataset.split == "test"
    assert dataset.item_ids() == ["banded/banded_0002.jpg", "zigzagged/zigzagged_0010.jpg"]
    assert_colour(dataset.read("zigzagged/zigzagged_0010.jpg"), colour(2), tolerance=8)
    assert DTD(root, "test3").item_ids() == ["banded/banded_0004.jpg"]
    assert DTD(root, "train").item_ids() == ["banded/banded_0004.jpg"]
    assert DTD(root, "val1").item_ids() == ["banded/banded_0002.jpg"]


def test_dtd_errors(tmp_path):
    make_dtd(tmp_path)
    with pytest.raises(DatasetError, match="split file labels/val2.txt is missing.*expected layout: ROOT/images"):
        DTD(tmp_path, "val2")
    with pytest.raises(DatasetError, match="no split 'test11'"):
        DTD(tmp_path, "test11")
    with pytest.raises(DatasetError, match=r"no images/ folder \(nor dtd/images/\)"):
        DTD(tmp_path / "labels")


# --- deepfashion -------------------------------------------------------------------

CATEGORY_LIST = """4
image_name  evaluation_status
img/Sheer_Pleated-Front_Blouse/img_00000001.jpg                        train
img/Sheer_Pleated-Front_Blouse/img_00000002.jpg                        val
img/Sheer_Pleated-Front_Blouse/img_00000003.jpg                        test
img/Paisley_Print_Babydoll_Top/img_00000004.jpg                        test
"""

INSHOP_LIST = """3
image_name item_id evaluation_status
img/WOMEN/Dresses/id_00000002/02_1_front.jpg                 id_00000002 train
img/WOMEN/Dresses/id_00000002/02_2_side.jpg                  id_00000002 query
img/MEN/Denim/id_00000080/01_1_front.jpg                     id_00000080 gallery
"""


def make_deepfashion(root: Path, listing: str, images_under: str) -> list[str]:
    (root / "Eval").mkdir(parents=True)
    (root / "Eval" / "list_eval_partition.txt").write_text(listing)
    paths = [line.split()[0] for line in listing.splitlines()[2:]]
    for index, path in enumerate(paths):
        write_image(root / images_under / path, colour(index))
    return paths


def test_deepfashion_category_benchmark(tmp_path):
    paths = make_deepfashion(tmp_path, CATEGORY_LIST, ".")
    dataset = DeepFashion(tmp_path)
    assert dataset.item_ids() == sorted(paths[2:])
    assert_colour(dataset.read(paths[3]), colour(3), tolerance=8)
    assert DeepFashion(tmp_path, "val").item_ids() == [paths[1]]
    with pytest.raises(DatasetError, match="has no query rows"):
        DeepFashion(tmp_path, "query")


def test_deepfashion_inshop_under_img(tmp_path):
    paths = make_deepfashion(tmp_path, INSHOP_LIST, "Img")
    dataset = DeepFashion(tmp_path)
    assert dataset.item_ids() == sorted(paths[1:])  # test = query + gallery
    assert_colour(dataset.read(paths[1]), colour(1), tolerance=8)
    assert DeepFashion(tmp_path, "gallery").item_ids() == [paths[2]]
    with pytest.raises(DatasetError, match=r"no val rows \(statuses present: gallery, query, train\)"):
        DeepFashion(tmp_path, "val")


def test_deepfashion_layout_errors(tmp_path):
    with pytest.raises(DatasetError, match="no Eval/list_eval_partition.txt.*expected layout"):
        DeepFashion(tmp_path)
    (tmp_path / "Eval").mkdir()
    (tmp_path / "Eval" / "list_eval_partition.txt").write_text(INSHOP_LIST)
    with pytest.raises(DatasetError, match="listed image img/MEN/Denim/.* is neither under the root nor under Img/"):
        DeepFashion(tmp_path)


# --- lsun ----------------------------------------------------------------------------


BINARY_KEY = b"\x00bin/key\xff"


def make_lsun(root: Path) -> dict[str, dict[bytes, bytes]]:
    lmdb = pytest.importorskip("lmdb")
    databases = {
        "bedroom_val_lmdb": {
            b"0a1b2c3d4e5f": encoded(colour(0), ".jpg"),
            b"ffee0011": encoded(colour(1), ".webp"),
            BINARY_KEY: encoded(colour(2)),
        },
        "kitchen_val_lmdb": {b"00000001": encoded(colour(3)), b"broken": b"not an image"},
        "bedroom_train_lmdb": {b"aaaa": encoded(colour(4))},
    }
    for name, items in databases.items():
        env = lmdb.open(str(root / name), map_size=1 << 22)
        with env.begin(write=True) as txn:
            for key, value in items.items():
                txn.put(key, value)
        env.close()
    return databases


def test_lsun_splits_and_reversible_ids(tmp_path):
    databases = make_lsun(tmp_path)
    dataset = LSUN(tmp_path)
    assert dataset.split == "val"
    ids = dataset.item_ids()
    assert ids == sorted(ids) and len(ids) == 5
    assert "bedroom_val_lmdb/0a1b2c3d4e5f" in ids
    assert "bedroom_val_lmdb/hex:0062696e2f6b6579ff" in ids  # not plain ASCII: hex
    for item_id in ids:
        database, _, key = item_id.partition("/")
        assert id_to_key(key) in databases[database]
    assert_colour(dataset.read("bedroom_val_lmdb/0a1b2c3d4e5f"), colour(0), tolerance=8)
    assert_colour(dataset.read("bedroom_val_lmdb/ffee0011"), colour(1))
    assert_colour(dataset.read("bedroom_val_lmdb/" + key_to_id(BINARY_KEY)), colour(2))
    assert LSUN(tmp_path, "bedroom_val").item_ids() == [i for i in ids if i.startswith("bedroom_val_lmdb/")]
    assert LSUN(tmp_path, "train").item_ids() == ["bedroom_train_lmdb/aaaa"]


def test_lsun_errors(tmp_path):
    make_lsun(tmp_path)
    dataset = LSUN(tmp_path)
    with pytest.raises(ImageReadError, match=r"kitchen_val_lmdb key broken: not a decodable image"):
        dataset.read("kitchen_val_lmdb/broken")
    with pytest.raises(ImageReadError, match="no such key"):
        dataset.read("kitchen_val_lmdb/absent")
    with pytest.raises(DatasetError, match=r"church_outdoor_val_lmdb/data.mdb is missing.*expected layout"):
        LSUN(tmp_path, "church_outdoor_val")
    with pytest.raises(DatasetError, match=r"no \*_val_lmdb/ database"):
        LSUN(tmp_path / "bedroom_val_lmdb")


def test_lsun_without_lmdb_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "lmdb", None)  # makes `import lmdb` fail
    with pytest.raises(DatasetError, match=r"pip install 'inpaintbench\[lsun\]'"):
        LSUN(tmp_path)


# --- cifar10 ----------------------------------------------------------------------------


@pytest.mark.parametrize("point_at_batches", [False, True])
def test_cifar10_reads_planar_rows_as_hwc(tmp_path, point_at_batches):
    batches = make_cifar(tmp_path / "cifar-10-batches-py")
    dataset = CIFAR10(tmp_path / "cifar-10-batches-py" if point_at_batches else tmp_path)
    assert dataset.split == "test"
    assert dataset.item_ids() == ["test_batch/00000", "test_batch/00001", "test_batch/00002"]
    image = dataset.read("test_batch/00001")
    np.testing.assert_array_equal(image, batches["test_batch"][1])
    assert image.flags.writeable
    train = CIFAR10(tmp_path, "train")
    assert len(train.item_ids()) == 15 and train.item_ids()[-1] == "data_batch_5/00002"



def test_results_inside_a_fixed_list_dataset_are_allowed_but_not_inside_a_scanned_folder(tmp_path):
    """Pickled batches never gain items from PNGs written beside them; a folder of images does."""
    make_cifar(tmp_path / "cifar-10-batches-py")
    assert not CIFAR10(tmp_path).lists_files_under(tmp_path / "results")
    write_photos(tmp_path / "photos", ["a.png", "b.png"])
    folder = FolderDataset(tmp_path / "photos")
    assert folder.lists_files_under(tmp_path / "photos" / "results") and not folder.lists_files_under(tmp_path / "elsewhere")

def test_cifar10_known_pixel_channel_order(tmp_path):
    images = np.zeros((1, 32, 32, 3), np.uint8)
    images[0, 3, 5] = (255, 128, 7)  # R, G, B at row 3, column 5
    write_cifar_batch(tmp_path / "test_batch", images, [9])
    row = pickle.loads((tmp_path / "test_batch").read_bytes(), encoding="bytes")[b"data"][0]
    assert (row[3 * 32 + 5], row[1024 + 3 * 32 + 5], row[2048 + 3 * 32 + 5]) == (255, 128, 7)
    assert tuple(CIFAR10(tmp_path).read("test_batch/00000")[3, 5]) == (255, 128, 7)


def test_cifar10_errors(tmp_path):
    make_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="batch file data_batch_3 is missing.*expected layout"):
        CIFAR10(tmp_path, "train")
    dataset = CIFAR10(tmp_path)
    with pytest.raises(ImageReadError, match="past the end"):
        dataset.read("test_batch/00003")
    with pytest.raises(ImageReadError, match="not an item of split 'test'"):
        dataset.read("data_batch_1/00000")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar10_refuses_pickles_that_run_code(tmp_path):
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": _Evil()}, protocol=2))
    with pytest.raises(DatasetError, match=r"refusing to load (__builtin__|builtins)\.print"):
        CIFAR10(tmp_path).item_ids()


# --- config -------------------------------------------------------------------------------


def test_root_precedence_cli_env_config(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[datasets.paris-streetview]\nroot = "data/paris"\n\n[datasets.dtd]\nroot = "/abs/dtd"\n')
    monkeypatch.setenv("INPAINTBENCH_CONFIG", str(config))
    assert resolve_root("paris-streetview", None) == (tmp_path / "data" / "paris", f"config {config}")
    assert resolve_root("dtd", None) == (Path("/abs/dtd"), f"config {config}")
    monkeypatch.setenv(env_var("paris-streetview"), "/from/env")
    assert resolve_root("paris-streetview", None) == (Path("/from/env"), "INPAINTBENCH_PARIS_STREETVIEW_ROOT")
    assert resolve_root("paris-streetview", "/from/cli") == (Path("/from/cli"), "--root")
    assert resolve_root("imagenet", None) == (None, "not set")


def test_no_config_file_is_fine_and_a_broken_one_is_named(tmp_path, monkeypatch):
    assert resolve_root("dtd", None) == (None, "not set")  # conftest points at a missing file
    config = tmp_path / "config.toml"
    config.write_text("[datasets.dtd\nroot = 1\n")
    monkeypatch.setenv("INPAINTBENCH_CONFIG", str(config))
    with pytest.raises(DatasetError, match=f"config file {config} is not valid TOML: .*line 1"):
        resolve_root("dtd", None)
    config.write_text("[datasets.dtd]\nroot = 1\n")
    with pytest.raises(DatasetError, match=r"\[datasets.dtd\] needs a string key root"):
        resolve_root("dtd", None)


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("INPAINTBENCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "inpaintbench"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "inpaintbench"
    monkeypatch.setenv("INPAINTBENCH_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


# --- sample ----------------------------------------------------------------------------------


def test_sample_builds_once_into_the_cache():
    dataset = Sample()
    assert dataset.root == cache_dir() / "sample-v1"
    ids = dataset.item_ids()
    assert 40 <= len(ids) <= 48
    assert ids[:3] == ["astronaut-0.png", "astronaut-1.png", "astronaut-2.png"]
    for item_id in ("astronaut-0.png", "camera-2.png", "retina-1.png"):
        image = dataset.read(item_id)
        assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    camera = dataset.read("camera-0.png")
    assert (camera[..., 0] == camera[..., 1]).all() and (camera[..., 1] == camera[..., 2]).all()
    assert Sample(None, "test").item_ids() == ids


def test_sample_build_is_deterministic(tmp_path):
    build_sample(tmp_path / "one")
    build_sample(tmp_path / "two")
    one = {p.name: p.read_bytes() for p in sorted((tmp_path / "one").iterdir())}
    two = {p.name: p.read_bytes() for p in sorted((tmp_path / "two").iterdir())}
    assert one == two
    assert manifest_hash(Sample(tmp_path / "one").item_ids()) == manifest_hash(list(two))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # no temp dir left


def test_sample_concurrent_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINTBENCH_CACHE", str(tmp_path))
    results, errors = [], []

    def first_use():
        try:
            results.append(Sample().item_ids())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 3 and results[0] == results[1] == results[2]
    assert [p.name for p in tmp_path.iterdir()] == ["sample-v1"]  # losers' temp dirs removed
    build_sample(tmp_path / "sample-v1")  # target already there: kept, no error
    assert Sample().item_ids() == results[0]


def test_sample_without_photographs_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr("inpaintbench.datasets.sample._skimage_data_dir", lambda: tmp_path / "empty")
    with pytest.raises(DatasetError, match="none of its photographs is in .*empty; reinstall scikit-image"):
        build_sample(tmp_path / "target")
    assert list(tmp_path.iterdir()) == []


# --- registry ----------------------------------------------------------------------------------


def test_register_datasets_hook_registers_every_builtin():
    import inpaintbench.datasets as datasets_module

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(datasets_module)
    registered = []
    manager.hook.register_datasets(register=registered.append)
    assert registered == list(BUILTIN_DATASETS)
    names = [dataset.name for dataset in registered]
    assert len(set(names)) == len(names)
    assert set(names) == {"paris-streetview", "imagenet", "deepfashion", "dtd", "lsun", "cifar10", "folder", "sample"}


@pytest.mark.parametrize("dataset", BUILTIN_DATASETS, ids=lambda d: d.name)
def test_builtin_contract(dataset):
    assert dataset.summary and dataset.layout
    assert dataset.default_split in dataset.splits
    if dataset.needs_root:
        with pytest.raises(DatasetError, match=env_var(dataset.name)):
            dataset(None)

