"""The attacker reads Simon-Makuch curves: risk sets that grow by ``n_enter`` (issue 16)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes.after_index import entries_between
from allrwe.analyses.outcomes.curves import published_points
from allrwe.results.attack import AttackReport, attack
from allrwe.results.model import COLUMNS

HIDDEN = math.nan
CURVE, SUMMARY = "after_index_simon_makuch_curve", "after_index_simon_makuch"
STRATA = ("hsct_status", "hsct")
KINDS = ("n_event", "n_censor", "n_enter")


def _rec(analysis: str, level: str, name: str, value: float, kind: str = "count") -> dict:
    values = [analysis, "BLIN", *STRATA, "os", level, name, kind, value]
    return dict(zip(COLUMNS, [*values, kind == "count" and math.isnan(value), ""], strict=True))


def _truth(rows: list[tuple[float, float, int]]) -> dict[str, np.ndarray]:
    """The "after HSCT" curve of (start, stop, event) rows: per distinct time of leaving."""
    start, stop, event = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    times = np.unique(stop)
    risk = np.array([((start < t) & (stop >= t)).sum() for t in times], dtype=float)
    died = np.array([((stop == t) & (event == 1)).sum() for t in times], dtype=float)
    left = np.array([((stop == t) & (event == 0)).sum() for t in times], dtype=float)
    survival = np.cumprod(1.0 - died / risk)
    enter = entries_between(times, start)
    return {"time": times, "n_risk": risk, "n_event": died, "n_censor": left,
            "n_enter": enter, "survival": survival}  # fmt: skip


def _published(truth: dict[str, np.ndarray], threshold: int, n: int) -> list[dict]:
    """Records of the curve as the analysis publishes it (thinned with ``threshold``)."""
    exits = {k: truth[k] for k in KINDS}
    index, counts = published_points(truth["n_risk"], exits, threshold)
    out = [
        _rec(SUMMARY, "overall", "n", float(n)),
        _rec(SUMMARY, "overall", "n_event", float(truth["n_event"].sum())),
    ]
    for j, k in enumerate(index.tolist()):
        level = str(int(truth["time"][k]))
        before = truth["survival"][k - 1] if k else 1.0
        out += [
            _rec(CURVE, level, "time_days", float(truth["time"][k]), "numeric"),
            _rec(CURVE, level, "survival", float(before), "numeric"),
            _rec(CURVE, level, "n_risk", float(truth["n_risk"][k])),
            *[_rec(CURVE, level, kind, float(counts[kind][j])) for kind in KINDS],
        ]
    return out


def _attack(rows: list[dict]) -> AttackReport:
    return attack(pd.DataFrame(rows, columns=list(COLUMNS)), 5)


# 12 transplanted persons at risk from before day 100; 3 die on day 150; 20 are transplanted
# between day 150 and day 200 (enter); the rest leave at days 200..400
ROWS = [
    *[(50.0, 100.0, 0)],  # the first time: one censored at day 100
    *[(60.0, 150.0, 1)] * 3,
    *[(70.0, 300.0, 1)] * 4,
    *[(80.0, 400.0, 0)] * 4,
    *[(160.0, 200.0, 0)] * 6,
    *[(170.0, 300.0, 0)] * 7,
    *[(180.0, 400.0, 1)] * 7,
]


def test_truth_has_a_risk_set_that_grows():
    truth = _truth(ROWS)
    assert truth["time"].tolist() == [100.0, 150.0, 200.0, 300.0, 400.0]
    assert truth["n_risk"].tolist() == [12.0, 11.0, 28.0, 22.0, 11.0]
    assert truth["n_enter"].tolist() == [0.0, 20.0, 0.0, 0.0, 0.0]
    assert truth["n_event"].tolist() == [0.0, 3.0, 0.0, 4.0, 7.0]


def test_hidden_deaths_come_back_through_the_entries():
    # a planted leak: every time published (threshold 1), the 3 deaths of day 150 hidden
    # alone: 11 at risk on day 150, 28 on day 200, 20 entered -> 11 - 28 - 0 + 20 = 3
    rows = _published(_truth(ROWS), 1, len(ROWS))
    planted = [
        {**r, "value": HIDDEN, "suppressed": True}
        if (r["variable_level"], r["estimate_name"]) == ("200", "n_event")
        else r
        for r in rows
    ]
    report = _attack(planted)
    assert report.inconsistent == ()
    leaks = {leak.record: (leak.low, leak.high) for leak in report.leaks}
    assert leaks == {f"{CURVE}/BLIN/hsct_status=hsct/os/200/n_event": (3, 3)}
    assert "risk_set" in report.leaks[0].families


def test_every_published_count_agrees_with_the_entries():
    # nothing hidden: the risk sets, the summary and the survival steps across the entries
    # (the risk set grows between days 150 and 200) must not contradict one another
    report = _attack(_published(_truth(ROWS), 1, len(ROWS)))
    assert report.inconsistent == ()
    assert report.ok


def test_a_correctly_thinned_curve_gives_nothing_away():
    # thinned as the analysis does (threshold 5): day 400 would leave 4 censored after it
    # (the summary minus the points), and no earlier end takes the 3 deaths of day 150 in
    # a gap of their own: only the first point stays
    thin = _published(_truth(ROWS), 5, len(ROWS))
    assert {r["variable_level"] for r in thin if r["analysis"] == CURVE} == {"100"}
    # with a fifth person censored on day 400: points at days 100 and 400 only (the 1
    # censoring of day 100 and the 3 deaths of day 150 cannot stand alone), with 20 entries
    # and 7 deaths between them; no count below 5 can be worked out
    five = [*ROWS, (80.0, 400.0, 0)]
    truth = _truth(five)
    rows = _published(truth, 5, len(five))
    levels = sorted({r["variable_level"] for r in rows if r["analysis"] == CURVE}, key=int)
    assert levels == ["100", "400"]
    entered = [r["value"] for r in rows if r["estimate_name"] == "n_enter"]
    assert entered == [0.0, 20.0]
    report = _attack(rows)
    assert report.inconsistent == ()
    assert report.ok
    # hiding the summary's deaths (as a secondary suppression would) leaks nothing either
    hidden = [
        {**r, "value": HIDDEN, "suppressed": True}
        if (r["analysis"], r["estimate_name"]) == (SUMMARY, "n_event")
        else r
        for r in rows
    ]
    report = _attack(hidden)
    assert report.inconsistent == ()
    assert report.ok
