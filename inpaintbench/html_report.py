"""report.html: one self-contained page to explore a results directory in any browser.

Why it is built this way:

* **One file, no network.**  Results are copied, mailed and opened on machines
  without internet, so thumbnails are inlined as base64 ``data:`` URIs and the
  page loads nothing: no CDN, no framework, and a Content-Security-Policy that
  allows only inline images, this page's CSS and its one script.
* **Python writes the HTML, the script only sorts.**  Every table is rendered
  here with every item id and method name passed through :func:`html.escape`
  (ids come from users' file names; one named ``<script>...`` must show as
  text).  The script (in ``templates/report.html``) reorders rows and fills the
  A minus B column; it never builds markup from data.  The CSP admits that
  script by its hash, so even markup that slipped through could not run.
* **Cheap.**  Numbers come from the frames :func:`~inpaintbench.reports.write_reports`
  already holds; thumbnails are made only for the items the run kept images
  of, each encoded once (JPEG) and reused, so ~100 items x 6 methods take a
  fraction of a second.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
from importlib import resources
from typing import Any

import cv2
import numpy as np
import pandas as pd

from .grid import hole_psnr, outline_hole, psnr_text
from .images import read_image
from .results import ResultsStore
from .tables import caption, cells, left_out, shown_columns

#: a thumbnail's longest side, in pixels
THUMB_SIZE = 128
#: kept items shown in the image section (``run`` keeps every image; the page must stay small)
MAX_IMAGE_ROWS = 50
#: worst and best items listed per method, by hole PSNR
EXTREMES = 3
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{}'"


def render_report(
    store: ResultsStore, record: dict[str, Any], summary: pd.DataFrame, scores: pd.DataFrame,
    by_area: pd.DataFrame | None = None,
) -> str:
    """The page's HTML for the stored rows; ``by_area`` (a protocol with area bins) adds the per-area table."""
    methods = list(summary["method"])
    thumbs = _Thumbnails(store)
    kept = [item for item in _items(scores) if thumbs.kept(item)]
    sections = [
        f"<h1>{_e(_title(record))}</h1>",
        f'<p class="caption">{_e(caption(record, summary))}</p>',
        _summary_table(summary),
        _left_out(record, summary),
    ]
    if by_area is not None and len(by_area):
        sections += ["<h2>By hole area</h2>", _by_area_table(by_area)]
    if methods:
        sections += ["<h2>Per image</h2>", _per_image_table(scores, methods, kept)]
        sections += ["<h2>Worst and best images (hole PSNR)</h2>", _extremes(scores, methods, thumbs)]
    if kept:
        sections += ["<h2>Images</h2>", _image_rows(scores, methods, kept, thumbs)]
    template = resources.files("inpaintbench").joinpath("templates/report.html").read_text(encoding="utf-8")
    found = re.search(r"<script>(.*?)</script>", template, re.S)
    assert found is not None, "templates/report.html holds its script"
    script = found.group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    values = {"csp": _CSP.format(f"sha256-{digest}"), "title": _e(_title(record)), "body": "\n".join(sections)}
    # one pass over the template only: text from the results is never searched for placeholders
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], template)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _title(record: dict[str, Any]) -> str:
    return f"inpaintbench: {record.get('dataset')}:{record.get('split')}, {record.get('protocol', {}).get('mask')} mask"


def _items(scores: pd.DataFrame) -> list[str]:
    return sorted(set(scores["item"])) if "item" in scores else []


# -- the tables of means ------------------------------------------------------------------
def _cell_html(cell) -> str:
    text, interval = cell
    if interval is None:
        return _e(text)
    return f"{_e(text)}<br><small>[{_e(interval[0])}, {_e(interval[1])}]</small>"


def _summary_table(summary: pd.DataFrame) -> str:
    if not len(summary):
        return '<p class="note">No method scored any item.</p>'
    header, body = cells(summary)
    return _table(header, [[_cell_html(cell) for cell in line] for line in body], 'class="summary"')


def _by_area_table(by_area: pd.DataFrame) -> str:
    rows: list[list[str]] = []
    header: list[str] = []
    for area, part in by_area.groupby("area", sort=False):
        header, body = cells(part.drop(columns="area").reset_index(drop=True))
        rows += [[_e(area), *(_cell_html(cell) for cell in line)] for line in body]
    return _table(["hole area", *header], rows, 'class="by-area"')


