"""Curves whose steps are withheld: dotted between exactly those published points.

A published point carries the estimate just before its time; between two points whose values
differ the events fell at withheld times, so the figure joins them with a dotted connector,
not a flat step that would say "no event until the later point".
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from allrwe.analyses.outcomes.curves import published_points, value_before
from allrwe.analyses.survival import DAYS_PER_MONTH, kaplan_meier
from allrwe.report import svg_figure
from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.model import Figure
from allrwe.report.render.static import _curves
from allrwe.report.render.style import WITHHELD_KEY, band_vertices, curve_pieces
from allrwe.report.sections.survival import DOTTED_NOTE, stratum_figures
from allrwe.results import make_records


def _cohort() -> tuple[np.ndarray, np.ndarray]:
    """40 persons: events early (as R/R re-induction EFS: 56 at risk, 29 by 3 months), then
    mostly censorings; times in days, in steps of two weeks early and of a month later."""
    rng = np.random.default_rng(0)
    early = np.round(rng.exponential(60.0, 24) / 14) * 14
    late = np.round(rng.uniform(200, 700, 16) / 30) * 30
    event = np.concatenate([rng.random(24) < 0.85, rng.random(16) < 0.2])
    return np.concatenate([early, late]) + 1.0, event


def _published(threshold: int) -> tuple[object, np.ndarray, dict[str, list[float]]]:
    time, event = _cohort()
    km = kaplan_meier(time, event)
    index, _ = published_points(
        km.n_risk, {"n_event": km.n_event, "n_censor": km.n_censor}, threshold
    )
    before = {c: value_before(getattr(km, c), index, 1.0) for c in ("survival", "lower", "upper")}
    # as curve_points: the curve starts at (0, 1), then one point per published time
    curve = {
        "name": "R/R: re-induction",
        "x": [0.0, *(km.time[index] / DAYS_PER_MONTH).tolist()],
        "y": [1.0, *before["survival"].tolist()],
        "lower": [1.0, *before["lower"].tolist()],
        "upper": [1.0, *before["upper"].tolist()],
        "cx": [],
        "cy": [],
    }
    return km, index, curve


def _spans_with_events(km: object, index: np.ndarray) -> list[bool]:
    """Whether each span between drawn points holds an event (from the person-level data)."""
    bounds = [0, *index.tolist()]  # the start (0, 1), then the published times
    return [bool(km.n_event[a:b].sum() > 0) for a, b in itertools.pairwise(bounds)]


def _figure(curve: dict[str, object], exact: bool = False) -> Figure:
    data = {"curves": [curve], "xlabel": "Months", "ylabel": "Survival probability",
            "risk": {"times": [], "rows": []}}  # fmt: skip
    if exact:
        data["exact"] = True
    return Figure("km-withheld", "t", "km", data)


def test_connectors_join_exactly_the_points_with_withheld_events():
    km, index, curve = _published(5)
    assert len(index) < len(km.time)  # some times are withheld at a threshold of 5
    spans = _spans_with_events(km, index)
    assert any(spans)
    assert not all(spans)
    runs, connectors = curve_pieces(curve["x"], curve["y"])
    x, y = curve["x"], curve["y"]
    expected = [(x[i], y[i], x[i + 1], y[i + 1]) for i, hidden in enumerate(spans) if hidden]
    assert connectors == expected
    # the known steps are flat over exactly the event-free spans
    flat = {(a, n) for run in runs for a, _, n in run if n > a}
    assert flat == {(x[i], x[i + 1]) for i, hidden in enumerate(spans) if not hidden}
    svg = svg_figure(_figure(curve))
    dots = re.search(r'<path d="([^"]*)"[^>]*stroke-dasharray="0.1 4"', svg)
    assert dots is not None
    assert dots.group(1).count("L") == len(expected)
    assert f">{WITHHELD_KEY}</text>" in svg


def test_the_static_figure_draws_the_same_connectors_and_band():
    _, _, curve = _published(5)
    fig = MplFigure()
    _curves(fig, _figure(curve).data)
    ax = fig.axes[0]
    dotted = [ln for ln in ax.lines if ln.get_linestyle() not in ("-", "None")]
    assert len(dotted) == 2  # the connectors and their legend key
    xs = list(dotted[0].get_xdata())
    _, connectors = curve_pieces(curve["x"], curve["y"])
    assert [v for v in xs if not np.isnan(v)] == [v for c in connectors for v in (c[0], c[2])]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [curve["name"], WITHHELD_KEY]
    # the band runs straight between the published limits (one polygon, no step)
    (block,) = band_vertices(curve["x"], curve["lower"], curve["upper"])
    assert [v[0] for v in block] == curve["x"]


def test_every_time_published_draws_the_exact_steps():
    km, index, curve = _published(1)
    assert len(index) == len(km.time)
    runs, connectors = curve_pieces(curve["x"], curve["y"], exact=True)
    assert connectors == []
    (run,) = runs
    # on [t_j, t_j+1) the drawn value is the Kaplan-Meier estimate at t_j
    drawn = {a: v for a, v, n in run if n > a}
    times = (km.time / DAYS_PER_MONTH).tolist()
    assert [drawn[t] for t in times[:-1]] == km.survival[:-1].tolist()
    assert drawn[0.0] == 1.0
    # the same points without the flag would join every drop with a connector
    assert len(curve_pieces(curve["x"], curve["y"])[1]) == int((km.n_event[:-1] > 0).sum())
    svg = svg_figure(_figure(curve, exact=True))
    assert "stroke-dasharray" not in svg
    assert WITHHELD_KEY not in svg


def test_a_flat_curve_is_drawn_as_one_step_without_dots():
    ones = [1.0, 1.0, 1.0]
    curve = {"name": "R/R: consolidation", "x": [0.0, 2.0, 5.7], "y": ones,
             "lower": ones, "upper": ones, "cx": [5.7], "cy": [1.0]}  # fmt: skip
    runs, connectors = curve_pieces(curve["x"], curve["y"])
    assert connectors == []
    assert runs == [[(0.0, 1.0, 2.0), (2.0, 1.0, 5.7), (5.7, 1.0, 5.7)]]
    svg = svg_figure(_figure(curve))
    assert WITHHELD_KEY not in svg
    assert "stroke-dasharray" not in svg
    path = re.search(r'<path d="(M[^"]*)" fill="none" stroke="#0072B2"', svg)
    assert path is not None
    assert re.fullmatch(r"M[\d.]+ [\d.]+H[\d.]+", path.group(1))


def _levels() -> pd.DataFrame:
    days = [1, 91, 386]  # R/R: re-induction: 1.0 until the published point at 12.7 months
    keys = {"group": "BLIN", "strata_name": "setting", "variable": "efs"}
    parts = []
    for level, surv, risk in (("R/R", [1.0, 1.0, 0.46], [56, 29, 11]),
                              ("ND", [1.0, 1.0, 1.0], [95, 93, 86])):  # fmt: skip
        parts.append(make_records(
            analysis="survival_curve", **keys, strata_level=level,
            variable_level=[str(d) for d in days for _ in range(7)],
            estimate_name=["time_days", "survival", "lower", "upper", "n_risk", "n_event",
                           "n_censor"] * len(days),
            value=[v for d, s, n in zip(days, surv, risk, strict=True)
                   for v in (d, s, s - 0.1 if s < 1 else s, min(1.0, s + 0.05), n, 0, 0)],
        ))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def test_the_caption_explains_the_dots_only_where_they_are_drawn():
    records = _levels()
    (figure,) = stratum_figures(Context(ResultView(records), ["BLIN"], 5), "efs", ["BLIN"], "EFS")
    assert DOTTED_NOTE in figure.caption
    assert "exact" not in figure.data
    nd = records[records["strata_level"] == "ND"]
    (flat,) = stratum_figures(Context(ResultView(nd), ["BLIN"], 5), "efs", ["BLIN"], "EFS")
    assert DOTTED_NOTE not in flat.caption
    ctx = Context(ResultView(records), ["BLIN"], 5, hides_below=1)
    (exact,) = stratum_figures(ctx, "efs", ["BLIN"], "EFS")
    assert exact.data["exact"] is True
    assert DOTTED_NOTE not in exact.caption
