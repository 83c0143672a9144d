"""Plugin discovery: an outside package installed with pip, broken plugins, duplicates; what listings show of a method."""

import dataclasses
import re

import pytest
from click.testing import CliRunner

from inpaintbench import Method, TrainableMethod, plugins, registry
from inpaintbench.cli import main
from inpaintbench.errors import DuplicateNameError, PluginError, UnknownNameError

from doc_examples import example_files, install_example, one_module_package, pip_install, run_cli
from plugin_doubles import registering


@pytest.fixture(scope="module")
def installed_plugins(tmp_path_factory):
    """The docs' example method plugin and a broken one, pip-installed into a throw-away directory."""
    root = tmp_path_factory.mktemp("plugins")
    site = install_example("rowmean", root, root / "site")
    pip_install(one_module_package(root, "broken", "raise ImportError('needs libfoo 2.0')\n"), site)
    misspelt = one_module_package(
        root, "misspelt", example_files("rowmean")["inpaintbench_rowmean.py"]
        .replace("def register_methods(", "def register_method(").replace('"row-mean"', '"row-mean-2"'),
    )
    pip_install(misspelt, site)
    return site


def test_docs_example_plugin_is_listed_after_pip_install(installed_plugins, tmp_path):
    result = run_cli(["methods"], installed_plugins, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "row-mean" in result.stdout and "inpaintbench-rowmean" in result.stdout
    assert "telea" in result.stdout  # built-ins still there
    assert "inpaintbench-broken" in result.stdout and "needs libfoo 2.0" in result.stdout
    described = run_cli(["methods", "row-mean"], installed_plugins, tmp_path)
    assert described.returncode == 0, described.stderr
    assert "brightness=1.0  (float)" in described.stdout and "factor applied to the row means" in described.stdout


def test_a_misspelt_hook_is_reported_by_plugin_and_the_rest_works(installed_plugins, tmp_path):
    result = run_cli(["methods"], installed_plugins, tmp_path)
    assert result.returncode == 0, result.stderr
    listed = " ".join(result.stdout.split())
    assert "inpaintbench-misspelt" in listed and "unknown hook 'register_method'" in listed
    assert "did you mean 'register_methods'?" in listed
    assert "row-mean-2" not in listed and "row-mean" in listed  # left out whole; the others still load
    assert run_cli(["compare", "--help"], installed_plugins, tmp_path).returncode == 0


def test_docs_example_plugin_runs_in_compare(installed_plugins, tmp_path):
    result = run_cli(["compare", "--methods", "row-mean,telea", "--limit", "2", "--out", "res",
                   "-o", "row-mean.brightness=1.0", "--format", "csv"], installed_plugins, tmp_path)
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert table.startswith("method,") and "row-mean" in table and "telea" in table
    assert (tmp_path / "res" / "scores" / "row-mean.jsonl").exists()
    import json

    entry = json.loads((tmp_path / "res" / "run.json").read_text())["methods"]["row-mean"]
    assert entry["distribution"] == "inpaintbench-rowmean 0.1.0" and entry["options"] == {"brightness": 1.0}


class _Dup(Method):
    name = "telea"

    def inpaint_one(self, image, mask):
        return image


def test_a_plugin_that_raises_while_registering_is_named(fresh_plugins):
    fresh_plugins.register(registering("register_methods", error=RuntimeError("cannot find CUDA")), name="gpu-only")
    assert "telea" in [entry.name for entry in registry.list_methods()]
    assert any(f.plugin == "gpu-only" and "cannot find CUDA" in f.error for f in plugins.plugin_failures())


def test_duplicate_names_are_an_error_not_a_silent_winner(fresh_plugins):
    fresh_plugins.register(registering("register_methods", _Dup), name="impostor")
    with pytest.raises(DuplicateNameError, match="impostor"):
        registry.method_class("telea")


def test_unknown_names_suggest_the_closest(fresh_plugins):
    with pytest.raises(UnknownNameError, match="did you mean 'telea'"):
        registry.method_class("telia")


# --- what listings show of a method ------------------------------------------------------


def _flat(text: str) -> str:
    """Whitespace collapsed, so that wrapped text can be searched for."""
    return " ".join(text.split())


def _methods(*args: str):
    return CliRunner().invoke(main, ["methods", *args], env={"COLUMNS": "80"})


def test_every_built_in_option_has_help():
    built_in = [entry for entry in registry.list_methods() if entry.source.startswith("inpaintbench:")]
    assert len(built_in) >= 8
    for entry in built_in:
        for field in dataclasses.fields(entry.cls.Options):
            assert field.metadata.get("help"), f"{entry.name}: option {field.name} has no help"


def test_methods_name_describes_capabilities_options_and_parameters():
    result = _methods("glcic")
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "needs checkpoint yes" in text and "trainable yes" in text and "devices cpu, cuda" in text and "batched yes" in text
    assert "postprocess=True (bool)" in text and "alpha=0.0004 (float)" in text and "mean_images=1000 (int)" in text
    assert "Telea + Poisson blending of the completion (inference only" in text
    counts = registry.method_class("glcic").parameter_counts()
    assert set(counts) == {"generator", "discriminator"}
    for network, count in counts.items():
        assert f"{network} {count / 1e6:.2f} M ({count:,})" in text


def test_methods_name_of_an_untrained_method_has_no_parameter_counts():
    text = _flat(_methods("telea", "-v").output)
    assert "needs checkpoint no" in text and "trainable no" in text and "devices cpu" in text and "batched no" in text
    assert "radius=3 (int)" in text and "parameters" not in text
    assert "options: none" in _flat(_methods("mean-fill").output)


def test_methods_with_an_unknown_name_is_one_line_listing_the_known_names():
    result = _methods("telia")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "unknown method 'telia'; did you mean 'telea'?" in result.output
    for entry in registry.list_methods():
        assert entry.name in result.output


def test_methods_verbose_fits_80_columns_and_cuts_nothing():
    result = _methods("-v")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "…" not in result.output and not any(line.endswith(" ") for line in result.output.splitlines())
    text = _flat(result.output)
    for entry in registry.list_methods():
        assert _flat(entry.cls.summary) in text
        for option in registry.option_docs(entry.name):
            assert f"{option.name}={option.default} ({option.type})" in text
            assert _flat(option.help) in text
    trainable = sum(entry.cls.trainable for entry in registry.list_methods())
    assert trainable >= 1 and text.count("parameters at the default options") == trainable


def _trainable(recipe, module: str = "inpaintbench_ours.method") -> type[TrainableMethod]:
    """A trainable method class whose ``Recipe`` is ``recipe``, as if defined in ``module``."""
    return type("Probe", (TrainableMethod,), {"name": "probe", "Recipe": recipe, "__module__": module})


def test_a_recipe_named_by_a_string_is_imported_on_first_use():
    from inpaintbench_ours.recipe import OursRecipe

    assert _trainable("inpaintbench_ours.recipe:OursRecipe").recipe_class() is OursRecipe
    assert _trainable(".recipe:OursRecipe").recipe_class() is OursRecipe  # relative to the method's package
    assert _trainable(OursRecipe).recipe_class() is OursRecipe  # a class is taken as it is


@pytest.mark.parametrize("recipe, message", [
    ("inpaintbench_ours.recipe.OursRecipe", "must look like 'package.module:ClassName'"),
    ("inpaintbench_ours.recipe:NoSuchRecipe", "cannot import its Recipe"),
    ("no_such_package.recipe:Recipe", "cannot import its Recipe"),
    (None, "sets no Recipe"),
])
def test_a_recipe_that_cannot_be_resolved_is_a_plugin_error_naming_the_method(recipe, message):
    with pytest.raises(PluginError, match=f"'probe'.*{re.escape(message)}"):
        _trainable(recipe).recipe_class()