def _table(header: list[str], rows: list[list[str]], attributes: str) -> str:
    """Cells are HTML already; the header is text.  Name columns (up to "Method") are left-aligned."""
    names = header.index("Method") + 1 if "Method" in header else 1
    align = [" class=num" if i >= names else "" for i in range(len(header))]
    head = "".join(f"<th{align[i]}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{align[i]}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table {attributes}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _left_out(record: dict[str, Any], summary: pd.DataFrame) -> str:
    reasons = left_out(record, summary)
    if not reasons:
        return ""
    entries = "".join(f"<li><b>{_e(name)}</b>: {_e(why)}</li>" for name, why in reasons.items())
    return f'<p class="note">Not in the table:</p><ul class="left-out">{entries}</ul>'


# -- one row per item ---------------------------------------------------------------------
def _per_image_table(scores: pd.DataFrame, methods: list[str], kept: list[str]) -> str:
    """Columns grouped by score (the registered scorers' table columns), one per method; the last
    column holds A minus B once chosen."""
    metrics = shown_columns(scores.columns)
    items = _items(scores)
    anchors = {item: f"img-{k}" for k, item in enumerate(kept[:MAX_IMAGE_ROWS])}
    area = scores.groupby("item")["hole_fraction"].first() if "hole_fraction" in scores else None
    # one array per score, rows in ``items`` order and columns in ``methods`` order (NaN where a pair has no row):
    # reading 10k items x 6 methods cell by cell from the frames took seconds
    tables = {metric.key: scores.pivot_table(index="item", columns="method", values=metric.key, aggfunc="first", dropna=False)
              .reindex(index=items, columns=methods).to_numpy() for metric in metrics}
    head = ['<th class="sortable" data-text>item</th>']
    if area is not None:
        head.append('<th class="sortable num" data-decimals="1">hole %</th>')
    for metric in metrics:
        for method in methods:
            head.append(f'<th class="sortable num" data-metric="{_e(metric.key)}" data-method="{_e(method)}" '
                        f'data-decimals="{metric.decimals}" data-better="{"higher" if metric.higher_is_better else "lower"}">'
                        f'{_e(method)}<br><small>{_e(metric.header)}</small></th>')
    head.append('<th class="sortable num" hidden>A &minus; B</th>')
    rows = []
    for row, item in enumerate(items):
        name = f'<a href="#{anchors[item]}">{_e(item)}</a>' if item in anchors else _e(item)
        line = [f'<td class="item" title="{_e(item)}">{name}</td>']
        if area is not None:
            line.append(_number_cell(area.get(item), 100.0, 1))
        for metric in metrics:
            values = tables[metric.key][row]
            attributes = f' data-metric="{_e(metric.key)}"'
            line += [_number_cell(value, metric.scale, metric.decimals, attributes) for value in values]
        line.append('<td class="num" hidden></td>')
        rows.append("<tr>" + "".join(line) + "</tr>")
    options = "".join(f'<option value="{_e(m)}">{_e(m)}</option>' for m in methods)
    second = "".join(f'<option value="{_e(m)}"{" selected" if k == min(1, len(methods) - 1) else ""}>{_e(m)}</option>'
                     for k, m in enumerate(methods))

    def metric_options(selected: str) -> str:
        return "".join(f'<option value="{_e(m.key)}"{" selected" if m.key == selected else ""}>{_e(m.header)}</option>'
                       for m in metrics)

    keys = [metric.key for metric in metrics]
    default = "psnr_hole" if "psnr_hole" in keys else keys[0] if keys else ""

    controls = (
        '<div class="controls">'
        f'<label>Show <select id="show-metric"><option value="">all metrics</option>{metric_options("")}</select></label>'
        f'<label>Sort by <select id="diff-a">{options}</select> &minus; <select id="diff-b">{second}</select></label>'
        f'<label>on <select id="diff-metric">{metric_options(default)}</select></label>'
        '<button id="diff-sort" type="button">sort by difference</button></div>'
        '<p class="note">Click a column header to sort by it (again to reverse).  Choosing A and B adds the column '
        'A &minus; B and sorts by it so that the items where A does best against B come first: largest first for a '
        'score marked &uarr; (higher is better), smallest first for one marked &darr;.</p>'
    )
    table = (f'<div class="scroll"><table id="per-image"><thead><tr>{"".join(head)}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div>')
    return controls + table


def _number_cell(value: Any, scale: float, decimals: int, attributes: str = "") -> str:
    if value is None or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        return f'<td class="num" data-v=""{attributes}></td>'
    shown = float(value) * scale
    return f'<td class="num" data-v="{shown!r}"{attributes}>{shown:.{decimals}f}</td>'


# -- images -------------------------------------------------------------------------------
class _Thumbnails:
    """Data URIs of the kept images with the hole outlined, each made once."""

    def __init__(self, store: ResultsStore):
        self.store = store
        self._masks: dict[str, np.ndarray | None] = {}
        self._uris: dict[tuple[str, str], str | None] = {}

    def kept(self, item: str) -> bool:
        return self.store.image_path("target", item).exists() and self.store.image_path("input", item).exists()

    def uri(self, kind: str, item: str) -> str | None:
        if (kind, item) not in self._uris:
            self._uris[kind, item] = self._make(kind, item)
        return self._uris[kind, item]

    def _make(self, kind: str, item: str) -> str | None:
        path = self.store.image_path(kind, item)
        if not path.exists():
            return None
        image = read_image(path)
        if item not in self._masks:
            self._masks[item] = self.store.read_mask(item)
        mask = self._masks[item]
        scale = THUMB_SIZE / max(image.shape[:2])
        if scale < 1:  # shrink before outlining, so the outline stays one crisp pixel
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            mask = None if mask is None else cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        if mask is not None and mask.shape == image.shape[:2]:
            image = outline_hole(image, mask)
        # full-resolution colour (4:4:4): subsampled chroma would smear the 1-px magenta outline to grey
        quality = [cv2.IMWRITE_JPEG_QUALITY, 85, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), quality)
        return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode() if ok else None

    def img(self, kind: str, item: str, label: str) -> str:
        uri = self.uri(kind, item)
        if uri is None:
            return '<small>no image</small>'
        return f'<img class="thumb" src="{uri}" alt="{_e(label)}: {_e(item)}" title="{_e(label)}: {_e(item)}">'


