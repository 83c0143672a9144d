"""The CLI answers --help, listings and argument errors without importing its heavy dependencies.

torch, pandas, scikit-image and matplotlib cost from 0.2 s to over a second
each at startup; they belong inside the commands that compute something.
Each check runs in a fresh interpreter, because this test process imported
them all long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HEAVY = ("torch", "pandas", "skimage", "matplotlib")


def _run_fresh(body: str) -> dict:
    """Run ``body`` in a new interpreter; it sets ``result`` (a dict), returned with the heavy modules it left loaded."""
    script = textwrap.dedent(body) + textwrap.dedent(f"""
        import json, sys
        result["heavy"] = sorted(name for name in {HEAVY!r} if name in sys.modules)
        print(json.dumps(result))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_help_of_every_command_and_the_registries_import_nothing_heavy():
    result = _run_fresh("""
        import click
        from inpaintbench import registry
        from inpaintbench.cli import main

        def walk(command, context):
            yield command, context
            if isinstance(command, click.Group):
                for name in command.list_commands(context):
                    sub = command.get_command(context, name)
                    yield from walk(sub, click.Context(sub, info_name=name, parent=context))

        helped = []
        for command, context in walk(main, click.Context(main, info_name="inpaintbench")):
            assert command.get_help(context)
            helped.append(context.command_path)
        result = {
            "helped": helped,
            "methods": [entry.name for entry in registry.list_methods()],
            "datasets": [entry.name for entry in registry.list_datasets()],
        }
    """)
    assert result["heavy"] == []
    for path in ("inpaintbench", "inpaintbench compare", "inpaintbench train", "inpaintbench methods",
                 "inpaintbench experiment table-vi", "inpaintbench experiment encoder-study"):
        assert path in result["helped"]
    assert {"telea", "biharmonic", "patchmatch", "ours", "glcic", "context-encoder"} <= set(result["methods"])
    assert "sample" in result["datasets"]


def test_listings_and_argument_errors_import_nothing_heavy():
    result = _run_fresh("""
        import pathlib, shutil, tempfile
        from click.testing import CliRunner
        from inpaintbench.cli import main

        photo = pathlib.Path(tempfile.mkdtemp()) / "photo.png"
        photo.write_bytes(b"")
        inpaint = ["--mask", str(photo), "--out", str(photo.parent / "out")]
        calls = [
            ["methods"], ["methods", "patchmatch"], ["methods", "no-such-method"], ["datasets"],
            ["scorers"], ["masks", "protocols"],
            ["train", "no-such-method"], ["compare", "--no-such-flag"],
            ["inpaint", "no-such-method", str(photo.parent / "missing.png"), *inpaint],
            ["inpaint", "no-such-method", str(photo), *inpaint],
            ["experiment", "table-vi", "--methods", "no-such-method", "--steps", "1"],
            ["experiment", "generalise", "--on", "sample", "--methods", "no-such-method"],
            ["experiment", "encoder-study", "--methods", "no-such-method"],
        ]
        result = {"exit_codes": [CliRunner().invoke(main, args).exit_code for args in calls]}
        shutil.rmtree(photo.parent)
    """)
    assert result["exit_codes"] == [0, 0, 2, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2]
    assert result["heavy"] == []


def test_the_trainable_methods_name_their_recipe_without_importing_it():
    result = _run_fresh("""
        import sys
        from inpaintbench import registry

        trainable = [entry.cls for entry in registry.list_methods() if entry.cls.trainable]
        before = "torch" in sys.modules
        recipes = {cls.name: cls.recipe_class().__name__ for cls in trainable}
        result = {"torch_before": before, "recipes": recipes, "torch_after": "torch" in sys.modules}
    """)
    assert result["torch_before"] is False and result["torch_after"] is True
    assert result["recipes"] == {"context-encoder": "ContextEncoderRecipe", "glcic": "GlcicRecipe", "ours": "OursRecipe"}


def test_importing_the_toolkit_makes_waiting_openmp_threads_sleep_unless_the_user_chose():
    """Spinning OpenMP threads collapse beside another busy process; the policy must be set before torch loads."""
    code = "import os, inpaintbench, torch; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.strip() == "PASSIVE"
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, check=True)
    assert chosen.stdout.strip() == "ACTIVE"
