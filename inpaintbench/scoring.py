"""Scorers: what is measured on every completed image, and how tables show it.

A scorer is a :class:`Scorer` subclass registered through the
``register_scorers`` hook.  Its class attributes say what it is (name, summary,
columns, whether it needs the hole mask) so that tables, the CSV, the bootstrap,
report.html and run.json are all built from the registry without building a
scorer; :meth:`Scorer.score` does the work.  The built-in PSNR / SSIM / L1 pass
registers here through the same hook as an outside plugin, and comes first.

This module is imported by plugin discovery (``inpaintbench methods``), so it
stays light: the numerics are imported inside :meth:`PsnrSsim.score`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .errors import DuplicateNameError, InpaintbenchError, PluginError, one_line
from .hookspecs import hookimpl


@dataclasses.dataclass(frozen=True)
class ScoreColumn:
    """One per-image score: its key in the score rows, and how tables show it."""

    #: key in scores/<method>.jsonl and scores.csv; lower-case letters, digits and ``_``
    key: str
    #: table header, without the direction arrow (added from ``higher_is_better``)
    label: str
    #: the direction: True when a higher value is better (PSNR), False when lower is (L1)
    higher_is_better: bool
    #: tables show value x scale (0.012 -> 1.2 with scale 100 and a "%" label)
    scale: float = 1.0
    decimals: int = 2
    #: False: stored per image only, not a column of the tables nor of report.html
    tabulated: bool = True
    #: why an item can lack this score, for the note under a table when a column averages fewer items
    undefined: str = "the others have none: undefined for them, or the scorer failed (failures.jsonl)"

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    @property
    def header(self) -> str:
        """``PSNR (dB) ↑``: the label with its direction, as every table shows it."""
        return f"{self.label} {self.arrow}"


class Scorer:
    """Base class for every scorer (built-in or from a plugin).

    Built once per process, with no arguments, the first time it scores; load
    any weights in ``__init__``.
    """

    #: registry name, lower-case: ``"psnr-ssim"``; run.json records the settings under it
    name: ClassVar[str] = ""
    #: one line saying what it measures
    summary: ClassVar[str] = ""
    #: the scores it returns per image, in the order tables show them
    columns: ClassVar[tuple[ScoreColumn, ...]] = ()
    #: True: :meth:`score` gets the hole masks; False: ``masks=None`` (a whole-image score cannot use the hole by mistake)
    needs_mask: ClassVar[bool] = False

    @classmethod
    def settings(cls) -> dict[str, Any]:
        """What the scores mean (JSON-ready), recorded in run.json; a rerun with other settings is refused."""
        return {}

    @classmethod
    def caption(cls, settings: Mapping[str, Any]) -> str:
        """A few words for the table caption, from the settings the results were scored with ("" for none)."""
        return ""

    def score(self, completed: np.ndarray, targets: np.ndarray, masks: np.ndarray | None) -> dict[str, np.ndarray]:
        """Per-image scores of a batch: ``{column key: float array (N,)}``, one entry per declared column.

        ``completed`` and ``targets`` are uint8 (N, H, W, 3), read-only;
        ``masks`` is bool (N, H, W), True on hole pixels.  NaN marks an image
        where a score is undefined.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement score()")


# -- the built-in scorer ---------------------------------------------------------------------

#: how the hole SSIM is defined, in every caption: it reads higher than SSIM of the cropped hole
HOLE_SSIM_DEFINITION = (
    "hole SSIM: the whole image's SSIM map averaged over hole pixels (windows reach into known pixels, "
    "so it reads higher than SSIM of the cropped hole)"
)


class PsnrSsim(Scorer):
    """The paper's scores in one fast pass (:func:`inpaintbench.metrics.score_batch`)."""

    name = "psnr-ssim"
    summary = "PSNR, SSIM and L1 against the ground truth, whole image and hole only"
    columns = (
        ScoreColumn("psnr", "PSNR (dB)", higher_is_better=True, decimals=2),
        ScoreColumn("ssim", "SSIM", higher_is_better=True, decimals=4),
        ScoreColumn("psnr_hole", "hole PSNR (dB)", higher_is_better=True, decimals=2, undefined="the others have no hole"),
        ScoreColumn("ssim_hole", "hole SSIM", higher_is_better=True, decimals=4,
               undefined="the others' hole lies in SSIM's cropped border"),
        ScoreColumn("l1", "L1 (%)", higher_is_better=False, scale=100.0, decimals=2, tabulated=False),
        ScoreColumn("l1_hole", "hole L1 (%)", higher_is_better=False, scale=100.0, decimals=2,
               undefined="the others have no hole"),
    )
    needs_mask = True

    @classmethod
    def settings(cls) -> dict[str, Any]:
        from .metrics import SCORE_SETTINGS

        return dict(SCORE_SETTINGS)

    @classmethod
    def caption(cls, settings: Mapping[str, Any]) -> str:
        return f"whole-image and hole-only scores; SSIM {settings.get('ssim_window', '')}; {HOLE_SSIM_DEFINITION}"

    def score(self, completed, targets, masks):
        from .metrics import score_batch

        return score_batch(completed, targets, masks)