def _image_rows(scores: pd.DataFrame, methods: list[str], kept: list[str], thumbs: _Thumbnails) -> str:
    """Input | each method (with its hole PSNR) | truth for the kept items, the hole outlined in magenta."""
    hole = hole_psnr(scores)
    shown = kept[:MAX_IMAGE_ROWS]
    note = (f'<p class="note">The hole is outlined in magenta.  Images were kept for {len(kept)} of '
            f'{len(_items(scores))} items{f"; the first {len(shown)} are shown" if len(shown) < len(kept) else ""} '
            '(<code>compare</code> keeps <code>--grid-rows</code> of them, <code>inpaintbench run</code> keeps all).</p>')
    head = "".join(f"<th>{_e(label)}</th>" for label in ["input", *methods, "ground truth"])
    rows = []
    for k, item in enumerate(shown):
        cells_ = [f"<td>{thumbs.img('input', item, 'input')}</td>"]
        for method in methods:
            text = psnr_text(hole.get((method, item))) or ""
            cells_.append(f"<td>{thumbs.img(method, item, method)}{_e(text)}</td>")
        cells_.append(f"<td>{thumbs.img('target', item, 'ground truth')}</td>")
        rows.append(f'<tr id="img-{k}"><th class="item" colspan="{len(methods) + 2}">{_e(item)}</th></tr>'
                    f'<tr>{"".join(cells_)}</tr>')
    return note + f'<div class="scroll"><table class="images"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _extremes(scores: pd.DataFrame, methods: list[str], thumbs: _Thumbnails) -> str:
    """Per method, one strip: its lowest then highest hole-PSNR items, each with its completion when kept.

    With fewer than 2 x :data:`EXTREMES` items they are split, so no item is both worst and best.
    """
    if "psnr_hole" not in scores:
        return '<p class="note">No hole PSNR in the scores.</p>'
    strips = []
    for method in methods:
        own = scores[scores["method"] == method].dropna(subset=["psnr_hole"]).sort_values(["psnr_hole", "item"])
        worst = min(EXTREMES, math.ceil(len(own) / 2))
        best = min(EXTREMES, len(own) - worst)
        cards = []
        for title, chosen in (("worst", own.head(worst)), ("best", own.tail(best).iloc[::-1])):
            for row in chosen.itertuples():
                image = thumbs.img(method, row.item, method) if thumbs.kept(row.item) else "<small>no image kept</small>"
                cards.append(f'<figure class="{title}">{image}<figcaption>{title}: {row.psnr_hole:.2f} dB<br>'
                             f'<span class="item">{_e(row.item)}</span></figcaption></figure>')
        strips.append(f'<h3>{_e(method)}</h3><div class="extremes">{"".join(cards) or "<small>no item has a hole PSNR</small>"}</div>')
    return "".join(strips)
