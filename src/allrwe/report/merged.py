"""The network report: one HTML page of a merged table, per-site columns and pooled estimates.

Rules this module owns:

* it draws only what the merged table (:func:`allrwe.results.merge.merge_frames`) shows: a
  value hidden or not reported at a site is a dot, never a number;
* counts are shown with their percentage (``12 (30.0 %)``), site by site and pooled (the sum
  of the sites' counts, the pooled count over the pooled denominator);
* each pooled hazard ratio is a table row (sites, fixed and random effects, I², tau², k) and a
  forest plot drawn as inline SVG, on the log scale;
* the page references nothing outside itself and depends only on its inputs (no clock).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from allrwe.report.render.html import environment
from allrwe.results.attack import CURVE_ANALYSES
from allrwe.results.merge import META_ESTIMATES

__all__ = ["MERGED_REPORT_FILE", "SiteInfo", "render_merged"]

#: the report's file name, beside merged.csv
MERGED_REPORT_FILE = "merged.html"
#: what a hidden or missing value shows
MISSING = "·"
#: analyses of estimates shown per site only (not pooled): survival and incidence summaries
SUMMARY_ANALYSES = (
    "survival_summary",
    "survival_landmark",
    "cumulative_incidence_summary",
    "cumulative_incidence_landmark",
)
_KEY = ["group", "strata_name", "strata_level", "variable", "variable_level"]
_HR = ("hr", "hr_lower", "hr_upper")


@dataclass(frozen=True)
class SiteInfo:
    """One site as the report lists it (from its ``provenance.json``).

    Parameters
    ----------
    name : str
        The site's column in the merged table.
    data_source : str
        ``cdm_source_name`` of the site's CDM (or its description).
    min_cell_count : int or None
        The site's suppression threshold.
    allrwe_version, created_at : str
        Who wrote the site's results, and when.
    """

    name: str
    data_source: str
    min_cell_count: int | None
    allrwe_version: str
    created_at: str

    @classmethod
    def from_provenance(cls, name: str, provenance: dict[str, Any]) -> SiteInfo:
        """Build from a site's provenance (missing fields are empty)."""
        cdm = provenance.get("cdm") if isinstance(provenance.get("cdm"), dict) else {}
        source = (cdm or {}).get("cdm_source_name") or provenance.get("cdm_source") or ""
        suppression = provenance.get("suppression") or {}
        threshold = suppression.get("min_cell_count") if isinstance(suppression, dict) else None
        return cls(
            name=name,
            data_source=str(source),
            min_cell_count=threshold if isinstance(threshold, int) else None,
            allrwe_version=str(provenance.get("allrwe_version", "")),
            created_at=str(provenance.get("created_at", "")),
        )


@dataclass(frozen=True)
class _Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    id: str


@dataclass(frozen=True)
class _Forest:
    title: str
    svg: Markup
    id: str


@dataclass
class _Page:
    title: str
    spec_hash: str
    min_cell_count: int
    sites: tuple[SiteInfo, ...]
    hazard_ratios: _Table | None
    forests: list[_Forest] = field(default_factory=list)
    counts: list[_Table] = field(default_factory=list)
    summaries: list[_Table] = field(default_factory=list)
    hidden: tuple[str, ...] = ()
    attack: str = ""


def _number(value: float, digits: int = 3) -> str:
    if value != value:  # NaN
        return MISSING
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def _label(row: pd.Series) -> str:
    parts = [str(row["group"])]
    if row["strata_name"] != "overall":
        parts.append(f"{row['strata_name']} = {row['strata_level']}")
    parts.append(str(row["variable"]))
    if row["variable_level"] != "overall":
        parts.append(str(row["variable_level"]))
    return " · ".join(parts)


def _count_text(count: float, percentage: float) -> str:
    if count != count:
        return MISSING
    text = f"{int(count):,}"
    return f"{text} ({percentage:.1f} %)" if percentage == percentage else text


