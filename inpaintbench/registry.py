"""Name -> class registries for methods, datasets, scorers and mask protocols, filled through the plugin hooks.

This is the single source of truth for listing, creating and the CLI.  Each
plugin's hook is called on its own, so a plugin that raises while registering
is recorded (see :func:`inpaintbench.plugins.plugin_failures`) and the others
still register.  A name registered twice is unusable until one plugin is
removed: neither silently wins.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Generic, TypeVar

from .datasets.base import Dataset
from .errors import DuplicateNameError, InpaintbenchError, PluginError, UnknownNameError
from .mask_protocols import MaskProtocol
from .methods import Method, parse_options
from .plugins import PluginFailure, derived, plugin_manager, record_failure
from .results import REFERENCE_KINDS, is_row_name
from .scoring import Scorer

#: the base class of one kind of registered thing
Base = TypeVar("Base")


@dataclasses.dataclass(frozen=True)
class Entry(Generic[Base]):
    """A registered class and the plugin it came from."""

    name: str
    cls: type[Base]
    source: str


@dataclasses.dataclass
class _Table:
    entries: dict[str, Entry[Any]]
    duplicates: dict[str, list[str]]


#: kind -> (hook, the base class every registered class of that kind subclasses)
_KINDS: dict[str, tuple[str, type[Any]]] = {
    "method": ("register_methods", Method),
    "dataset": ("register_datasets", Dataset),
    "scorer": ("register_scorers", Scorer),
    "mask protocol": ("register_mask_protocols", MaskProtocol),
}


def _table(kind: str) -> _Table:
    tables = derived()
    if kind not in tables:
        hook_name, base = _KINDS[kind]
        manager = plugin_manager()
        table = _Table({}, {})
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            source = impl.plugin_name

            def register(cls: type, _source: str = source) -> None:
                _add(table, kind, base, cls, _source)

            try:
                impl.function(register=register)
            except Exception as error:
                record_failure(PluginFailure(source, "register", f"{type(error).__name__}: {error}"))
        for name, sources in table.duplicates.items():
            record_failure(
                PluginFailure(" and ".join(sources), "duplicate", f"{kind} {name!r} is registered by more than one plugin")
            )
        tables[kind] = table
    return tables[kind]


def _add(table: _Table, kind: str, base: type[Any], cls: Any, source: str) -> None:
    name = getattr(cls, "name", None)
    if not (isinstance(cls, type) and issubclass(cls, base)) or not name:
        raise PluginError(f"register() takes a {base.__name__} subclass with a name, got {cls!r}")
    if not is_row_name(name) or name != name.lower():  # registered names are also lower-case, like CLI words
        record_failure(PluginFailure(
            source, "register",
            f"{kind} name {name!r} is not allowed: use lower-case letters, digits, '.', '_', '+' or '-' "
            f"(starting with a letter or digit), and none of {', '.join(REFERENCE_KINDS)}",
        ))
        return
    if name in table.duplicates:
        table.duplicates[name].append(source)
    elif name in table.entries:
        table.duplicates[name] = [table.entries.pop(name).source, source]
    else:
        table.entries[name] = Entry(name, cls, source)


def _lookup(kind: str, name: str) -> Entry[Any]:
    table = _table(kind)
    if name in table.duplicates:
        raise DuplicateNameError(
            f"{kind} {name!r} is registered by several plugins ({', '.join(table.duplicates[name])}); "
            "uninstall all but one"
        )
    if name not in table.entries:
        raise UnknownNameError(kind, name, list(table.entries))
    return table.entries[name]


def list_methods() -> list[Entry[Method]]:
    """Every usable method, sorted by name."""
    return sorted(_table("method").entries.values(), key=lambda entry: entry.name)


def list_datasets() -> list[Entry[Dataset]]:
    """Every usable dataset loader, sorted by name."""
    return sorted(_table("dataset").entries.values(), key=lambda entry: entry.name)


def list_scorers() -> list[Entry[Scorer]]:
    """Every usable scorer, in registration order (the built-in scorer first): the order of table columns."""
    return list(_table("scorer").entries.values())


def scorer_class(name: str) -> type[Scorer]:
    return _lookup("scorer", name).cls


def duplicate_names(kind: str) -> list[str]:
    """Names of ``kind`` registered by several plugins: unusable, so left out of every listing."""
    return list(_table(kind).duplicates)


def list_mask_protocols() -> list[Entry[MaskProtocol]]:
    """Every usable mask protocol, sorted by name."""
    return sorted(_table("mask protocol").entries.values(), key=lambda entry: entry.name)


def mask_protocol_class(name: str) -> type[MaskProtocol]:
    return _lookup("mask protocol", name).cls


def method_class(name: str) -> type[Method]:
    return _lookup("method", name).cls


def method_entry(name: str) -> Entry[Method]:
    """A registered method with the plugin it came from; an unknown name raises, listing the known ones."""
    return _lookup("method", name)


def dataset_class(name: str) -> type[Dataset]:
    return _lookup("dataset", name).cls


def create_method(
    name: str, options: dict[str, str] | None = None, device: str = "cpu", checkpoint: Path | None = None
) -> Method:
    """Build a registered method from CLI-style ``key=value`` options."""
    cls = method_class(name)
    method = cls(parse_options(cls, options or {}), device=device)
    if checkpoint is not None:
        method.load_checkpoint(Path(checkpoint))
        # a method may resolve a run directory to the file it read; record that file
        method.checkpoint = method.checkpoint or Path(checkpoint)
    return method


def open_dataset(name: str, root: str | Path | None = None, split: str | None = None) -> Dataset:
    """Open a registered dataset, finding its root from --root, the environment or the config file."""
    from .datasets.config import resolve_root

    cls = dataset_class(name)
    resolved, _ = resolve_root(name, root) if cls.needs_root else (None, "")
    return cls(resolved, split)


def training_split(name: str, root: str | Path | None = None) -> str:
    """The split to train on when none is named: ``train`` where the dataset has one, else its default split.

    A loader without a ``train`` split at every root is opened to ask what its
    root holds (a ``folder`` with a split list); one with it is not, since
    opening reads its default split, which a training root need not hold.
    """
    cls = dataset_class(name)
    if "train" in cls.splits:
        return "train"
    dataset = open_dataset(name, root)
    return "train" if "train" in dataset.split_names() else dataset.default_split


def held_out_split(dataset: str | Dataset, train_split: str) -> str:
    """The split to evaluate on: the dataset's evaluation split, or the first that shares no image with training.

    Pass an opened dataset when its splits depend on its root (a ``folder``
    with a split list); a name asks the class, which knows the fixed splits.
    """
    data = dataset_class(dataset) if isinstance(dataset, str) else dataset
    splits = data.split_names() if isinstance(data, Dataset) else data.splits
    for split in dict.fromkeys((data.default_split, "test", "val", *splits)):
        if split in splits and not data.splits_share_images(train_split, split):
            return split
    raise InpaintbenchError(
        f"dataset {data.name!r} has no split that is held out from {train_split!r}; pass --eval-split explicitly"
    )


@dataclasses.dataclass(frozen=True)
class OptionDoc:
    """One field of a method's Options, as ``inpaintbench methods NAME`` shows it."""

    name: str
    #: the field's annotation: ``int``, ``float``, ``bool`` or ``str`` (what ``-o`` converts to)
    type: str
    default: Any
    #: from ``dataclasses.field(metadata={"help": ...})``; empty when the plugin gives none
    help: str


def option_docs(name: str) -> list[OptionDoc]:
    """Every option of a method, in declaration order, with its type, default and help."""
    options = method_class(name).Options
    defaults = options()
    hints = typing.get_type_hints(options)
    return [
        OptionDoc(
            field.name,
            getattr(hints[field.name], "__name__", str(hints[field.name])),
            getattr(defaults, field.name),
            field.metadata.get("help", ""),
        )
        for field in dataclasses.fields(options)
    ]
