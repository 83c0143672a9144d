"""Mask protocols as a registered extension point: the built-ins unchanged, plugins end to end, registry errors."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench import MaskProtocol, plugins, registry
from inpaintbench.cli import main
from inpaintbench.errors import DuplicateNameError, InpaintbenchError, PluginError, UnknownNameError
from inpaintbench.images import read_image
from inpaintbench.mask_files import read_mask_file
from inpaintbench.mask_protocols import area_bins_of, parse_mask
from inpaintbench.masks import item_rng
from inpaintbench.protocol import Protocol
from inpaintbench.results import item_filename
from inpaintbench.tables import summarize_by_area

from doc_examples import install_example, run_cli
from plugin_doubles import registering

# --- the built-in protocols draw what they drew before they were registered ----------------

#: sha256 (first 16 hex digits) of the packed masks of three items at seeds 0 and 3, and of five
#: training draws, recorded with the code that preceded the registry: results directories and
#: resumes rely on every built-in protocol drawing the same holes under the same key
BEFORE_THE_REGISTRY = [
    ("center", 128, None, "center@128/64", "ef55d5b94d85af4b", "8fd4415b1b3d15c6"),
    ("center", 96, 40, "center@96/40", "db26cac3ae24d4d6", "f652c13a8d36693f"),
    ("random-box", 128, None, "random-box@128/64", "13b9d12517ed62ac", "6a401a5da20362e5"),
    ("random-box", 256, None, "random-box@256/128", "3f4eaa0eb5fc292d", "2ab851dd49115182"),
    ("irregular", 128, None, "irregular@128/64", "56d8c8b1c6029b24", "08f92d5ffdc84ac8"),
    ("irregular", 96, 40, "irregular@96/40", "5537000a68688771", "7215563e3490f2c3"),
    ("irregular:30-40", 128, None, "irregular:30-40@128/64", "c26e310654751989", "79ebad0033628247"),
    ("irregular:30-40", 256, None, "irregular:30-40@256/128", "3ad546d0a01a4bf7", "3f528e814863b3db"),
    ("irregular:", 128, None, "irregular:@128/64", "61864ceee7c65ede", "08f92d5ffdc84ac8"),
]


@pytest.mark.parametrize("mask, size, hole, key, items_digest, training_digest", BEFORE_THE_REGISTRY)
def test_built_in_protocols_keep_their_keys_and_masks(mask, size, hole, key, items_digest, training_digest):
    protocol = Protocol(image_size=size, mask=mask, hole_size=hole)
    assert protocol.key == key and protocol.describe()["mask"] == mask
    items = hashlib.sha256()
    for seed in (0, 3):
        for item in ("a/b.png", "x", "img_0007.jpg"):
            items.update(np.packbits(protocol.make_mask(item, seed)).tobytes())
    training = hashlib.sha256()
    for k in range(5):
        training.update(np.packbits(protocol.training_mask(np.random.default_rng(k))).tobytes())
    assert (items.hexdigest()[:16], training.hexdigest()[:16]) == (items_digest, training_digest)


def test_built_ins_are_registered_through_the_hook_and_listed():
    built_in = {entry.name: entry.source for entry in registry.list_mask_protocols()}
    assert built_in == dict.fromkeys(("center", "files", "irregular", "random-box"), "inpaintbench.mask_protocols")
    assert type(parse_mask("random-box")) is registry.mask_protocol_class("random-box")
    listed = CliRunner().invoke(main, ["masks", "protocols"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    for usage in ("center", "random-box", "irregular[:LOW-HIGH]", "files:DIR"):
        assert any(line.startswith(usage + " ") for line in lines), usage
    flat = " ".join(listed.output.split())
    assert "area bins 10-20, 20-30, 30-40, 40-50, 50-60 %" in flat
    assert "masks belong to items (not for training)" in flat and "from inpaintbench.mask_protocols" in flat


def test_files_protocol_has_no_training_draw(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")  # any file: the folder only has to exist and be indexed
    protocol = Protocol(mask=f"files:{tmp_path}")
    assert protocol.mask == f"files:{tmp_path.resolve()}"
    with pytest.raises(InpaintbenchError, match="cannot be used for training"):
        protocol.training_mask(np.random.default_rng(0))
    with pytest.raises(InpaintbenchError, match="need the image's size"):
        protocol.make_mask("a.png", 0)


# --- throw-away protocols on the plugin manager ---------------------------------------------


class _Noise(MaskProtocol):
    name = "noise"
    summary = "each pixel a hole with probability 0.3"

    def draw(self, rng, size, hole_size):
        return rng.random((size, size)) < 0.3


class _Bars(MaskProtocol):
    name = "bars"
    argument = "N"
    argument_help = "the number of bars"
    argument_required = True

    def __init__(self, argument=None):
        super().__init__(argument)
        if not argument.isdigit():
            raise InpaintbenchError(f"mask 'bars:{argument}': N is a whole number")
        self.count = int(argument)

    def draw(self, rng, size, hole_size):
        mask = np.zeros((size, size), bool)
        mask[:, rng.choice(size, self.count, replace=False)] = True
        return mask


class _Halves(MaskProtocol):
    name = "halves"
    area_bins = ((0.0, 0.5), (0.5, 1.0))

    def draw(self, rng, size, hole_size):
        return np.zeros((size, size), bool)


class _Grey(MaskProtocol):
    name = "grey"

    def draw(self, rng, size, hole_size):
        return np.full((size, size), 255, np.uint8)


def test_a_registered_protocol_draws_from_the_item_generator(fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", _Noise), name="noise-plugin")
    protocol = Protocol(mask="noise")
    mask = protocol.make_mask("a/b.png", 3)
    assert np.array_equal(mask, _Noise().draw(item_rng(3, "a/b.png", protocol.key), 128, 64))
    assert np.array_equal(mask, Protocol(mask="noise").make_mask("a/b.png", 3))
    assert not np.array_equal(mask, protocol.make_mask("a/c.png", 3))
    assert not np.array_equal(mask, protocol.make_mask("a/b.png", 4))
    assert protocol.training_mask(np.random.default_rng(1)).shape == (128, 128)


def test_argument_errors_are_one_line_and_name_the_protocol(fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", _Noise, _Bars), name="shapes")
    with pytest.raises(InpaintbenchError, match=r"mask 'noise:3': 'noise' takes no argument \(write --mask noise\)"):
        Protocol(mask="noise:3")
    with pytest.raises(InpaintbenchError, match="mask 'bars' needs the number of bars: --mask bars:N"):
        Protocol(mask="bars")
    with pytest.raises(InpaintbenchError, match="N is a whole number"):
        Protocol(mask="bars:many")
    assert Protocol(mask="bars:5").make_mask("x", 0).mean() == 5 / 128
    with pytest.raises(UnknownNameError, match="did you mean 'bars'"):
        Protocol(mask="bar:5")


def test_duplicate_protocol_names_are_an_error_not_a_silent_winner(fresh_plugins):
    class Impostor(_Noise):
        name = "center"

    fresh_plugins.register(registering("register_mask_protocols", Impostor), name="impostor")
    with pytest.raises(DuplicateNameError, match="impostor"):
        Protocol(mask="center")
    assert any(f.stage == "duplicate" and "impostor" in f.plugin for f in plugins.plugin_failures())


def test_broken_protocol_plugins_are_listed_and_the_rest_still_works(fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", error=RuntimeError("needs libstroke")), name="strokes-plugin")
    fresh_plugins.register(registering("register_mask_protocols", dict), name="not-a-protocol")
    listed = CliRunner().invoke(main, ["masks", "protocols"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    flat = " ".join(listed.output.split())
    assert "broken plugin 'strokes-plugin' failed to register: RuntimeError: needs libstroke" in flat
    assert "broken plugin 'not-a-protocol' failed to register" in flat and "MaskProtocol subclass" in flat
    assert Protocol(mask="irregular").make_mask("x", 0).any()


def test_a_drawn_mask_that_is_not_a_bool_square_names_the_protocol(fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", _Grey), name="grey-plugin")
    with pytest.raises(PluginError, match=r"mask protocol 'grey' drew ndarray \(128, 128\) uint8, expected a \(128, 128\) bool array"):
        Protocol(mask="grey").make_mask("x", 0)


def _scores(fractions: list[float]) -> pd.DataFrame:
    rows = []
    for k, fraction in enumerate(fractions):
        for method, offset in (("a", 0.0), ("b", 1.0)):
            rows.append({"method": method, "item": f"i{k}", "seconds": 0.1, "psnr": 20.0 + offset + k, "ssim": 0.8,
                         "psnr_hole": 15.0 + k, "ssim_hole": 0.5, "l1_hole": 0.1, "hole_fraction": fraction})
    return pd.DataFrame(rows)


def test_the_by_area_table_takes_the_bins_of_the_runs_protocol(fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", _Halves, _Noise), name="binned")
    scores = _scores([0.1, 0.2, 0.45, 0.5, 0.9])

    def table(mask):
        record = {"protocol": {"mask": mask}, "method_order": ["a", "b"], "seed": 0}
        return summarize_by_area(scores, record, n_resamples=20)

    halves = table("halves")
    assert list(halves["area"]) == ["0-50 %", "0-50 %", "50-100 %", "50-100 %"]
    assert list(halves["n"]) == [3, 3, 2, 2]
    irregular = table("irregular:20-30")  # the irregular protocol's five bins, whatever its argument
    assert sorted(set(irregular["area"])) == ["10-20 %", "20-30 %", "40-50 %", "50-60 %"]
    assert len(table("noise")) == 0 and len(table("center")) == 0
    assert len(table("uninstalled-plugin:3")) == 0 and area_bins_of("uninstalled-plugin") == ()


# --- labels: a protocol's part of a default results directory name -------------------------


class _Stencil(MaskProtocol):
    name = "stencil"
    argument = "FILE"
    argument_help = "an image whose dark pixels are the hole"

    def draw(self, rng, size, hole_size):
        mask = np.zeros((size, size), bool)
        mask[: size // 4] = True
        return mask


def test_labels_keep_the_built_in_names_and_flatten_a_path_argument(tmp_path, fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", _Stencil), name="stencil-plugin")
    (tmp_path / "my masks").mkdir()
    (tmp_path / "my masks" / "a.png").write_bytes(b"")
    assert [parse_mask(text).label for text in ("center", "random-box", "irregular", "irregular:20-30")] == [
        "center", "random-box", "irregular", "irregular_20-30",
    ]
    assert parse_mask(f"files:{tmp_path / 'my masks'}").label == "files-my masks"
    assert parse_mask("stencil:../shapes/v2 (final).png").label == "stencil_.._shapes_v2__final_.png"


def test_compare_names_its_default_directory_with_one_folder_for_a_path_argument(runner, tmp_path, fresh_plugins):
    fresh_plugins.register(registering("register_mask_protocols", _Stencil), name="stencil-plugin")
    result = runner.invoke(main, ["compare", "--methods", "mean-fill", "--limit", "2", "--mask", "stencil:shapes/top.png",
                                  "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert [path.name for path in (tmp_path / "results").iterdir()] == ["sample-test-stencil_shapes_top.png-s0"]
    assert (tmp_path / "results" / "sample-test-stencil_shapes_top.png-s0" / "table.csv").is_file()


# --- the docs' example plugin, pip-installed --------------------------------------------------


@pytest.fixture(scope="module")
def stripes_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("mask-plugins")
    return install_example("stripes", root, root / "site")


def _exported_masks(folder) -> dict[str, np.ndarray]:
    item_ids = json.loads((folder / "export.json").read_text())["item_ids"]
    return {item: read_mask_file(folder / "mask" / item_filename(item)) for item in item_ids}


def test_the_docs_example_protocol_runs_end_to_end(stripes_site, tmp_path, fresh_plugins, monkeypatch):
    listed = run_cli(["masks", "protocols"], stripes_site, tmp_path)
    assert listed.returncode == 0, listed.stderr
    flat = " ".join(listed.stdout.split())
    assert "stripes[:PERCENT]" in flat and "from inpaintbench-stripes:stripes" in flat
    assert "area bins 0-25, 25-50, 50-100 %" in flat

    compared = run_cli(["compare", "--mask", "stripes", "--methods", "telea", "--limit", "2", "--seed", "4",
                        "--out", "res", "--format", "csv"], stripes_site, tmp_path)
    assert compared.returncode == 0, compared.stderr
    assert json.loads((tmp_path / "res" / "run.json").read_text())["protocol"]["mask"] == "stripes"
    by_area = pd.read_csv(tmp_path / "res" / "table_by_area.csv")
    assert set(by_area["area"]) <= {"0-25 %", "25-50 %", "50-100 %"} and by_area["n"].sum() == 2

    for out in ("ex", "again"):
        exported = run_cli(["masks", "export", "--mask", "stripes", "--limit", "2", "--seed", "4", "--out", out],
                           stripes_site, tmp_path)
        assert exported.returncode == 0, exported.stderr
    masks, again = _exported_masks(tmp_path / "ex"), _exported_masks(tmp_path / "again")
    assert len(masks) == 2 and masks.keys() == again.keys()
    assert all(np.array_equal(masks[item], again[item]) for item in masks)  # reproducible by seed

    # the exported holes are the protocol's: stripes, the ones compare scored, and what the class draws
    scores = pd.read_csv(tmp_path / "res" / "scores.csv").set_index("item")
    for item, mask in masks.items():
        assert (mask.all(axis=1) | ~mask.any(axis=1)).all()  # whole rows only
        assert scores.loc[item, "hole_fraction"] == pytest.approx(mask.mean(), abs=1e-5)  # scores.csv keeps 6 digits
    monkeypatch.syspath_prepend(str(stripes_site))
    try:
        module = importlib.import_module("inpaintbench_stripes")
        fresh_plugins.register(module, name="inpaintbench-stripes:stripes")
        protocol = Protocol(mask="stripes")
        for item, mask in masks.items():
            assert np.array_equal(mask, protocol.make_mask(item, 4))
            assert not np.array_equal(mask, protocol.make_mask(item, 5))  # another seed, another hole
        with pytest.raises(InpaintbenchError, match="write the share of rows in percent"):
            Protocol(mask="stripes:0")
        assert Protocol(mask="stripes:40").make_mask("x", 0).mean() == round(0.4 * 128) / 128
    finally:
        sys.modules.pop("inpaintbench_stripes", None)


def test_exported_inputs_have_exactly_the_protocols_hole_zeroed(stripes_site, tmp_path):
    """masks export writes the image with exactly the protocol's hole zeroed."""
    exported = run_cli(["masks", "export", "--mask", "stripes:30", "--limit", "1", "--out", "ex"], stripes_site, tmp_path)
    assert exported.returncode == 0, exported.stderr
    (item, mask), = _exported_masks(tmp_path / "ex").items()
    masked = read_image(tmp_path / "ex" / "input" / item_filename(item))
    assert mask.mean() == round(0.3 * 128) / 128 and not masked[mask].any()