def count_table(rows: pd.DataFrame, columns: Sequence[str], title: str, id_: str) -> _Table:
    """Return one analysis's counts (with their percentages) as a table, one row per cell."""
    counts = rows[rows["estimate_type"] == "count"]
    percentages = rows[rows["estimate_name"] == "percentage"].set_index(_KEY)
    body = []
    for _, row in counts.iterrows():
        key = tuple(row[c] for c in _KEY)
        pct = None
        if row["estimate_name"] == "count" and key in percentages.index:
            pct = percentages.loc[key]
        cells = []
        for column in columns:
            share = _float(pct[column]) if pct is not None else math.nan
            cells.append(_count_text(float(row[column]), share))
        label = _label(row)
        if row["estimate_name"] != "count":
            label = f"{label} · {row['estimate_name']}"
        body.append((label, *cells))
    return _Table(title, ("", *columns), tuple(body), id_)


def summary_table(rows: pd.DataFrame, sites: Sequence[str], title: str, id_: str) -> _Table:
    """Return one analysis's other estimates, per site (they are not pooled)."""
    shown = rows[~rows["estimate_type"].eq("count")]
    body = [
        (f"{_label(row)} · {row['estimate_name']}", *(_number(float(row[s])) for s in sites))
        for _, row in shown.iterrows()
    ]
    return _Table(title, ("", *sites), tuple(body), id_)


def _interval(hr: float, low: float, high: float) -> str:
    if any(v != v for v in (hr, low, high)):
        return MISSING
    return f"{hr:.2f} ({low:.2f}–{high:.2f})"


def _float(value: Any) -> float:
    return float(value)


def _site_hr(block: pd.DataFrame, site: str) -> tuple[float, float, float]:
    """Return a site's (hr, lower, upper) from a hazard ratio's rows (NaN when missing)."""
    hr, low, high = (_float(block.at[e, site]) if e in block.index else math.nan for e in _HR)
    return hr, low, high


def _hr_blocks(merged: pd.DataFrame) -> list[tuple[pd.Series, pd.DataFrame]]:
    """Return every pooled hazard ratio's first row and its hr and meta rows."""
    tests = merged[merged["estimate_name"].isin((*_HR, *META_ESTIMATES))]
    pooled = tests[tests["estimate_name"] == "hr_fixed"]
    out = []
    for _, first in pooled.iterrows():
        same = (tests[["analysis", *_KEY]] == first[["analysis", *_KEY]]).all(axis=1)
        out.append((first, tests[same].set_index("estimate_name")))
    return out


def hazard_ratio_table(merged: pd.DataFrame, sites: Sequence[str]) -> _Table | None:
    """Return the pooled hazard ratios: per site, fixed and random effects, I², tau², k."""
    body = []
    for first, block in _hr_blocks(merged):
        site_cells = [_interval(*_site_hr(block, s)) for s in sites]
        meta = block["pooled"]
        body.append(
            (
                _label(first),
                *site_cells,
                _interval(meta["hr_fixed"], meta["hr_fixed_lower"], meta["hr_fixed_upper"]),
                _interval(meta["hr_random"], meta["hr_random_lower"], meta["hr_random_upper"]),
                f"{meta['i2']:.1f} %",
                f"{meta['tau2']:.3g}",
                f"{int(meta['k'])}",
            )
        )
    if not body:
        return None
    columns = ("", *sites, "fixed effect", "random effects", "I²", "tau²", "sites")
    return _Table("Pooled hazard ratios (95 % CI)", columns, tuple(body), "hazard-ratios")


