"""From stored per-image rows to the paper's Table VI: means, 95 % CIs, seconds per image.

The summary is a plain DataFrame (one row per method) so every output format
is a rendering of the same numbers: rich for the terminal, Markdown, CSV and
LaTeX for papers.  Confidence intervals come from a paired bootstrap over the
items that every scored method completed, so methods are compared on the same
images.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .mask_protocols import area_bins_of, area_label
from .statistics import paired_bootstrap_ci

if TYPE_CHECKING:  # imported where a table is computed: the CLI reads FORMATS while it only builds --help
    import pandas as pd

    from .scoring import ScoreColumn

FORMATS = ("rich", "md", "csv", "latex")


def summarize(scores: pd.DataFrame, record: dict[str, Any], n_resamples: int = 1000) -> pd.DataFrame:
    """One row per scored method: n, mean and CI of each score, seconds per image, images seen in training.

    The scores are the registered scorers' table columns that the rows hold.
    ``n`` counts the items every scored method completed (the paired set);
    ``scored`` counts the method's own items, more than ``n`` when another
    method lacks some; ``<key>_n`` counts those a score column actually
    averages, fewer when a score is undefined for some items (NaN mean and
    bounds when it is for all).  Methods with no scores are not rows:
    :func:`left_out` says why they are missing.
    """
    import pandas as pd

    methods = record.get("method_order") or list(record.get("methods", {}))
    scored = [m for m in methods if m in set(scores.get("method", []))]
    common = _common_items(scores, scored)
    rows = []
    for name in scored:
        entry = record.get("methods", {}).get(name, {})
        own = scores[scores["method"] == name]
        rows.append({
            "method": name,
            "variant": entry.get("variant", ""),
            "n": len(common),
            "scored": own["item"].nunique(),
            "seconds": own["seconds"].mean(),
            "images_seen": (entry.get("trained_on") or {}).get("images_seen"),
        })
    summary = pd.DataFrame(rows, columns=["method", "variant", "n", "scored", "seconds", "images_seen"])
    seed = int(record.get("seed", 0))
    for column in shown_columns(scores.columns, record):
        key = column.key
        values = None
        if scored and key in scores.columns:  # absent: its scorer failed on every item
            values = np.stack([_values(scores, name, key, common) * column.scale for name in scored], axis=1)
        # A score is NaN where it is undefined (a hole wholly in SSIM's cropped border) or its scorer
        # failed; the mask is the same for every method, so dropping that item keeps the pairing.
        values = values[~np.isnan(values).any(axis=1)] if values is not None else np.empty((0, 0))
        if len(values) == 0:
            summary[key] = summary[f"{key}_low"] = summary[f"{key}_high"] = np.nan
            summary[f"{key}_n"] = 0
            continue
        low, high = paired_bootstrap_ci(values, n_resamples=n_resamples, seed=seed)
        summary[key] = values.mean(axis=0)
        summary[f"{key}_low"] = low
        summary[f"{key}_high"] = high
        summary[f"{key}_n"] = len(values)
    return summary


def shown_columns(keys, record: dict[str, Any] | None = None) -> list[ScoreColumn]:
    """The registered scorers' table columns, in registration order, that ``keys`` (a frame's columns)
    hold or whose scorer ``record`` says ran.

    A scorer installed after a results directory was scored has no column in its table; one that
    ran and failed on every item has an empty column.
    """
    from .scoring import registered_scorers

    present, ran = set(keys), set((record or {}).get("scorers") or {})
    return [
        column
        for scorer in registered_scorers()
        for column in scorer.columns
        if column.tabulated and (column.key in present or scorer.name in ran)
    ]


def left_out(record: dict[str, Any], summary: pd.DataFrame) -> dict[str, str]:
    """Methods of the run that have no row in ``summary``, each with why and how to fix it."""
    reasons, rows = {}, set(summary["method"])
    for name in record.get("method_order") or list(record.get("methods", {})):
        if name in rows:
            continue
        entry = record.get("methods", {}).get(name, {})
        if entry.get("status") == "unavailable":
            reasons[name] = entry.get("reason", "unavailable")
        else:
            reasons[name] = "scored no item (every item failed; the reasons are in failures.jsonl)"
    return reasons


def summarize_by_area(scores: pd.DataFrame, record: dict[str, Any], n_resamples: int = 1000) -> pd.DataFrame:
    """:func:`summarize` per hole-area bin (LaMa-style irregular-mask tables), with an ``area`` column.

    Bins are those the run's mask protocol declares (none: an empty table); an
    item falls in the bin holding its ``hole_fraction`` (the same for every
    method, since masks are shared).
    """
    import pandas as pd

    parts = []
    for low, high in area_bins_of(str(record.get("protocol", {}).get("mask", ""))):
        inside = scores[(scores["hole_fraction"] >= low) & (scores["hole_fraction"] < high)]
        if len(inside):
            parts.append(summarize(inside, record, n_resamples).assign(area=area_label(low, high)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["area", "method"])


def _common_items(scores: pd.DataFrame, methods: list[str]) -> list[str]:
    sets = [set(scores.loc[scores["method"] == name, "item"]) for name in methods]
    return sorted(set.intersection(*sets)) if sets else []


def _values(scores: pd.DataFrame, method: str, column: str, items: list[str]) -> np.ndarray:
    own = scores[scores["method"] == method].set_index("item")
    return own.loc[items, column].to_numpy(dtype=np.float64)


def caption(record: dict[str, Any], summary: pd.DataFrame | None = None) -> str:
    """What the table was computed on, how each scorer defines its scores (with the settings the
    results were scored with), and any column that averages fewer items than ``n``."""
    from .scoring import recorded_settings, registered_scorers

    protocol = record.get("protocol", {})
    text = (
        f"{record.get('dataset')}:{record.get('split')}, {protocol.get('mask')} mask at "
        f"{protocol.get('image_size')} px, seed {record.get('seed')}, "
        f"{record.get('items')} items (manifest {record.get('manifest_sha256')}); "
        "mean [95 % paired-bootstrap CI]"
    )
    shown = None if summary is None else {column.key for column in shown_columns(summary.columns)}
    for scorer in registered_scorers():
        if shown is None or any(column.key in shown for column in scorer.columns):
            words = scorer.caption(recorded_settings(record, scorer))
            text += f"; {words}" if words else ""
    return text + "".join(f"; {note}" for note in column_notes(summary))


def column_notes(summary: pd.DataFrame | None) -> list[str]:
    """Notes on item counts: methods that scored more items than the paired n, and score
    columns that average fewer (each column says why an item can lack its score)."""
    import pandas as pd

    if summary is None or "n" not in summary or not (summary["n"] > 0).any():
        return []
    scored = summary[summary["n"] > 0]
    n = int(scored["n"].max())
    notes = []
    if "scored" in scored and (scored["scored"] > n).any():
        counts = ", ".join(f"{row.method} {int(row.scored)}" for row in scored.itertuples())
        notes.append(f"methods scored different items ({counts}): every row averages the {n} items all scored")
    for column in shown_columns(scored.columns):
        counts = scored[f"{column.key}_n"].dropna().astype(int) if f"{column.key}_n" in scored else pd.Series(dtype=int)
        if len(counts) and counts.max() < n:
            notes.append(f"{column.label} averages {counts.max()} of the {n} items ({column.undefined})")
    return notes


#: one table cell: its main text, and the CI bounds as text when it is a metric
Cell = tuple[str, tuple[str, str] | None]


#: (column, header): context columns shown before the method when a summary has them
#: (a table that spans several datasets, e.g. the generalisation experiment of Figs. 14-16)
LEADING_COLUMNS: tuple[tuple[str, str], ...] = (("dataset", "Evaluated on"), ("trained_on", "Trained on"))


def cells(summary: pd.DataFrame) -> tuple[list[str], list[list[Cell]]]:
    """Header and cells shared by every renderer; each renderer lays out the interval its own way.

    Score headers carry their direction (``PSNR (dB) ↑``, ``hole L1 (%) ↓``).
    """
    leading = [(column, label) for column, label in LEADING_COLUMNS if column in summary.columns]
    trained = "images_seen" in summary.columns and summary["images_seen"].notna().any()
    scores = shown_columns(summary.columns)
    header = [*(label for _, label in leading), "Method", *[column.header for column in scores], "s/image", "n"]
    header += ["images seen"] if trained else []
    body = []
    for _, row in summary.iterrows():
        variant = row.get("variant")
        line: list[Cell] = [(str(row[column]), None) for column, _ in leading]
        line.append((f"{row['method']} ({variant})" if isinstance(variant, str) and variant else str(row["method"]), None))
        for column in scores:
            key, decimals = column.key, column.decimals
            if _missing(row.get(key)):  # no item has this score for every method
                line.append(("—", None))
                continue
            low, high = (f"{row[key + suffix]:.{decimals}f}" for suffix in ("_low", "_high"))
            line.append((f"{row[key]:.{decimals}f}", (low, high)))
        line += [(_seconds(row["seconds"]), None), (str(int(row["n"])), None)]
        if trained:
            line.append((f"{int(row['images_seen']):,}" if not _missing(row.get("images_seen")) else "—", None))
        body.append(line)
    return header, body


def _inline(cell: Cell) -> str:
    """``mean [low, high]``, the paper-table form."""
    text, interval = cell
    return f"{text} [{interval[0]}, {interval[1]}]" if interval else text


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _seconds(value: float) -> str:
    if _missing(value):  # predictions made elsewhere: no time measured
        return "—"
    return f"{value:.4f}" if value < 0.1 else f"{value:.2f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured table: the first column left-aligned (names), the others right-aligned (numbers)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_markdown(summary: pd.DataFrame, record: dict[str, Any], title: str | None = None) -> str:
    """``title`` replaces the caption made from ``record`` (a table spanning several results directories)."""
    header, body = cells(summary)
    return markdown_table(header, [[_inline(cell) for cell in line] for line in body]) + f"\n{title or caption(record, summary)}\n"


def to_csv(summary: pd.DataFrame) -> str:
    return summary.to_csv(index=False, float_format="%.6g")


#: characters LaTeX reads as markup, and the directions of score headers
_LATEX = {
    "\\": r"\textbackslash{}", "%": r"\%", "_": r"\_", "&": r"\&", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "—": "--", "↑": r"$\uparrow$", "↓": r"$\downarrow$",
}


def escape_latex(text: str) -> str:
    """Text as LaTeX prints it: one character at a time, so no replacement is escaped again."""
    return "".join(_LATEX.get(character, character) for character in text)


def to_latex(summary: pd.DataFrame, record: dict[str, Any], title: str | None = None) -> str:
    header, body = cells(summary)
    escape = escape_latex
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{escape(title or caption(record, summary))}}}",
        r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}",
        r"\toprule",
        " & ".join(escape(h) for h in header) + r" \\",
        r"\midrule",
        *[" & ".join(escape(_inline(cell)) for cell in line) + r" \\" for line in body],
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def to_rich(summary: pd.DataFrame, record: dict[str, Any], title: str | None = None):
    """The terminal table: each mean over its (dimmed) interval, so it fits 100 columns."""
    from rich.table import Table
    from rich.text import Text

    header, body = cells(summary)
    table = Table(title="Reconstruction quality (Table VI layout)", caption=title or caption(record, summary))
    method_column = header.index("Method")
    for i, label in enumerate(header):
        table.add_column(label, justify="left" if i <= method_column else "right", no_wrap=i <= method_column)
    for line in body:
        row = []
        for text, interval in line:
            cell = Text(text)
            if interval:
                cell.append(f"\n{interval[0]} – {interval[1]}", style="dim")
            row.append(cell)
        table.add_row(*row)
    return table
