"""Every registered method passes the contract; the classical ones behave as documented."""

import ast
from pathlib import Path

import numpy as np
import pytest

from inpaintbench import registry
from inpaintbench.errors import InpaintbenchError, MethodOutputError
from inpaintbench.methods import check_output, parse_options
from inpaintbench.testing import check_method, contract_inputs

RUNNABLE = [entry.name for entry in registry.list_methods() if not entry.cls.needs_checkpoint]


def test_the_method_contract_imports_neither_torch_nor_the_training_code():
    """TrainableMethod lives with the training code, so the contract stays light and no import cycle runs through it."""
    from inpaintbench import methods

    tree = ast.parse(Path(methods.__file__).read_text())

    def imported(nodes) -> list[str]:
        names = [alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names]
        return names + [node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)]

    anywhere, at_import = imported(list(ast.walk(tree))), imported(tree.body)
    assert {"numpy", "errors"} <= set(at_import)  # the walk sees them all, relative ones by their module's name
    assert not [name for name in anywhere if "training" in name.split(".")], anywhere
    assert not [name for name in at_import if name.split(".")[0] == "torch"], at_import


@pytest.mark.parametrize("name", RUNNABLE)
def test_contract(name):
    check_method(registry.create_method(name))


@pytest.mark.parametrize("name", RUNNABLE)
def test_hole_is_actually_filled(name):
    images, masks = contract_inputs()
    output = registry.create_method(name).inpaint(images.copy(), masks.copy())
    assert output[masks].mean() > 20  # zeros in the hole would mean nothing was filled


def test_mean_fill_uses_known_pixels_only():
    image = np.zeros((1, 8, 8, 3), np.uint8)
    image[..., 0] = 100
    mask = np.zeros((1, 8, 8), bool)
    mask[0, 2:6, 2:6] = True
    image[mask] = 0
    out = registry.create_method("mean-fill").inpaint(image, mask)
    assert (out[mask] == [100, 0, 0]).all()


def test_options_are_typed_and_checked():
    cls = registry.method_class("telea")
    assert parse_options(cls, {"radius": "5"}).radius == 5
    with pytest.raises(InpaintbenchError, match="not a valid int"):
        parse_options(cls, {"radius": "five"})
    with pytest.raises(InpaintbenchError, match="has no option 'size'"):
        parse_options(cls, {"size": "3"})
    assert parse_options(registry.method_class("biharmonic"), {"split-into-regions": "yes"}).split_into_regions


def test_wrong_outputs_are_rejected_with_the_method_name():
    images, _ = contract_inputs()
    with pytest.raises(MethodOutputError, match="'m' returned dtype float64"):
        check_output("m", images.astype(float), images)
    with pytest.raises(MethodOutputError, match="shape"):
        check_output("m", images[:1], images)


def test_unsupported_device_is_refused():
    with pytest.raises(InpaintbenchError, match="does not run on 'cuda'"):
        registry.create_method("telea", device="cuda")