def forest_svg(labels: Sequence[str], estimates: Sequence[tuple[float, float, float]]) -> str:
    """Draw a forest plot: one line per estimate (the last two as diamonds), log scale.

    Parameters
    ----------
    labels : sequence of str
        Row labels; the last two are the fixed- and random-effects estimates.
    estimates : sequence of (hr, lower, upper)
        NaN rows are labelled but not drawn.

    Returns
    -------
    str
        An ``<svg>`` element (coordinates rounded to 0.1).
    """
    finite = [v for row in estimates for v in row if v == v and v > 0]
    low = min([*finite, 0.5]) / 1.1
    high = max([*finite, 2.0]) * 1.1
    left, width, row_h = 150.0, 330.0, 18.0
    height = row_h * (len(labels) + 1.5)

    def x(v: float) -> float:
        return round(left + width * (math.log(v) - math.log(low)) / math.log(high / low), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 10:.0f} '
        f'{height:.0f}" width="{left + width + 10:.0f}" role="img">',
        f'<line x1="{x(1.0)}" y1="4" x2="{x(1.0)}" y2="{height - row_h:.1f}" '
        'stroke="#888" stroke-dasharray="3,3"/>',
    ]
    for i, (label, (hr, lo, hi)) in enumerate(zip(labels, estimates, strict=True)):
        y = round(row_h * (i + 1), 1)
        parts.append(f'<text x="4" y="{y + 4}" font-size="11">{_escape(label)}</text>')
        if not all(v == v and v > 0 for v in (hr, lo, hi)):
            continue
        parts.append(f'<line x1="{x(lo)}" y1="{y}" x2="{x(hi)}" y2="{y}" stroke="#1a1a1a"/>')
        if i >= len(labels) - 2:
            c = x(hr)
            parts.append(
                f'<polygon points="{x(lo)},{y} {c},{y - 5} {x(hi)},{y} {c},{y + 5}" '
                'fill="#0072B2"/>'
            )
        else:
            parts.append(f'<rect x="{x(hr) - 3}" y="{y - 3}" width="6" height="6"/>')
    axis_y = round(height - row_h / 2, 1)
    for tick in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0):
        if low <= tick <= high:
            parts.append(
                f'<text x="{x(tick)}" y="{axis_y}" font-size="10" text-anchor="middle">'
                f"{tick:g}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _forests(merged: pd.DataFrame, sites: Sequence[str]) -> list[_Forest]:
    out = []
    for n, (first, block) in enumerate(_hr_blocks(merged), start=1):
        rows = [_site_hr(block, s) for s in sites]
        meta = block["pooled"]
        rows.append((meta["hr_fixed"], meta["hr_fixed_lower"], meta["hr_fixed_upper"]))
        rows.append((meta["hr_random"], meta["hr_random_lower"], meta["hr_random_upper"]))
        svg = forest_svg([*sites, "fixed effect", "random effects"], rows)
        out.append(_Forest(_label(first), Markup(svg), f"forest-{n}"))
    return out


def _is_curve(analysis: str) -> bool:
    return analysis.removesuffix("_counts") in CURVE_ANALYSES


def render_merged(
    merged: pd.DataFrame,
    sites: Sequence[SiteInfo],
    *,
    title: str,
    spec_hash: str,
    min_cell_count: int,
    hidden: Sequence[str] = (),
    attack: str = "",
) -> str:
    """Render the network report of a merged table.

    Parameters
    ----------
    merged : pandas.DataFrame
        The merged table (:func:`allrwe.results.merge.merge_frames`), after any extra
        suppression.
    sites : sequence of SiteInfo
        The sites, in the merged table's column order.
    title : str
        The study's name.
    spec_hash : str
        The sites' common spec hash.
    min_cell_count : int
        The threshold the merged table was attacked with.
    hidden : sequence of str
        What the merge hid beyond the sites' own suppression (``column: record``).
    attack : str
        One sentence on the attack of the merged table.

    Returns
    -------
    str
        The HTML page.
    """
    names = [s.name for s in sites]
    columns = [*names, "pooled"]
    records = merged[~merged["estimate_name"].isin(META_ESTIMATES)]
    page = _Page(
        title=title,
        spec_hash=spec_hash,
        min_cell_count=min_cell_count,
        sites=tuple(sites),
        hazard_ratios=hazard_ratio_table(merged, names),
        forests=_forests(merged, names),
        hidden=tuple(hidden),
        attack=attack,
    )
    for n, (analysis, rows) in enumerate(records.groupby("analysis", sort=True), start=1):
        if _is_curve(str(analysis)) or analysis == "survival_test":
            continue
        if analysis in SUMMARY_ANALYSES:
            page.summaries.append(summary_table(rows, names, str(analysis), f"summary-{n}"))
        elif (rows["estimate_type"] == "count").any():
            page.counts.append(count_table(rows, columns, str(analysis), f"counts-{n}"))
    template = environment().get_template("merged.html.j2")
    return template.render(page=page, missing=MISSING)
