"""``inpaintbench run`` (one method, all images saved), ``inpaintbench compare`` (the table) and ``merge`` (its shards)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape

from .. import registry
from ..devices import Ranks, check_device
from ..errors import InpaintbenchError
from ..tables import FORMATS
from . import key_value_pairs, method_options

if TYPE_CHECKING:  # the evaluation modules load numpy, pandas and OpenCV: imported by the commands that run
    from ..evaluation import MethodRequest
    from ..methods import Method
    from ..results import ResultsStore
    from ..runner import Report, RunSpec

MASK_HELP = (
    "Mask protocol: center, random-box, irregular (irregular:20-30 picks an area bin), "
    "files:DIR (your own masks, white = hole, paired with the images by name), "
    "or one a plugin registers (`inpaintbench masks protocols` lists them)."
)


def _set_max_pixels(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    """Through the environment, so that worker processes apply it too; the caller's value is back when the command ends.

    Without the option, a malformed ``INPAINTBENCH_MAX_PIXELS`` is refused here, once, rather than by every image.
    """
    from ..images import MAX_PIXELS_VARIABLE, max_pixels

    if value is None:
        max_pixels()
        return

    previous = os.environ.get(MAX_PIXELS_VARIABLE)
    os.environ[MAX_PIXELS_VARIABLE] = str(value)

    def restore() -> None:
        if previous is None:
            os.environ.pop(MAX_PIXELS_VARIABLE, None)
        else:
            os.environ[MAX_PIXELS_VARIABLE] = previous

    ctx.call_on_close(restore)


max_pixels_option = click.option(
    "--max-pixels", type=click.IntRange(min=1), expose_value=False, callback=_set_max_pixels,
    help="Skip (and report) images with more pixels than this, read from the header before decoding.  [default: 150,000,000]",
)


def benchmark_options(command):
    """What is evaluated: the dataset, its split, the protocol and the seeded selection (compare, run, masks export)."""
    decorators = [
        click.option("--dataset", default="sample", show_default=True, help="Registered dataset name (see `inpaintbench datasets`)."),
        click.option("--root", type=click.Path(path_type=Path), help="Dataset root (else its environment variable or the config file)."),
        click.option("--split", help="Dataset split (default: the dataset's evaluation split)."),
        click.option("--mask", default="center", show_default=True, help=MASK_HELP),
        click.option("--image-size", default=128, show_default=True, help="Side of the square benchmark images."),
        click.option("--limit", type=click.IntRange(min=1), help="Evaluate only this many items (chosen by seed)."),
        click.option("--seed", default=0, show_default=True, help="Seed of masks and item selection; recorded with the results."),
        max_pixels_option,
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _dataset_options(command):
    """:func:`benchmark_options` plus how methods run: run and compare."""
    command = click.option("--batch-size", default=16, show_default=True, type=click.IntRange(min=1))(command)
    command = click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto (cuda when the method and machine support it).")(command)
    return benchmark_options(command)


def _trained_run(method: str, dataset: str) -> tuple[Path | None, str]:
    """The conventional place of a trained model: ``runs/METHOD-DATASET-s*/model.pt`` (train's default --out)."""
    from ..training.checkpoint import MODEL_FILE
    from ..training.config import default_run_dir

    found = sorted(Path().glob(str(default_run_dir(method, dataset, "*") / MODEL_FILE)))
    if len(found) == 1:
        return found[0].parent, ""
    if found:
        return None, f"several trained runs ({', '.join(str(p.parent) for p in found)}); pick one with --checkpoint {method}=RUN_DIR"
    return None, ""


def _find_trained_run(dataset: str):
    """compare's weights finder: the one conventional run of the method, else why it is not in the table."""

    def find(request: MethodRequest) -> Path | str:
        cls = registry.method_class(request.method)
        found, problem = _trained_run(request.method, dataset) if cls.trainable else (None, "")
        if found is not None:
            Console(stderr=True).print(f"{request.method}: using the trained run in {found}")
            return found
        hint = f"; train it with: inpaintbench train {request.method} --dataset {dataset}" if cls.trainable else ""
        return problem or f"not trained (pass --checkpoint {request.method}=RUN_DIR{hint})"

    return find


def _warn_if_trained_on_these_images(methods: dict[str, Method], data, console: Console) -> None:
    """Scores of a model on its own training images are not a benchmark: say so before the table."""
    for name, method in methods.items():
        trained = getattr(method, "trained_on", None) or {}
        if trained.get("dataset") == data.name and data.splits_share_images(trained.get("split") or "", data.split):
            console.print(
                f"[yellow]warning:[/yellow] {name} was trained on {data.name}:{trained['split']}, which shares images "
                f"with the evaluated split {data.name}:{data.split}; its scores are not on held-out images"
            )


def evaluate_with_progress(
    spec: RunSpec,
    methods: dict[str, Method],
    store: ResultsStore,
    unavailable: dict[str, str],
    run: Callable[..., Report],
    show: bool = True,
) -> Report:
    """Evaluate under a progress bar, then say what was resumed, skipped or failed.

    ``run(advance=..., on_start=...)`` scores ``methods`` into ``store`` (the
    evaluation service's call); ``show=False`` hides the bar (torchrun ranks
    other than 0 share rank 0's terminal).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    _warn_if_trained_on_these_images(methods, spec.dataset, console)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    where = f" (shard {spec.shard[0]}/{spec.shard[1]})" if spec.shard else ""
    with Progress(*columns, console=console, transient=False, disable=not show) as progress:
        task = progress.add_task(f"{', '.join(methods) or 'nothing'} on {spec.dataset.name}{where}", total=None)
        try:
            report = run(advance=lambda n: progress.advance(task, n), on_start=lambda total: progress.update(task, total=total))
        except KeyboardInterrupt:
            progress.stop()
            console.print(f"interrupted: finished pairs are stored in {store.root}; rerun the same command to continue")
            raise SystemExit(130) from None
    skipped = sum(report.skipped.values())
    if skipped:
        console.print(f"resumed: {skipped} (image, method) pairs were already scored in {store.root}")
    for _item_id, reason in report.unreadable:
        console.print(f"[yellow]skipped[/yellow] {reason}")
    for name, errors in report.method_errors.items():
        items = sum(count for count, _ in errors)
        state = "stopped after repeated errors" if name in report.failed_methods else f"failed on {items} item(s)"
        console.print(f"[red]method {name!r} {state}:[/red] {errors[-1][1]} (all errors: {store.root / 'failures.jsonl'})")
    for name, errors in report.scorer_errors.items():
        pairs = sum(count for count, _ in errors)
        console.print(
            f"[red]scorer {escape(name)!r} failed on {pairs} (image, method) pair(s):[/red] {escape(errors[-1][1])}; "
            f"their other scores are kept (all errors: {store.root / 'failures.jsonl'})", highlight=False,
        )
    for name, missing in report.missing.items():
        shown = ", ".join(item for item, _ in missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        console.print(
            f"[yellow]{escape(name)}: {len(missing)} prediction(s) missing or unusable[/yellow] ({escape(shown)}); "
            f"e.g. {escape(missing[0][1])} (all: {store.root / 'failures.jsonl'})", highlight=False,
        )
    for name, reason in report.crashed_workers.items():
        console.print(f"[red]worker for {name} crashed:[/red] {escape(reason)}; what it finished is kept, rerun the same command to continue")
    return report


@click.command("compare")
@_dataset_options
@click.option("--methods", "method_list", help="Comma-separated methods (default: every registered method).")
@click.option("--out", type=click.Path(path_type=Path), help="Results directory (default: results/DATASET-SPLIT-MASK-sSEED).")
@click.option("-o", "--option", "option_values", multiple=True, help="Method option, METHOD.KEY=VALUE (repeatable).")
@click.option("--checkpoint", "checkpoint_values", multiple=True, help="Trained weights, METHOD=PATH (repeatable).")
@click.option("--grid-rows", default=8, show_default=True, help="Images in the comparison grid.")
@click.option("--format", "formats", type=click.Choice(FORMATS), default="rich", show_default=True, help="How to print the table.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=0),
              help="Worker processes for the CPU methods (0: one per core); the scores equal one process's.")
@click.option("--shard", "shard_text", metavar="K/N", help="Evaluate only shard K of N (K from 0) into OUT/shards/K-of-N; then `inpaintbench merge OUT`.")
@click.option("--predictions", "prediction_values", multiple=True, metavar="NAME=DIR",
              help="Score completed images made elsewhere as the row NAME (repeatable); DIR holds one file per item, named as `masks export` wrote the inputs.")
def compare_command(dataset, root, split, mask, image_size, limit, seed, device, batch_size, method_list, out, option_values, checkpoint_values,
                    grid_rows, formats, workers, shard_text, prediction_values):
    """Run several methods on one dataset and print the Table VI-style comparison.

    Under torchrun (WORLD_SIZE > 1) each rank evaluates shard RANK/WORLD_SIZE
    and rank 0 merges the shards and prints the table.
    """
    names = [n.strip() for n in method_list.split(",") if n.strip()] if method_list else [e.name for e in registry.list_methods()]
    for name in names:  # a typo is reported before anything is imported or opened
        registry.method_class(name)
    predictions = _prediction_folders(prediction_values, names)
    options = method_options(option_values)
    checkpoints = {name: Path(path) for name, path in key_value_pairs(checkpoint_values, "--checkpoint")}
    for name in [*options, *checkpoints]:
        if name not in names:
            raise InpaintbenchError(f"option or checkpoint given for {name!r}, which is not among --methods ({', '.join(names)})")
    from ..evaluation import MethodRequest, Outcome, build_lineup, check_workers, evaluate_lineup
    from ..protocol import Protocol
    from ..results import ResultsStore
    from ..runner import RunSpec
    from ..sharding import parse_shard

    ranks = Ranks() if shard_text else Ranks.from_environment()  # a shard given by hand is one process
    shard = parse_shard(shard_text) if shard_text else None
    check_workers(shard, ranks, workers)  # before the dataset is opened
    check_device(device)
    data = registry.open_dataset(dataset, root, split)
    protocol = Protocol(image_size=image_size, mask=mask)
    out = out or Path("results") / f"{dataset}-{data.split}-{_mask_label(protocol.mask)}-s{seed}"
    check_out(out, data)
    store = ResultsStore(out)
    spec = RunSpec(data, protocol, seed=seed, limit=limit, batch_size=batch_size, keep_images=grid_rows, shard=shard)
    requests = [MethodRequest(name, name, options.get(name, {}), checkpoints.get(name)) for name in names]
    lineup = build_lineup(requests, device, ranks, find_weights=_find_trained_run(dataset))
    lineup.methods.update(predictions)  # read by this process, item by item
    outcome = evaluate_lineup(spec, lineup, store, [*names, *predictions], workers, ranks, _display(ranks))
    if outcome is Outcome.SHARD_DONE:
        index, count = spec.shard or ranks.shard
        click.echo(f"shard {index}/{count} done; merge with: inpaintbench merge {store.root}")
    if outcome is not Outcome.COMPLETE:
        return
    with store.lock():
        reports = _print_summary(store, grid_rows, formats)
    requested = [*(names if method_list else []), *predictions]
    _fail_if_nothing_scored(requested, reports.summary)


def _display(ranks: Ranks):
    """The progress bar of :func:`evaluate_with_progress`, shown by torchrun's rank 0 only."""
    return lambda spec, methods, store, unavailable, run: evaluate_with_progress(
        spec, methods, store, unavailable, run=run, show=ranks.is_main
    )


def check_out(out: Path, data) -> None:
    """Refuse an --out inside the dataset (its PNGs would be scored as items on the next run), then prove it writable."""
    from ..results import prepare_directory

    if data.lists_files_under(out):
        raise InpaintbenchError(
            f"--out {out} is inside the dataset root {data.root}: the images written there would become items of "
            "the next run; choose an --out outside it"
        )
    prepare_directory(out)


def _mask_label(mask: str) -> str:
    """The protocol's part of a default results directory name (``irregular_20-30``, ``files-mymasks``)."""
    from ..mask_protocols import parse_mask

    return parse_mask(mask).label


def _fail_if_nothing_scored(requested: list[str], summary) -> None:
    """Exit 1 (after the table) when a method asked for by name has no row, or when nothing at all was scored."""
    rows = set(summary["method"])
    missing = [name for name in requested if name not in rows]
    if missing or summary.empty:
        which = ", ".join(missing) if missing else "any method"
        Console(stderr=True).print(f"[red]failed:[/red] no row for {escape(which)} (the reasons are above)", highlight=False)
        raise SystemExit(1)


def _prediction_folders(values: tuple[str, ...], names: list[str]) -> dict[str, Method]:
    """``--predictions NAME=DIR`` as methods that read DIR by item; NAME must not clash with a method's row."""
    from ..predictions import PredictionFolder

    folders: dict[str, Method] = {}
    for label, folder in key_value_pairs(values, "--predictions"):
        if label in names or label in folders:
            raise InpaintbenchError(f"--predictions {label}={folder}: the row {label!r} is already taken; name it otherwise")
        folders[label] = PredictionFolder(label, Path(folder))
    return folders


@click.command("merge")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="rich", show_default=True, help="How to print the table.")
@click.option("--grid-rows", default=8, show_default=True, help="Images in the comparison grid.")
def merge_command(results_dir: Path, fmt: str, grid_rows: int) -> None:
    """Merge RESULTS_DIR/shards/* (from compare --shard, --workers or torchrun) and print the table."""
    from ..results import ResultsStore
    from ..sharding import merge_shards

    store = ResultsStore(results_dir)
    with store.lock():
        merged = merge_shards(results_dir)
        rows = sum(merged.rows.values())
        Console(stderr=True).print(f"merged {len(merged.shards)} shard(s) into {results_dir}: {rows} new score rows, {merged.images} images")
        _print_summary(store, grid_rows, fmt)


