"""The Kaplan–Meier section (OS, EFS, RFS, DOR), and the curve helpers it shares.

Curves are drawn from the published curve records, each to its last published point (or the
point before the first one whose count is suppressed); the captions say where and why each
curve ends (:func:`curve_caption`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes import KM_ENDPOINTS
from allrwe.analyses.outcomes.after_index import CURVE_ANALYSIS as SIMON_MAKUCH_CURVE
from allrwe.analyses.survival import DAYS_PER_MONTH
from allrwe.report._blocks import (
    Context,
    level_words,
    make_table,
    na_text,
    slug,
    stratum_words,
    unsupported,
)
from allrwe.report._view import (
    NOT_ESTIMABLE,
    SUPPRESSED,
    Value,
    fmt_count,
    fmt_interval,
    fmt_number,
    level_sort_key,
)
from allrwe.report.figures import PALETTE, group_colour, has_withheld
from allrwe.report.labels import label
from allrwe.report.model import Block, Details, Figure, Row, Section, Table
from allrwe.report.sections.after_index import after_index_table
from allrwe.spec import StudySpec

__all__ = [
    "WITHHELD_NOTE",
    "any_available",
    "curve_figure",
    "curve_points",
    "endpoint_order",
    "endpoint_title",
    "landmark_cell",
    "landmark_withheld",
    "simon_makuch_figures",
    "stat_test_rows",
    "stratum_figures",
    "summary_cells",
    "survival_section",
]

_O = "overall"
#: most time points in a number-at-risk table
MAX_RISK_COLUMNS = 13
#: stratified curves also written as PNG and SVG (seed 001 Fig. 2: by setting, and by the
#: treatment setting, i.e. the CR status before the index treatment, within ND and R/R)
STATIC_STRATA = ("setting", "setting &&& treatment_setting")
STATIC_STRATUM_ENDPOINTS = ("efs", "os")
_KM_TITLES = {
    "os": "Overall survival",
    "efs": "Event-free survival",
    "rfs": "Relapse-free survival",
    "dor": "Duration of response",
}


def endpoint_title(variable: str, spec: StudySpec, titles: dict[str, str]) -> str:
    """Return the title of an endpoint key, with its censoring variant in words."""
    base, _, variant = variable.partition(":")
    title = titles.get(base, base)
    if variant:
        keys = spec.outcomes.censor_variants.get(variant, [variant])
        title += f", censored at {' or '.join(keys) or variant}"
    return title


def endpoint_order(variables: list[str], bases: tuple[str, ...], spec: StudySpec) -> list[str]:
    """Return the endpoints present: each base endpoint, then its censoring variants."""
    variants = list(spec.outcomes.censor_variants)

    def key(v: str) -> tuple[int, int, str]:
        base, _, variant = v.partition(":")
        b = bases.index(base) if base in bases else len(bases)
        k = variants.index(variant) if variant in variants else (-1 if not variant else 99)
        return (b, k, v)

    return sorted(dict.fromkeys(variables), key=key)


def any_available(frame: pd.DataFrame) -> bool:
    """Whether an outcome was computed for some group, judged from its ``available`` flags.

    A flag of 1 says yes; when every published flag is 0 the data could not support it. The
    flag shares its cell with the counts, so suppression hides it with a small count: a
    result whose flags are all hidden counts as computed (its tables show the hidden cells).
    """
    flags = frame[frame["estimate_name"] == "available"]
    shown = flags[~flags["suppressed"].astype(bool)]
    return bool((shown["value"] == 1).any() or shown.empty)


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per cell key, columns ``<estimate>`` and ``<estimate>!`` (suppressed flag)."""
    keys = ["group", "strata_name", "strata_level", "variable", "variable_level"]
    if frame.empty:
        return pd.DataFrame(columns=keys)
    indexed = frame.set_index([*keys, "estimate_name"])
    values = indexed["value"].unstack("estimate_name")
    hidden = indexed["suppressed"].astype(bool).unstack("estimate_name", fill_value=False)
    hidden.columns = [f"{c}!" for c in hidden.columns]
    return values.join(hidden).reset_index()


def _overall(ctx: Context, analysis: str, variable: str) -> pd.DataFrame:
    """Return the :func:`_wide` rows of the overall stratum of one endpoint."""
    frame = ctx.view.frame(analysis)
    frame = frame[(frame["variable"] == variable) & (frame["strata_name"] == _O)]
    wide = _wide(frame)
    return wide if "group" in wide.columns else pd.DataFrame(columns=["group"])


# ------------------------------------------------------------------ curves


