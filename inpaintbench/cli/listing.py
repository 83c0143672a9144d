"""``inpaintbench methods``, ``datasets`` and ``scorers``: what is registered, and from where.

Listings read class attributes and the options dataclasses only, so they
import no method's heavy dependencies; the parameter counts of trainable
methods (``methods NAME``, ``methods -v``) build the networks on torch's meta
device, which imports torch.  The method listings are plain text wrapped to
the terminal (at most :data:`MAX_WIDTH` columns), never cut: every option
name and help text is shown in full.
"""

from __future__ import annotations

import shutil
import textwrap

import click
from rich.console import Console
from rich.table import Table

from .. import registry
from ..datasets.config import resolve_root
from ..errors import DatasetError
from ..plugins import plugin_failures
from ..registry import Entry
from ..training.method import TrainableMethod

#: lines longer than this are hard to read, however wide the terminal
MAX_WIDTH = 100


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@click.command("methods")
@click.argument("name", required=False)
@click.option("--verbose", "-v", is_flag=True,
              help="Describe every method as NAME does: options with type, default and help; parameter counts.")
def methods_command(name: str | None, verbose: bool) -> None:
    """List registered inpainting methods and broken plugins; with NAME, describe that method in full.

    A method's description gives its capabilities, every option (-o KEY=VALUE)
    with its type, default and help and, for trainable methods, the parameters
    of each network at the default options.
    """
    width = min(shutil.get_terminal_size().columns, MAX_WIDTH)
    if name is not None:
        click.echo(_describe_method(registry.method_entry(name), width))
        return
    entries = registry.list_methods()
    click.echo(_method_list(entries, width))
    if verbose:
        for entry in entries:
            click.echo("\n" + _describe_method(entry, width))
    _print_failures(Console())


def _wrap(text: str, width: int, indent: int, first: str | None = None) -> str:
    """``text`` wrapped to ``width``, its lines indented by ``indent``; ``first`` starts the first line instead.

    Words are never broken, not even at hyphens: names stay whole.
    """
    return textwrap.fill(
        text, width, initial_indent=" " * indent if first is None else first,
        subsequent_indent=" " * indent, break_on_hyphens=False, break_long_words=False,
    )


def _method_list(entries: list[Entry], width: int) -> str:
    """Each method's name, then its summary over a line of capabilities and the plugin it came from."""
    column = max((len(entry.name) for entry in entries), default=0) + 2
    lines = ["Inpainting methods (inpaintbench methods NAME describes one):"]
    for entry in entries:
        cls = entry.cls
        traits = [", ".join(cls.devices)]
        traits += [word for flag, word in ((cls.batched, "batched"), (cls.trainable, "trainable"),
                                           (cls.needs_checkpoint, "needs a checkpoint")) if flag]
        traits.append(f"from {entry.source}")
        lines.append(_wrap(cls.summary or "-", width, column, first=entry.name.ljust(column)))
        lines.append(_wrap("; ".join(traits), width, column))
    return "\n".join(lines)


def _describe_method(entry: Entry, width: int) -> str:
    """One method in full: summary, capabilities, options with type, default and help, parameter counts."""
    cls = entry.cls
    lines = [f"{entry.name}  (from plugin {entry.source})", _wrap(cls.summary or "-", width, 2), ""]
    facts = {
        "needs checkpoint": _yes(cls.needs_checkpoint) + (f" (--checkpoint {entry.name}=PATH)" if cls.needs_checkpoint else ""),
        "trainable": _yes(cls.trainable) + (f" (inpaintbench train {entry.name})" if cls.trainable else ""),
        "devices": ", ".join(cls.devices),
        "batched": _yes(cls.batched),
    }
    column = 2 + max(map(len, facts)) + 2
    lines += [_wrap(value, width, column, first=f"  {fact}".ljust(column)) for fact, value in facts.items()]

    options = registry.option_docs(entry.name)
    lines.append("")
    if not options:
        lines.append("  options: none")
    else:
        usage = f"set with -o KEY=VALUE; in compare and experiments -o {entry.name}.KEY=VALUE"
        lines.append(_wrap(f"options, defaults shown ({usage}):", width, 2))
        for option in options:
            lines.append(_wrap(f"{option.name}={option.default}  ({option.type})", width, 6, first="    "))
            if option.help:
                lines.append(_wrap(option.help, width, 8))
    if issubclass(cls, TrainableMethod):
        lines += ["", *_parameter_lines(cls, width)]
    return "\n".join(lines)


def _parameter_lines(cls: type[TrainableMethod], width: int) -> list[str]:
    """Parameters per network at the default options (``generator  71.12 M  (71,124,544)``)."""
    try:
        counts = cls.parameter_counts()
    except Exception as error:  # a plugin's recipe that cannot be imported or built: say so, describe the rest
        return [_wrap(f"parameters: not counted ({type(error).__name__}: {error})", width, 2)]
    column = max(map(len, counts), default=0)
    millions = {name: f"{count / 1e6:.2f} M" for name, count in counts.items()}
    digits = max(map(len, millions.values()), default=0)
    return ["  parameters at the default options:"] + [
        f"    {name:<{column}}  {millions[name]:>{digits}}  ({count:,})" for name, count in counts.items()
    ]


@click.command("datasets")
def datasets_command() -> None:
    """List dataset loaders and whether their data root is configured."""
    console = Console()
    table = Table(title="Datasets")
    table.add_column("name", no_wrap=True)
    table.add_column("from plugin", no_wrap=True)
    for column in ("root", "default split", "summary"):
        table.add_column(column)
    for entry in registry.list_datasets():
        cls = entry.cls
        table.add_row(entry.name, entry.source, _root_status(cls), cls.default_split, cls.summary)
    console.print(table)
    console.print("Set a root with --root PATH, an INPAINTBENCH_<NAME>_ROOT variable, or the config file (see docs/datasets.md).")
    _print_failures(console)


@click.command("scorers")
def scorers_command() -> None:
    """List registered scorers: the columns every table reports, with their direction."""
    console = Console()
    table = Table(title="Scorers (every one scores every completed image)")
    table.add_column("name", no_wrap=True)
    table.add_column("from plugin", no_wrap=True)
    table.add_column("columns")
    table.add_column("summary")
    for entry in registry.list_scorers():
        cls = entry.cls
        columns = ", ".join(f"{column.key} ({column.header})" for column in cls.columns)
        table.add_row(entry.name, entry.source, columns, cls.summary)
    console.print(table)
    _print_failures(console)


def _root_status(cls) -> str:
    if not cls.needs_root:
        return "bundled"
    try:
        root, origin = resolve_root(cls.name, None)
    except DatasetError as error:
        return f"[red]{error}[/red]"
    if root is None:
        return "not configured"
    mark = "" if root.is_dir() else " [red](missing)[/red]"
    return f"{root}{mark} (from {origin})"


def _print_failures(console: Console) -> None:
    for failure in plugin_failures():
        console.print(f"[red]broken plugin[/red] {failure}")


COMMANDS = (methods_command, datasets_command, scorers_command)