@click.command("run")
@click.argument("method")
@_dataset_options
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Where completed PNGs and per-image scores go.")
@click.option("-o", "--option", "option_values", multiple=True, help="Method option KEY=VALUE (repeatable).")
@click.option("--checkpoint", type=click.Path(path_type=Path), help="Trained weights for the method.")
def run_command(method, dataset, root, split, mask, image_size, limit, seed, device, batch_size, out, option_values, checkpoint):
    """Run one method and save every completed image (PNG) with its scores."""
    from ..evaluation import MethodRequest, build_lineup, evaluate_lineup
    from ..protocol import Protocol
    from ..results import ResultsStore
    from ..runner import RunSpec

    request = MethodRequest(method, method, dict(key_value_pairs(option_values, "-o")), checkpoint)
    check_device(device)
    data = registry.open_dataset(dataset, root, split)
    spec = RunSpec(data, Protocol(image_size=image_size, mask=mask), seed=seed, limit=limit, batch_size=batch_size, keep_images=None)
    check_out(out, data)
    store = ResultsStore(out)
    one_process = Ranks()  # one method in one process: torchrun's variables are compare's business
    lineup = build_lineup([request], device, one_process, find_weights=_find_trained_run(dataset))
    if lineup.unavailable:
        raise InpaintbenchError(f"method {method!r}: {lineup.unavailable[method]}")
    evaluate_lineup(spec, lineup, store, [method], ranks=one_process, display=_display(one_process))
    with store.lock():
        reports = _print_summary(store, 8, "rich")
    Console(stderr=True).print(f"completed images: {store.root / 'images' / method}")
    _fail_if_nothing_scored([method], reports.summary)


def _print_summary(store: ResultsStore, grid_rows: int, fmt: str):
    from ..reports import write_reports
    from .table import print_table

    reports = write_reports(store, grid_rows)
    print_table(reports.summary, reports.record, fmt)
    Console(stderr=True).print(f"wrote {', '.join(str(p) for p in reports.written)}")
    return reports


COMMANDS = (compare_command, run_command, merge_command)
