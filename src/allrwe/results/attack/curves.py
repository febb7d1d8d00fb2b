"""Constraint families of curves: risk sets, steps, summaries, landmarks, report values.

Kaplan-Meier and Aalen-Johansen steps between published points, the summary rows of the
curves, survival and cumulative incidence landmarks, and the curve values of the report.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from itertools import pairwise

import pandas as pd

from allrwe.results.attack.system import (
    _OVERALL,
    CURVE_ANALYSES,
    CURVE_SUMMARIES,
    KM_CURVES,
    REPORT_PRECISION,
    TOLERANCE_PREFIX,
    Cell,
    Key,
    _System,
    _tol,
)
from allrwe.results.model import KEY_COLUMNS


def _curve_points(
    system: _System, numeric: dict[Cell, dict[str, float]]
) -> dict[tuple[str, ...], list[tuple[float, str]]]:
    points: dict[tuple[str, ...], set[tuple[float, str]]] = defaultdict(set)
    cells = {
        key[:6] for keys in (system.value, system.var) for key in keys if key[0] in CURVE_ANALYSES
    }
    cells |= set(numeric)
    for cell in cells:
        if cell[0] not in CURVE_ANALYSES:
            continue
        try:
            at = numeric.get(cell, {}).get("time_days", float(cell[5]))
        except ValueError:
            continue
        points[cell[:5]].add((at, cell[5]))
    return {curve: sorted(p) for curve, p in points.items()}


def _event_names(system: _System, curve: tuple[str, ...]) -> list[str]:
    return sorted({key[6] for key in system.item(curve) if key[6].startswith("n_event")})


def _curves(system: _System, numeric: dict[Cell, dict[str, float]]) -> None:
    """Write the constraints of the published curves (see :mod:`allrwe.analyses.outcomes.curves`).

    A published point carries the risk set at its time, the persons who left the risk set
    since the previous published point (events, censorings), and the estimates just before
    its time; the persons at risk at the first time are the summary's ``n``. A Simon-Makuch
    curve's points also carry ``n_enter``, the persons who joined the risk set since the
    previous point: its risk sets may grow.
    """
    drawn = _curve_points(system, numeric)
    _undrawn_summaries(system, set(drawn))
    for curve, points in drawn.items():
        levels = [level for _, level in points]
        events = _event_names(system, curve)
        kind = curve[0]

        def key(level: str, name: str, curve: tuple[str, ...] = curve) -> Key:
            return (*curve, level, name)

        leaving = (*events, "n_censor")

        def exits(level: str, names: tuple[str, ...] = leaving) -> list[tuple[float, Key]]:
            return [(1.0, key(level, n)) for n in names if system.has(key(level, n))]

        for level in levels:  # a point of a curve has someone at risk
            system.add([(1.0, key(level, "n_risk"))], 1.0, math.inf, "risk_set")
        for before, after in pairwise(levels):
            # the risk set changes by exactly the persons who left and those who entered
            # between the two points
            terms = [(1.0, key(before, "n_risk")), (-1.0, key(after, "n_risk"))]
            terms += [(-c, k) for c, k in exits(after)]
            system.eq(terms + exits(after, ("n_enter",)), "risk_set")
        if any(system.has(key(level, "n_enter")) for level in levels):
            _entry_summary(system, curve, levels, events, exits)
        else:
            _curve_summary(system, curve, levels, events, exits)
        causes = [name[len("n_event_") :] for name in events if name.startswith("n_event_")]
        # the estimates may be hidden at some points (secondary suppression): each step runs
        # from the last point whose estimates are published (the start: S = 1, F = 0)
        anchor: dict[str, float] = {}
        span: list[tuple[float, Key]] = []
        entered = False  # whether persons may have entered since the anchor
        for level in levels:
            now = numeric.get((*curve, level), {})
            span += exits(level)
            entry = key(level, "n_enter")
            entered |= system.has(entry) and system.value.get(entry) != 0.0
            # the risk set at the anchor: this one's plus those who left since
            start = [(1.0, key(level, "n_risk")), *span]
            if kind in KM_CURVES and "survival" in now and "n_event" in events:
                # the bounds of a step hold for a shrinking risk set only: none entered
                if not entered:
                    died = [(c, k) for c, k in span if k[6] == "n_event"]
                    _km_step(system, died, key(level, "n_risk"), start, now, anchor)
            elif kind not in KM_CURVES and causes and all(c in now for c in causes):
                _aj_step(system, curve, level, causes, span, start, now, anchor)
            else:
                continue
            anchor, span, entered = now, [], False


def _km_step(
    system: _System,
    died: list[tuple[float, Key]],
    risk: Key,
    start: list[tuple[float, Key]],
    now: dict[str, float],
    before: dict[str, float],
) -> None:
    """Bound the deaths between two published points by the survival ratio ``r``.

    With ``D`` deaths between points whose risk sets are ``N`` (before) and ``m`` (after), the
    product-limit over the hidden times lies in ``[m / (m + D), 1 - D / N]`` (the risk set at
    each death between ``m`` plus the deaths still to come and ``N`` minus those gone), so
    ``m (1 - r) / r <= D <= N (1 - r)``; one death at one time gives ``D`` exactly.
    """
    s_now, s_before = now.get("survival"), before.get("survival", 1.0)
    if s_now is None or s_before <= 0:
        return
    ratio = s_now / s_before
    tol_now = now.get(f"{TOLERANCE_PREFIX}survival", _tol(s_now))
    tol_before = before.get(f"{TOLERANCE_PREFIX}survival", _tol(s_before))
    tol = (tol_now + s_now * tol_before / s_before) / s_before
    low, high = max(ratio - tol, 0.0), ratio + tol
    system.add([*died, *[(-(1.0 - low) * c, k) for c, k in start]], -math.inf, 0.0, "km")
    if 0.0 < high < 1.0:
        system.add([*died, (-(1.0 / high - 1.0), risk)], 0.0, math.inf, "km")


def _aj_step(
    system: _System,
    curve: tuple[str, ...],
    level: str,
    causes: list[str],
    span: list[tuple[float, Key]],
    start: list[tuple[float, Key]],
    now: dict[str, float],
    before: dict[str, float],
) -> None:
    """Bound the events of each cause between two published points of a cumulative incidence.

    ``F_k`` grows by the sum of ``S(t-) d_k / n_t`` over the hidden times, with ``S(t-)``
    between the all-cause survival at the two points and ``n_t`` between the two risk sets
    ``m`` and ``N``: ``m step / S_before <= D_k <= N step / S_now``.
    """
    if any(c not in now for c in causes):
        return
    if before and any(c not in before for c in causes):
        return
    alive_before = 1.0 - sum(before.get(c, 0.0) for c in causes)
    alive_now = 1.0 - sum(now[c] for c in causes)
    tol_alive = sum(_tol(now[c]) + _tol(before.get(c, 0.0)) for c in causes)
    if alive_now - tol_alive <= 1e-9:
        return
    risk: Key = (*curve, level, "n_risk")
    for cause in causes:
        step = now[cause] - before.get(cause, 0.0)
        tol = _tol(now[cause]) + _tol(before.get(cause, 0.0))
        name = f"n_event_{cause}"
        events = [(c, k) for c, k in span if k[6] == name]
        most = max(step + tol, 0.0) / (alive_now - tol_alive)
        system.add([*events, *[(-most * c, k) for c, k in start]], -math.inf, 0.0, "km")
        least = max(step - tol, 0.0) / (alive_before + tol_alive)
        if least > 0.0:
            system.add([*events, (-least, risk)], 0.0, math.inf, "km")


def _summary_key(curve: tuple[str, ...], name: str) -> Key:
    return (CURVE_SUMMARIES[curve[0]], *curve[1:], _OVERALL, name)


def _curve_summary(
    system: _System,
    curve: tuple[str, ...],
    levels: list[str],
    events: list[str],
    exits: Callable[[str], list[tuple[float, Key]]],
) -> None:
    """Tie a curve's published points to its summary row.

    Everyone is at risk at the first time: ``n`` is the first risk set plus those who left
    before the first published point. The persons at risk at the last published point all
    leave from it on, unseen: per kind, the summary's count minus the points' sum. Those
    tails (events of each kind, and the censorings: the rest of ``n_risk(last)``) are counts
    of persons as well, attacked as hidden counts are (:data:`TAIL_LEVEL`).
    """
    if not levels:
        return
    n = _summary_key(curve, "n")
    first, last = levels[0], levels[-1]
    system.eq([(1.0, (*curve, first, "n_risk")), *exits(first), (-1.0, n)], "summary")
    at_risk: Key = (*curve, last, "n_risk")
    tails: list[tuple[float, Key]] = []
    for name in events:
        if not system.has(_summary_key(curve, name)):
            continue
        tail = system.derived((*curve, TAIL_LEVEL, name))
        shown = [(*curve, lv, name) for lv in levels if system.has((*curve, lv, name))]
        terms = [(-1.0, k) for k in shown] + [(1.0, _summary_key(curve, name)), (-1.0, tail)]
        system.eq(terms, "summary")
        tails.append((1.0, tail))
    if tails and len(tails) == len(events):
        censored = system.derived((*curve, TAIL_LEVEL, "n_censor"))
        system.eq([*tails, (1.0, censored), (-1.0, at_risk)], "summary")
    else:
        for _, tail in tails:
            system.add([(1.0, tail), (-1.0, at_risk)], -math.inf, 0.0, "summary")


#: the curve whose risk set grows (Simon-Makuch): persons enter it after its start
_ENTRY_CURVE = "after_index_simon_makuch_curve"


def _undrawn_summaries(system: _System, drawn: set[tuple[str, ...]]) -> None:
    """Tie a summary whose curve has no published point to its censorings.

    With no point, the whole curve is its tail: the persons who leave it censored are the
    summary's ``n`` minus its events of every kind, a count of persons attacked as hidden
    counts are (:data:`TAIL_LEVEL`). A Simon-Makuch summary is left out: persons enter its
    risk set after its start, unseen.
    """
    summaries = {s: c for c, s in CURVE_SUMMARIES.items() if c != _ENTRY_CURVE}
    for key in [*system.value, *system.var]:
        if key[0] not in summaries or key[5] != _OVERALL or key[6] != "n":
            continue
        curve = (summaries[key[0]], *key[1:5])
        if curve in drawn:
            continue
        row = system.item(key[:5])
        events = [k for k in row if k[5] == _OVERALL and k[6].startswith("n_event")]
        if not events:
            continue
        censored = system.derived((*curve, TAIL_LEVEL, "n_censor"))
        system.eq([(1.0, key), *[(-1.0, k) for k in events], (-1.0, censored)], "summary")


#: the ``variable_level`` under which the attacker names the persons who leave a curve from
#: its last published point on (no record: the summary minus the points)
TAIL_LEVEL = "from the last point on"


def _entry_summary(
    system: _System,
    curve: tuple[str, ...],
    levels: list[str],
    events: list[str],
    exits: Callable[..., list[tuple[float, Key]]],
) -> None:
    """Tie a Simon-Makuch curve's published points to its summary row.

    Its ``n`` persons are those at risk at its first time and those who enter later, once
    each: the risk set at the first time is the first point's plus its exits minus its
    entries, and the entries after the last published point are unseen (``T >= 0``), so
    ``n = n_risk(first) + exits(first) + sum of the later points' n_enter + T``. The persons
    at risk at the last published point and the ``T`` who enter after it leave unseen: the
    summary's events of each kind exceed the points' sum by ``0 .. n_risk(last) + T``.
    """
    if not levels:
        return
    n = _summary_key(curve, "n")
    first, last = levels[0], levels[-1]
    later = [k for lv in levels[1:] for _, k in exits(lv, ("n_enter",))]
    unseen = system.aux("entered after", *curve)
    head = [(1.0, (*curve, first, "n_risk")), *exits(first)]
    system.eq([*head, *[(1.0, k) for k in later], (1.0, unseen), (-1.0, n)], "summary")
    tail: Key = (*curve, last, "n_risk")
    for name in events:
        shown = [(*curve, lv, name) for lv in levels if system.has((*curve, lv, name))]
        terms = [(-1.0, k) for k in shown] + [(1.0, _summary_key(curve, name))]
        system.add([*terms, (-1.0, tail), (-1.0, unseen)], -math.inf, 0.0, "summary")
        system.add(terms, 0.0, math.inf, "summary")


def _landmarks(system: _System, numeric: dict[Cell, dict[str, float]]) -> None:
    for cell, values in numeric.items():
        if cell[0] != "survival_landmark" or "survival" not in values:
            continue
        rest = cell[1:]
        risk: Key = (*cell, "n_risk")
        n = _summary_key(("survival_curve", *rest[:4]), "n")
        total_events = _summary_key(("survival_curve", *rest[:4]), "n_event")
        table: Key = ("survival_risk_table", *rest, "n_event")
        events = table if system.has(table) else system.aux("landmark", *cell)
        s = values["survival"]
        tol = _tol(s)
        if s >= 1.0 - tol:
            system.eq([(1.0, events)], "landmark")
            continue
        # events D before the landmark, risk sets n_i between m (at the landmark) and N:
        # 1 - D / m <= S <= exp(-D / N), and D >= 1 when S < 1
        system.add([(1.0, events)], 1.0, math.inf, "landmark")
        system.add([(1.0, events), (-(1.0 - s - tol), risk)], 0.0, math.inf, "landmark")
        system.add(
            [(1.0, events), (math.log(max(s - tol, 1e-300)), n)],
            -math.inf,
            0.0,
            "landmark",
        )
        system.add([(1.0, events), (1.0, risk), (-1.0, n)], -math.inf, 0.0, "landmark")
        system.add([(1.0, events), (-1.0, total_events)], -math.inf, 0.0, "landmark")


def _cif_landmarks(system: _System, numeric: dict[Cell, dict[str, float]]) -> None:
    """Bound the events of each cause before a cumulative incidence landmark.

    With D_k events of cause k before the landmark, m at risk there, N persons and
    S = 1 - sum of the F: ``m F_k <= D_k <= N F_k / S`` (every risk set lies between m and N,
    and the all-cause survival before each event between S and 1).
    """
    for cell, values in numeric.items():
        if cell[0] != "cumulative_incidence_landmark":
            continue
        causes = {
            name: value
            for name, value in values.items()
            if not name.endswith(("_lower", "_upper")) and not name.startswith(TOLERANCE_PREFIX)
        }
        if not causes:
            continue
        curve = ("cumulative_incidence_curve", *cell[1:5])
        n = _summary_key(curve, "n")
        risk: Key = (*cell, "n_risk")
        table: Key = ("cumulative_incidence_risk_table", *cell[1:], "n_event")
        survival = 1.0 - sum(causes.values())
        per_cause = []
        for cause, f in causes.items():
            events = system.aux("landmark", *cell, cause)
            per_cause.append((1.0, events))
            tol = _tol(f)
            if f <= tol:
                system.eq([(1.0, events)], "landmark")
                continue
            system.add([(1.0, events)], 1.0, math.inf, "landmark")
            system.add([(1.0, events), (-(f - tol), risk)], 0.0, math.inf, "landmark")
            if survival > 1e-6:
                ratio = (f + tol) / max(survival - len(causes) * tol, 1e-12)
                system.add([(1.0, events), (-ratio, n)], -math.inf, 0.0, "landmark")
            total = _summary_key(curve, f"n_event_{cause}")
            system.add([(1.0, events), (-1.0, total)], -math.inf, 0.0, "landmark")
        system.eq([*per_cause, (-1.0, table)], "landmark")
        system.add([*per_cause, (1.0, risk), (-1.0, n)], -math.inf, 0.0, "landmark")


def _add_report(
    system: _System, numeric: dict[Cell, dict[str, float]], report: pd.DataFrame | None
) -> None:
    """Add the report's curve values where the results files publish none at that time."""
    if report is None or report.empty:
        return
    frame = report[[*KEY_COLUMNS, "estimate_name", "value"]]
    for *cell, name, value in frame.itertuples(index=False, name=None):
        key = tuple(str(c) for c in cell)
        if name in numeric.get(key, {}) or not system.has((*key, "n_risk")):
            continue
        values = numeric.setdefault(key, {})
        values[name] = float(value)
        values[f"{TOLERANCE_PREFIX}{name}"] = REPORT_PRECISION
