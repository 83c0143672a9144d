"""``inpaintbench inpaint``: one method on the user's own photographs and masks, at full size."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ..devices import check_device, pick_device
from ..errors import InpaintbenchError, one_line
from . import key_value_pairs
from .evaluate import max_pixels_option


@click.command("inpaint")
@click.argument("method")
@click.argument("images", type=click.Path(path_type=Path))
@click.option("--mask", "masks", required=True, type=click.Path(path_type=Path),
              help="Mask image (white = hole) or folder of masks paired by name (photo.png / photo_mask.png, or equal stems).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the completed images (same names as the inputs).")
@click.option("-o", "--option", "option_values", multiple=True, help="Method option KEY=VALUE (repeatable).")
@click.option("--checkpoint", type=click.Path(path_type=Path), help="Trained weights (run directory or model.pt) for a learned method.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto.")
@max_pixels_option
@click.option("--overwrite", is_flag=True, help="Complete images whose output already exists again (default: keep them).")
def inpaint_command(method, images, masks, out, option_values, checkpoint, device, overwrite):
    """Complete IMAGES (a photograph or a folder of them) where --mask is white, at their own resolution.

    The known pixels are kept exactly; outputs keep each input's name and
    relative folder under --out.  Methods trained for one size and hole
    refuse other inputs and say what they accept.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import registry
    from ..inpaint_files import complete_file, plan

    check_device(device)
    jobs = plan(images, masks, out)
    cls = registry.method_class(method)
    if cls.needs_checkpoint and checkpoint is None:
        raise InpaintbenchError(f"method {method!r} needs trained weights: pass --checkpoint RUN_DIR (see `inpaintbench train {method}`)")
    built = registry.create_method(method, dict(key_value_pairs(option_values, "-o")), pick_device(device, cls.devices), checkpoint)
    console = Console(stderr=True, soft_wrap=True)
    todo = [job for job in jobs if overwrite or not job.output.exists()]
    if len(todo) < len(jobs):
        console.print(f"kept {len(jobs) - len(todo)} completed image(s) already in {out} (--overwrite to redo them)")
    done, problems = 0, []
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=len(todo) < 2) as progress:
        task = progress.add_task(f"{method} on {images}", total=len(todo))
        for job in todo:
            try:
                complete_file(built, job)
                done += 1
            except InpaintbenchError as error:
                problems.append((job.image, str(error)))
            except Exception as error:  # a method's bug: report this image, go on with the others
                problems.append((job.image, f"{method} failed: {one_line(error)}"))
            progress.advance(task)
    if len(jobs) == 1 and problems:
        raise InpaintbenchError(problems[0][1])
    for image, reason in problems:
        console.print(f"[yellow]skipped[/yellow] {escape(str(image))}: {escape(reason)}", highlight=False)
    console.print(f"completed {done} of {len(todo)} image(s) into {out}")
    if problems and not done:
        raise SystemExit(1)


COMMANDS = (inpaint_command,)