def _listed(values: np.ndarray) -> list[Any]:
    """Return float values as a list of Python floats, NaN as None (one array operation)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()


def curve_points(
    curve: pd.DataFrame, counts: pd.DataFrame, estimate: str, exact: bool = False
) -> dict[str, list[Any]]:
    """Points of one curve up to the last time with a published number at risk.

    A point's estimate is the value just before its time, and its censorings are those since
    the previous point; a censoring mark is drawn at the point, or, when every time of the
    curve is a point (``exact``), at the previous point's time on the value after it, where
    the persons were censored.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`_wide` rows of one curve (``time_days``, ``estimate``, its limits).
    counts : pandas.DataFrame
        :func:`_wide` rows of its counts (``n_risk``, ``n_censor``).
    estimate : str
        ``"survival"`` or a cause label.
    exact : bool, default False
        Whether every time of the curve is a published point (a threshold of 1).

    Returns
    -------
    dict
        ``x`` (months), ``y``, ``lower``, ``upper``, censoring marks ``cx``/``cy``, and
        ``truncated`` (whether the curve was stopped early).
    """
    merged = curve.merge(counts, on="variable_level", how="left", suffixes=("", "_c"))
    merged = merged.sort_values("time_days", kind="mergesort").reset_index(drop=True)
    n = len(merged)

    def column(name: str) -> np.ndarray:
        if name not in merged:
            return np.full(n, np.nan)
        return merged[name].to_numpy(dtype="float64", na_value=np.nan)

    def hidden(name: str) -> np.ndarray:
        flag = f"{name}!"
        if flag not in merged:
            return np.zeros(n, dtype=bool)
        return merged[flag].fillna(False).to_numpy(dtype=bool)

    y = column(estimate)
    stop = hidden("n_risk") | hidden(estimate) | np.isnan(y) | ~np.isfinite(column("n_risk"))
    keep = int(np.argmax(stop)) if stop.any() else n
    x = column("time_days")[:keep] / DAYS_PER_MONTH
    low, high = (
        ("lower", "upper") if estimate == "survival" else (f"{estimate}_lower", f"{estimate}_upper")
    )
    censored = (hidden("n_censor") | (np.nan_to_num(column("n_censor")) > 0))[:keep]
    # Survival starts at 1, cumulative incidence at 0.
    first = 1.0 if estimate == "survival" else 0.0

    # the censorings of a point left the risk set at the previous time when every time is one
    cx = np.concatenate([[0.0], x[:-1]]) if exact else x
    return {
        "x": [0.0, *_listed(x)],
        "y": [first, *_listed(y[:keep])],
        "lower": [first, *_listed(column(low)[:keep])],
        "upper": [first, *_listed(column(high)[:keep])],
        "cx": _listed(cx[censored]),
        "cy": _listed(y[:keep][censored]),
        "truncated": [keep < n],
    }


def curve_end(name: str, curve: pd.DataFrame, points: dict[str, list[Any]]) -> str | None:
    """Say where a drawn curve ends: ``"BLIN at 15.4 months (35 at risk)"``.

    ``curve`` holds the :func:`_wide` rows the ``points`` were drawn from; the number at risk
    is that of the last drawn point, a published record. A curve stopped before a point whose
    count or estimate is suppressed or missing says so; a curve with no drawn point gives None.
    """
    drawn = len(points["x"]) - 1
    if drawn < 1 or "n_risk" not in curve:
        return None
    ordered = curve.sort_values("time_days", kind="mergesort")
    at_risk = float(ordered["n_risk"].iloc[drawn - 1])
    text = f"{name} at {points['x'][-1]:.1f} months ({at_risk:.0f} at risk)"
    return text + ", the next point withheld" if points["truncated"][0] else text


#: the caption's sentence on the dotted stretches of curves whose steps are withheld
DOTTED_NOTE = (
    "Dotted: between two published points the estimate changes at times that are withheld; "
    "the curve lies between the two values there, and the dotted line joining them is not "
    "an estimate. Censorings are marked at the published point that counts them."
)


def beyond_note(curves: list[dict[str, Any]], risk: dict[str, Any], threshold: int) -> str:
    """Name the curves that end while their number-at-risk row goes on, and say why.

    The rule this sentence states (the disclosure rule of the curves, not changed here): a
    curve ends at its last published point; a later time is published only where the events
    and the censorings since that point are each 0 or at least ``threshold``, so a curve ends
    where the next such counts are small, however many persons are still at risk, and the
    number-at-risk row, whose counts are published one by one, goes on. A curve whose row
    has a published count at a time after its end is named with that count; returns ``""``
    (with a leading space otherwise) when no curve ends before its row.

    Examples
    --------
    >>> curves = [{"name": "R/R", "x": [0.0, 6.0]}, {"name": "ND", "x": [0.0, 31.8]}]
    >>> risk = {"times": [0, 12, 24], "rows": [{"name": "R/R", "values": ["54", "39", "13"]},
    ...                                        {"name": "ND", "values": ["80", "77", "34"]}]}
    >>> beyond_note(curves, risk, 5)[:86]
    " Number-at-risk rows that go on past their curve's end: R/R, 13 at risk at 24 months. "
    """
    late = _late_rows(curves, risk)
    if not late:
        return ""
    return (
        f" Number-at-risk rows that go on past their curve's end: {'; '.join(late)}. After "
        "such a curve's last point no later time has the events and the censorings since "
        f"that point each 0 or at least {threshold}, so no further point can be published; "
        "the number at risk is published on its own."
    )


def curve_footnote(curves: list[dict[str, Any]], risk: dict[str, Any], threshold: int) -> str:
    """Return the footnote of a static curve figure whose curves end before their rows.

    A PNG pasted into a manuscript travels without the report's caption, so it carries the
    same rule as :func:`beyond_note` in one line under its number-at-risk table (drawn by
    :mod:`allrwe.report.render.static`); ``""`` when every curve reaches its row's end.
    """
    late = _late_rows(curves, risk)
    if not late:
        return ""
    return (
        "A curve ends at its last published point: a later point needs the events and the "
        f"censorings since the last one each 0 or at least {threshold}. Still at risk after "
        f"the end of the curve: {'; '.join(late)}."
    )


def _late_rows(curves: list[dict[str, Any]], risk: dict[str, Any]) -> list[str]:
    """``"ND, 20 at risk at 30 months"`` for each row that counts past the end of its curves.

    A row is a curve's, or, for the causes of a cumulative-incidence figure (``BLIN:
    relapse``, ``BLIN: death``), its group's; it goes on past them when its last published
    count stands at a time after the end of the longest of them.
    """
    rows = {str(r["name"]): r["values"] for r in risk.get("rows", [])}
    times = [float(t) for t in risk.get("times", [])]
    ends: dict[str, float] = {}
    for c in curves:
        name, xs = str(c["name"]), c.get("x") or []
        key = name if name in rows else name.rpartition(": ")[0]
        if key in rows and len(xs) >= 2:
            ends[key] = max(ends.get(key, 0.0), float(xs[-1]))
    late = []
    for key, end in ends.items():
        later = [
            (t, v) for t, v in zip(times, rows[key], strict=False) if t > end and str(v).isdigit()
        ]
        if later:
            t, v = later[-1]
            late.append(f"{key}, {v} at risk at {t:g} months")
    return late


def withheld_note(curves: list[dict[str, Any]], exact: bool) -> str:
    """Return :data:`DOTTED_NOTE` (with a leading space) if a curve has a dotted stretch."""
    return f" {DOTTED_NOTE}" if has_withheld(curves, exact) else ""


def curve_caption(title: str, ends: list[str], threshold: int, causes: bool = False) -> str:
    """Return the caption of a curve figure: what is drawn, and where and why each curve ends.

    Curves are drawn to their last published point. A point is published only where at least
    ``threshold`` persons are at risk and the events (per cause, with ``causes``) and the
    censorings since the previous point are each 0 or at least ``threshold``, and so are
    those after the last point (:mod:`allrwe.analyses.outcomes.curves`), so a curve may end
    while many more persons than
    the threshold are at risk; the number-at-risk table goes on where its own counts are
    published.
    """
    events = "events of each cause" if causes else "events"
    where = f" ({'; '.join(ends)})" if ends else ""
    return (
        f"{title}. Shaded: pointwise 95% confidence band; +: censored. Each curve is drawn "
        f"to its last published point{where}. A point is published only where at least "
        f"{threshold} persons are at risk and the {events} and the censorings since the "
        f"previous point are each 0 or at least {threshold}, and so are those after the "
        "last point, so a curve may end while more persons remain at risk; the "
        "number-at-risk table goes on where its counts are published."
    )


def _risk_rows(
    ctx: Context, analysis: str, variable: str, groups: list[str]
) -> tuple[list[str], list[Row]]:
    frame = ctx.view.frame(analysis)
    frame = frame[(frame["variable"] == variable) & (frame["strata_name"] == _O)]
    months = sorted(set(frame["variable_level"]), key=level_sort_key)
    # Every k-th time point, so that the table stays readable beside the figure.
    months = months[:: max(1, -(-len(months) // MAX_RISK_COLUMNS))]
    rows = []
    for g in groups:
        cells = [
            fmt_count(ctx.view.get(analysis, g, _O, _O, variable, m, "n_risk")) for m in months
        ]
        rows.append(Row((g, *("" if c == NOT_ESTIMABLE else c for c in cells))))
    return [m.replace(" months", "") for m in months], rows


def curve_figure(
    ctx: Context,
    base: str,
    variable: str,
    groups: list[str],
    causes: tuple[str, ...],
    title: str,
    fid: str,
) -> tuple[Figure | None, Table]:
    """Return the curve figure of one endpoint for the groups (KM or CIF) and its risk table."""
    curves = _overall(ctx, f"{base}_curve", variable)
    counts = curves  # the counts behind each published point are in the same records
    series: list[dict[str, Any]] = []
    ends: list[str] = []
    for g in groups:
        part = curves[curves["group"] == g]
        if part.empty:
            continue
        for k, cause in enumerate(causes):
            name = g if cause == "survival" else f"{g}: {cause}"
            points = curve_points(part, counts[counts["group"] == g], cause, ctx.exact_curves)
            colour = group_colour(ctx.groups, g)
            series.append({"name": name, "colour": colour, "dash": k, **points})
            end = curve_end(name, part, points)
            if end is not None:
                ends.append(end)
    months, rows = _risk_rows(ctx, f"{base}_risk_table", variable, groups)
    risk = make_table(
        ctx,
        f"risk-{fid}",
        "Number at risk (months since the start of follow-up)",
        ("Group", *months),
        rows,
    )
    if not series:
        return None, risk
    ylabel = "Survival probability" if causes == ("survival",) else "Cumulative incidence"
    data: dict[str, Any] = {
        "title": title,
        "curves": series,
        "xlabel": "Months",
        "ylabel": ylabel,
        "risk": trim_risk(
            {
                "times": [float(m) for m in months],
                "rows": [{"name": r.cells[0], "values": list(r.cells[1:])} for r in rows],
            },
            reach=max(max(c["x"]) for c in series),
        ),
    }
    if ctx.exact_curves:
        data["exact"] = True
    caption = curve_caption(title, ends, ctx.min_cell_count, causes != ("survival",))
    caption += beyond_note(series, data["risk"], ctx.min_cell_count)
    caption += withheld_note(series, ctx.exact_curves)
    if footnote := curve_footnote(series, data["risk"], ctx.min_cell_count):
        data["footnote"] = footnote
    chart = "km" if causes == ("survival",) else "cif"
    # Static files for the main analyses; censoring variants are sensitivity analyses.
    return Figure(fid, caption, chart, data, static=":" not in variable), risk


def trim_risk(risk: dict[str, Any], reach: float = 0.0) -> dict[str, Any]:
    """Drop the trailing times at which no row has a published number at risk.

    The figure's axis ends at the last time with a published count, so that it does not run
    on past the curves over columns of ``–``; but it reaches the end of the longest curve
    (``reach``, in months): the axis ticks are the table's times, so the first time at or
    after that end is kept, or a curve would run on past the last tick.

    Examples
    --------
    >>> risk = {"times": [0, 6, 12, 18], "rows": [{"name": "A", "values": ["9", "7", "–", "–"]}]}
    >>> trim_risk(risk)["times"], trim_risk(risk, reach=10.5)["times"]
    ([0, 6], [0, 6, 12])
    """
    times, rows = list(risk["times"]), list(risk["rows"])
    last = max(
        (j for j in range(len(times)) for r in rows if r["values"][j] not in ("", SUPPRESSED)),
        default=-1,
    )
    cover = next((j + 1 for j, t in enumerate(times) if t >= reach), len(times))
    keep = max(last + 1, min(2, len(times)), cover if reach > 0 else 0)
    return {
        "times": times[:keep],
        "rows": [{**r, "values": list(r["values"][:keep])} for r in rows],
    }


def _stratum_risk(
    ctx: Context, variable: str, group: str, name: str, series: list[dict[str, Any]]
) -> dict[str, Any]:
    frame = ctx.view.frame("survival_risk_table")
    frame = frame[(frame["variable"] == variable) & (frame["strata_name"] == name)]
    frame = frame[frame["group"] == group]
    months = sorted(set(frame["variable_level"]), key=level_sort_key)
    months = months[:: max(1, -(-len(months) // MAX_RISK_COLUMNS))]
    rows = []
    for curve in series:
        level = curve["level"]
        cells = [
            fmt_count(
                ctx.view.get("survival_risk_table", group, name, level, variable, m, "n_risk")
            )
            for m in months
        ]
        values = ["" if c == NOT_ESTIMABLE else c for c in cells]
        rows.append({"name": curve["name"], "values": values})
    times = [float(m.replace(" months", "")) for m in months]
    reach = max((max(c["x"]) for c in series if c["x"]), default=0.0)
    return trim_risk({"times": times, "rows": rows}, reach=reach)


def stratum_figures(ctx: Context, variable: str, groups: list[str], title: str) -> list[Figure]:
    """Kaplan–Meier curves of each stratum variable, one figure per group (seed 001 Fig. 2b/d).

    Each level of the stratum is one curve with its band, censoring marks and its row of the
    number-at-risk table; the curves end, as the overall ones, at their last published point.
    Drawn in the HTML; also as PNG and SVG for the endpoints and strata seed 001 draws
    (:data:`STATIC_STRATUM_ENDPOINTS` by :data:`STATIC_STRATA`: EFS and OS by setting, Fig.
    2a/c, and by treatment setting within ND and R/R, Fig. 2b/d).
    """
    frame = ctx.view.frame("survival_curve")
    frame = frame[(frame["variable"] == variable) & (frame["strata_name"] != _O)]
    if frame.empty:
        return []
    # the counts behind each published point are in the same records as its estimates
    curves = _wide(frame)
    tallies = curves
    figures = []
    for g in groups:
        for name in sorted(set(curves.loc[curves["group"] == g, "strata_name"])):
            part = curves[(curves["group"] == g) & (curves["strata_name"] == name)]
            levels = sorted(set(part["strata_level"]), key=level_sort_key)
            series, ends = [], []
            for k, level in enumerate(levels):
                one = part[part["strata_level"] == level]
                n = tallies[
                    (tallies["group"] == g)
                    & (tallies["strata_name"] == name)
                    & (tallies["strata_level"] == level)
                ]
                points = curve_points(one, n, "survival", ctx.exact_curves)
                if len(points["x"]) > 1:
                    colour = PALETTE[k % len(PALETTE)]
                    shown = level_words(name, level)
                    series.append({"name": shown, "colour": colour, "level": level, **points})
                    ends.append(curve_end(shown, one, points) or shown)
            if not series:
                continue
            words = " × ".join(label(part) for part in name.split(" &&& "))
            data: dict[str, Any] = {
                "title": f"{title} by {words}, {g}",
                "curves": series,
                "xlabel": "Months",
                "ylabel": "Survival probability",
                "risk": _stratum_risk(ctx, variable, g, name, series),
            }
            if ctx.exact_curves:
                data["exact"] = True
            caption = curve_caption(f"{title} of group {g} by {words}", ends, ctx.min_cell_count)
            caption += beyond_note(series, data["risk"], ctx.min_cell_count)
            caption += withheld_note(series, ctx.exact_curves)
            if footnote := curve_footnote(series, data["risk"], ctx.min_cell_count):
                data["footnote"] = footnote
            fid = f"km-{slug(variable)}-{slug(g)}-{slug(name)}"
            static = variable in STATIC_STRATUM_ENDPOINTS and name in STATIC_STRATA
            figures.append(Figure(fid, caption, "km", data, static=static))
    return figures


#: how each after-index event reads in the Simon–Makuch figure
_EVENT_WORDS = {"hsct": "HSCT", "car_t": "CAR-T", "response": "response"}


def simon_makuch_figures(
    ctx: Context, variable: str, groups: list[str], title: str, event: str
) -> list[Figure]:
    """Simon–Makuch curves of one endpoint by the after-index event, one figure per group.

    Drawn from the published points of ``after_index_simon_makuch_curve`` only (thinned and
    suppressed as every curve: :mod:`allrwe.analyses.outcomes.curves`); each curve stops at
    its first hidden point. A person counts in the "no <event>" curve until the event and in
    the "<event>" curve after it. HTML only (``static=False``).
    """
    frame = ctx.view.frame(SIMON_MAKUCH_CURVE)
    frame = frame[frame["variable"] == variable]
    if frame.empty:
        return []
    curves = _wide(frame)
    words = _EVENT_WORDS.get(event, event)
    figures = []
    for g in groups:
        series, ends = [], []
        for k, (level, name) in enumerate(((event, words), (f"no_{event}", f"no {words}"))):
            part = curves[(curves["group"] == g) & (curves["strata_level"] == level)]
            if part.empty:
                continue
            points = curve_points(part, part, "survival", ctx.exact_curves)
            if len(points["x"]) > 1:
                series.append({"name": name, "colour": PALETTE[k % len(PALETTE)], **points})
                ends.append(curve_end(name, part, points) or name)
        if not series:
            continue
        data: dict[str, Any] = {
            "title": f"{title} by {words} after index (Simon–Makuch), {g}",
            "curves": series,
            "xlabel": "Months",
            "ylabel": "Survival probability",
            "risk": {"times": [], "rows": []},
        }
        caption = (
            f"{title} of group {g} by current {words} status (Simon–Makuch): a person is in "
            f"the 'no {words}' curve until the {words} and in the '{words}' curve after it. "
            "Shaded: pointwise 95% confidence band; +: censored. Only published points are "
            f"drawn; each curve ends at its last one ({'; '.join(ends)}). A time is skipped "
            f"where fewer than {ctx.min_cell_count} persons are at risk, and a point is "
            f"published only where the entries, events and censorings since the previous "
            f"point are each 0 or at least {ctx.min_cell_count}."
        ) + withheld_note(series, ctx.exact_curves)
        if ctx.exact_curves:
            data["exact"] = True
        fid = f"sm-{slug(event)}-{slug(variable)}-{slug(g)}"
        figures.append(Figure(fid, caption, "km", data, static=False))
    return figures


#: response rates a forest plot may show beside the hazard ratios, in order of preference,
#: with the column header and the caption's words
FOREST_RATES = (
    ("response", "CR/CRh/CRi", "CR/CRh/CRi rates"),
    ("response_within_n", "CR/CRh/CRi ≤{n} cycles", "CR/CRh/CRi rates within {n} cycles"),
    ("cr", "CR", "CR rates"),
)


def _rate_pct(ctx: Context, group: str, sn: str, level: str, rate: str) -> str | None:
    """Return a published response rate of one stratum level as ``"52%"``, else None."""
    pct = ctx.view.get("response", group, sn, level, rate, _O, "percentage")
    return f"{pct.value:.0f}%" if pct.visible and math.isfinite(pct.value) else None


def _forest_rate(ctx: Context, pairs: list[tuple[str, str, str, str]]) -> str | None:
    """Return the rate of :data:`FOREST_RATES` published for the most compared levels."""
    best, most = None, 0
    for rate, *_ in FOREST_RATES:
        shown = sum(
            _rate_pct(ctx, g, sn, lv, rate) is not None for g, sn, a, b in pairs for lv in (a, b)
        )
        if shown > most:
            best, most = rate, shown
    return best


def forest_figure(
    ctx: Context, variable: str, title: str, spec: StudySpec | None = None
) -> Figure | None:
    """Cox hazard ratios of every stratum comparison of one endpoint, as a forest plot.

    Beside each hazard ratio: the response rates of the two levels compared, from the
    ``response`` records of the same stratum: CR/CRh/CRi, or, when suppression leaves fewer of
    those, CR/CRh/CRi within the response window or CR (``–`` where suppressed). One rate for
    the whole figure, named in its header.
    """
    frame = ctx.view.frame("survival_test")
    frame = frame[(frame["variable"] == variable) & frame["variable_level"].str.startswith("cox")]
    items, pairs = [], []
    for (g, sn, level), part in frame.groupby(
        ["group", "strata_name", "variable_level"], sort=True
    ):
        est = {
            str(n): (float(v), bool(h))
            for n, v, h in zip(
                part["estimate_name"], part["value"], part["suppressed"], strict=True
            )
        }
        hr, low, high = (est.get(k, (math.nan, False)) for k in ("hr", "hr_lower", "hr_upper"))
        if hr[1] or low[1] or high[1] or not math.isfinite(hr[0]):
            continue
        lo, hi = (v[0] if math.isfinite(v[0]) else None for v in (low, high))
        text = f"{hr[0]:.2f} ({fmt_number(low[0], 2)}, {fmt_number(high[0], 2)})"
        pair = str(level).removeprefix("cox ")
        first, _, second = pair.partition(" vs ")
        pairs.append((str(g), str(sn), first, second))
        items.append(
            {"name": f"{g}, {sn}: {pair}", "hr": hr[0], "lower": lo, "upper": hi, "text": text}
        )
    if not items:
        return None
    rate = _forest_rate(ctx, pairs) if ctx.view.has("response") else None
    n = spec.outcomes.response_within_cycles if spec is not None else 2
    data: dict[str, Any] = {
        "title": f"{title}: hazard ratios",
        "items": items,
        "xlabel": "Hazard ratio (log scale)",
    }
    caption = (
        f"{title}: Cox hazard ratios (Efron ties) of each stratum comparison with 95% CIs; "
        "HR > 1: a higher hazard in the first-named level."
    )
    if rate is not None:
        header, words = next((h, w) for r, h, w in FOREST_RATES if r == rate)
        for item, (g, sn, a, b) in zip(items, pairs, strict=True):
            ra, rb = (_rate_pct(ctx, g, sn, lv, rate) or SUPPRESSED for lv in (a, b))
            item["rates"] = f"{ra} vs {rb}" if b else ""
        data["rates_header"] = header.format(n=n)
        caption += (
            f" Beside each ratio: the {words.format(n=n)} of the two levels (first vs second "
            f"named; {SUPPRESSED}: suppressed or not estimable)."
        )
    return Figure(f"forest-{slug(variable)}", caption, "forest", data, static=False)


# ------------------------------------------------------------------ survival


def summary_cells(
    ctx: Context, spec: StudySpec, variable: str, key: tuple[str, str, str]
) -> list[str]:
    """Return the median (95% CI) and each landmark rate (95% CI) of one curve, as shown."""
    g, sn, sl = key
    landmarks = [f"{m:g} months" for m in spec.outcomes.landmarks_months]

    def get(analysis: str, name: str, level: str = _O) -> Value:
        return ctx.view.get(analysis, g, sn, sl, variable, level, name)

    if unsupported(ctx, "survival_summary", key, variable):
        return ["not available"] * (1 + len(landmarks))
    median = fmt_interval(
        get("survival_summary", "median_months"),
        get("survival_summary", "median_lower_months"),
        get("survival_summary", "median_upper_months"),
        unreached=True,
    )
    marks = [landmark_cell(ctx, variable, key, lm) for lm in landmarks]
    return [median, *marks]


def landmark_cell(ctx: Context, variable: str, key: tuple[str, str, str], landmark: str) -> str:
    """Return the landmark rate (95% CI) of one curve, or why it is not shown.

    ``landmark`` is the record's level, e.g. ``"12 months"``. A rate is not estimable (NE)
    only when nobody is followed to the landmark. A rate missing while persons are still at
    risk then is withheld, not NE: the published curve has no point there (its counts since
    the previous point would show fewer persons than the minimum cell count), so the rate
    would give those counts away; it reads "–" (:data:`WITHHELD_NOTE`). One rule for Table 2
    and the survival section's tables.
    """
    g, sn, sl = key

    def get(name: str) -> Value:
        return ctx.view.get("survival_landmark", g, sn, sl, variable, landmark, name)

    if unsupported(ctx, "survival_summary", key, variable):
        return "not available"
    if landmark_withheld(ctx, variable, key, landmark):
        return SUPPRESSED
    return fmt_interval(get("survival"), get("lower"), get("upper"), scale=100.0, suffix="%")


def landmark_withheld(
    ctx: Context, variable: str, key: tuple[str, str, str], landmark: str
) -> bool:
    """Whether a landmark rate is withheld: absent, not suppressed, persons still at risk."""
    g, sn, sl = key
    survival, at_risk = (
        ctx.view.get("survival_landmark", g, sn, sl, variable, landmark, name)
        for name in ("survival", "n_risk")
    )
    return (
        not survival.visible and not survival.suppressed and at_risk.visible and bool(at_risk.value)
    )


#: the note of every table whose landmark rates follow :func:`landmark_cell`
WITHHELD_NOTE = (
    "A landmark rate is NE only when nobody is followed to the landmark; with persons still "
    "at risk it is withheld (–) when the published curve has no point there."
)


#: estimate names of the follow-up: median (reverse Kaplan–Meier) and, when recorded, range
FOLLOWUP = ("median_followup_days", "followup_min_days", "followup_max_days")


def followup_cell(ctx: Context, variable: str, key: tuple[str, str, str]) -> str:
    """Return ``median (min–max)`` follow-up in months, or the median alone without a range.

    The range is published in whole months (:func:`allrwe.analyses.outcomes.summary.followup_range`)
    and shown as such.
    """
    g, sn, sl = key
    if unsupported(ctx, "survival_summary", key, variable):
        return "not available"
    median, low, high = (
        ctx.view.get("survival_summary", g, sn, sl, variable, _O, name) for name in FOLLOWUP
    )
    if median.suppressed:
        return SUPPRESSED
    if not median.visible:
        return NOT_ESTIMABLE
    text = f"{median.value / DAYS_PER_MONTH:.1f}"
    if low.visible and high.visible:
        text += f" ({low.value / DAYS_PER_MONTH:.0f}–{high.value / DAYS_PER_MONTH:.0f})"
    return text


def _summary_row(ctx: Context, spec: StudySpec, variable: str, key: tuple[str, str, str]) -> Row:
    g, sn, sl = key

    def get(analysis: str, name: str, level: str = _O) -> Value:
        return ctx.view.get(analysis, g, sn, sl, variable, level, name)

    label = g if sn == _O else f"{g}, {stratum_words(sn, sl)}"
    persons = fmt_count(get("survival_summary", "n"))
    cells = summary_cells(ctx, spec, variable, key)
    if unsupported(ctx, "survival_summary", key, variable):
        return Row((label, persons, "not available", *cells, "not available"))
    events = fmt_count(get("survival_summary", "n_event"))
    return Row((label, persons, events, *cells, followup_cell(ctx, variable, key)))


def _test_row(key: tuple[str, str, str], part: pd.DataFrame) -> Row:
    est = {
        str(n): (float(v), bool(h))
        for n, v, h in zip(part["estimate_name"], part["value"], part["suppressed"], strict=True)
    }

    def num(name: str, digits: int = 2) -> str:
        value, hidden = est.get(name, (math.nan, False))
        return SUPPRESSED if hidden else fmt_number(value, digits)

    if "hr" in est:
        stat = f"HR {num('hr')} ({num('hr_lower')}, {num('hr_upper')})"
    else:
        stat = f"χ² {num('chisq')}, df {num('df', 0)}"
    p = est.get("p", (math.nan, False))
    # a journal writes a p value below the last digit shown as "<0.0001", never "0.0000"
    small = not p[1] and math.isfinite(p[0]) and p[0] < 0.00005
    return Row((*key, stat, "<0.0001" if small else num("p", 4)))


def stat_test_rows(ctx: Context, analysis: str, variable: str) -> list[Row]:
    """Return the rows of the log-rank, Gray and Cox tests of one endpoint."""
    frame = ctx.view.frame(analysis)
    frame = frame[frame["variable"] == variable]
    groups = frame.groupby(["group", "strata_name", "variable_level"], sort=True)
    return [_test_row((str(g), str(sn), str(t)), part) for (g, sn, t), part in groups]


def _km_endpoint(ctx: Context, spec: StudySpec, variable: str) -> Section:
    title = endpoint_title(variable, spec, _KM_TITLES)
    sid = f"km-{slug(variable)}"
    frame = ctx.view.frame("survival_summary")
    frame = frame[frame["variable"] == variable]
    if not any_available(frame):
        return Section(
            sid, title, (na_text(title, "the CDM lacks the records it needs"),), (), False
        )
    groups = [g for g in ctx.present_groups("survival_summary") if g in set(frame["group"])]
    figure, risk = curve_figure(ctx, "survival", variable, groups, ("survival",), title, sid)
    head = [
        "Group",
        "Persons",
        "Events",
        "Median, months (95% CI)",
        *(f"{m:g}-month, % (95% CI)" for m in spec.outcomes.landmarks_months),
        "Median follow-up, months",
    ]
    keys = list(
        dict.fromkeys(zip(frame["group"], frame["strata_name"], frame["strata_level"], strict=True))
    )
    overall = [k for k in keys if k[1] == _O and k[0] in groups]
    marks = [f"{m:g} months" for m in spec.outcomes.landmarks_months]

    def rates_table(tid: str, caption: str, keys: list[tuple[str, str, str]]) -> Table:
        rows = [_summary_row(ctx, spec, variable, k) for k in keys]
        withheld = any(landmark_withheld(ctx, variable, k, m) for k in keys for m in marks)
        return make_table(ctx, tid, caption, head, rows, (WITHHELD_NOTE,) if withheld else ())

    summary = rates_table(f"summary-{sid}", f"{title}: medians and landmark rates", overall)
    blocks: list[Block] = [b for b in (figure, risk, summary) if b is not None]
    strata = sorted(
        (k for k in keys if k[1] != _O), key=lambda k: (k[1], level_sort_key(k[2]), k[0])
    )
    folded: list[Block] = []
    if strata and ":" not in variable:
        folded += stratum_figures(ctx, variable, groups, title)
    if strata:
        folded.append(rates_table(f"strata-{sid}", f"{title} by stratum", strata))
    tests = stat_test_rows(ctx, "survival_test", variable)
    forest = forest_figure(ctx, variable, title, spec) if ":" not in variable else None
    if forest is not None:
        folded.append(forest)
    if tests:
        folded.append(
            make_table(
                ctx,
                f"tests-{sid}",
                "Log-rank tests and Cox hazard ratios",
                ("Group", "Stratum", "Test", "Statistic", "p"),
                tests,
            )
        )
    after = spec.outcomes.after_index
    if after is not None:
        for event in after.events:
            table = after_index_table(ctx, variable, sid, after.horizon_months, event)
            if table is not None:
                folded.append(table)
            folded += simon_makuch_figures(ctx, variable, groups, title, event)
    if folded:
        blocks.append(Details("By stratum, and tests", tuple(folded)))
    return Section(sid, title, tuple(blocks))


def survival_section(ctx: Context, spec: StudySpec) -> Section:
    """One sub-section per Kaplan–Meier endpoint (OS, EFS, RFS, DOR and censoring variants)."""
    title = "Time-to-event outcomes"
    reason = ctx.view.not_available("survival_summary")
    frame = ctx.view.frame("survival_summary")
    if reason is not None or frame.empty:
        return Section("survival", title, (na_text("Time-to-event outcomes", reason),), (), False)
    variables = endpoint_order(list(frame["variable"].astype(str)), KM_ENDPOINTS, spec)
    children = tuple(_km_endpoint(ctx, spec, v) for v in variables)
    available = any(c.available for c in children)
    return Section("survival", title, (), children, available)