@hookimpl
def register_scorers(register):
    """The built-in scorer, registered like any plugin's."""
    register(PsnrSsim)


# -- the registered scorers, as the runner and the tables use them ---------------------------

#: keys of a score row that are not scores, and names the summary table uses for its own columns
RESERVED_KEYS = frozenset({
    "item", "method", "hole_fraction", "seconds", "variant", "n", "scored", "images_seen", "dataset", "trained_on",
    "area",
})
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
#: the summary's columns made from a score's key
_SUMMARY_SUFFIXES = ("", "_low", "_high", "_n")


def registered_scorers() -> list[type[Scorer]]:
    """Every registered scorer class, the built-in first (the order of table columns).

    Every scorer scores every image, so a problem with one stops the run
    rather than leaving its columns silently out: a name registered by two
    plugins, or a column that is malformed or taken by another scorer.
    """
    from . import registry
    from .plugins import derived

    cached = derived().get("scorer classes")
    if cached is not None:
        return list(cached)
    for name in registry.duplicate_names("scorer"):
        registry.scorer_class(name)  # raises DuplicateNameError naming the plugins
    entries = registry.list_scorers()
    owner: dict[str, str] = {}  # summary column -> scorer that makes it
    for entry in entries:
        columns = entry.cls.columns
        if not columns or not all(isinstance(column, ScoreColumn) for column in columns):
            raise PluginError(f"scorer {entry.name!r} ({entry.source}) must declare columns: a tuple of inpaintbench.ScoreColumn")
        for column in columns:
            if not _KEY.match(column.key) or column.key in RESERVED_KEYS:
                raise PluginError(
                    f"scorer {entry.name!r} ({entry.source}) declares the column {column.key!r}: use lower-case letters, "
                    f"digits and '_' (starting with a letter), and none of {', '.join(sorted(RESERVED_KEYS))}"
                )
            for made in (column.key + suffix for suffix in _SUMMARY_SUFFIXES):
                if made in owner:
                    raise DuplicateNameError(
                        f"scorers {owner[made]!r} and {entry.name!r} ({entry.source}) both make the column {made!r}; "
                        "uninstall one of them"
                    )
                owner[made] = entry.name
    classes = derived()["scorer classes"] = [entry.cls for entry in entries]
    return list(classes)


def settings_record() -> dict[str, Any]:
    """run.json's account of the scores: ``metrics`` (the built-in's settings, as results directories
    have always held them) and, per scorer, its settings, columns and code."""
    from .provenance import distribution_of

    return {
        "metrics": PsnrSsim.settings(),
        "scorers": {
            cls.name: {
                "settings": cls.settings(),
                "columns": [column.key for column in cls.columns],
                "code": f"{cls.__module__}.{cls.__qualname__}",
                "distribution": distribution_of(cls),
            }
            for cls in registered_scorers()
        },
    }


def recorded_settings(record: Mapping[str, Any], cls: type[Scorer]) -> dict[str, Any]:
    """The settings ``cls`` scored a results directory with (directories older than scorer plugins hold the built-in's only)."""
    entry = (record.get("scorers") or {}).get(cls.name)
    if entry is not None:
        return entry.get("settings", {})
    return dict(record.get("metrics") or {}) if cls is PsnrSsim else {}


def score_completed(
    completed: np.ndarray, targets: np.ndarray, masks: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every registered scorer's per-image scores of a batch, and the scorers that failed with why.

    A scorer that raises, or returns other columns or shapes than it declares,
    loses its own columns for this batch only; the other scorers' are kept.
    """
    completed, targets = _read_only(completed), _read_only(targets)
    masks = _read_only(masks)
    scores: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    for cls in registered_scorers():
        try:
            returned = _instance(cls).score(completed, targets, masks if cls.needs_mask else None)
            scores.update(_checked(cls, returned, len(completed)))
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # a plugin's bug, even sys.exit(), must not sink the other scores
            errors[cls.name] = one_line(error)
    return scores, errors


def _instance(cls: type[Scorer]) -> Scorer:
    """One instance per scorer class and loaded plugin set (weights load once per process)."""
    from .plugins import derived

    built = derived().setdefault("scorer instances", {})
    if cls not in built:
        built[cls] = cls()
    return built[cls]


def _read_only(array: np.ndarray) -> np.ndarray:
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


def _checked(cls: type[Scorer], returned: Any, count: int) -> dict[str, np.ndarray]:
    """The declared columns as float64 (N,) arrays, or an error saying how ``returned`` breaks the contract."""
    declared = [column.key for column in cls.columns]
    if not isinstance(returned, Mapping) or set(returned) != set(declared):
        got = sorted(returned) if isinstance(returned, Mapping) else type(returned).__name__
        raise InpaintbenchError(f"score() returned {got}; it declares the columns {declared}")
    checked = {}
    for key in declared:
        values = np.asarray(returned[key], dtype=np.float64)
        if values.shape != (count,):
            raise InpaintbenchError(f"score() returned {key!r} of shape {values.shape}; expected ({count},), one per image")
        checked[key] = values
    return checked
