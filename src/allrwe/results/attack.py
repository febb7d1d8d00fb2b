"""The attacker: bound every hidden count of a published result set by linear programming.

An attacker who reads an output folder knows more than the cells shown: counts add up along
declared and inferable margins, percentages tie counts to denominators, Kaplan-Meier steps
tie deaths to risk sets, landmark rates bound the events before them, and SMDs are
functions of counts. :func:`attack` writes all of that as one linear system over the hidden
counts (integers >= 0) and bounds each hidden count with HiGHS (``scipy.optimize.milp``). A
hidden count that the system pins inside ``(0, min_cell_count)`` is a *leak*.

Published rates are rounded (ten significant digits in the exports), so each rate gives an
interval, never an exact equality. See ``docs/results-model.md`` (the attacker).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, product
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    from allrwe.results.published import FigureNumber

__all__ = [
    "CURVE_ANALYSES",
    "FAMILIES",
    "NESTED_RESPONSE",
    "AttackReport",
    "Exposure",
    "Leak",
    "attack",
    "blocks",
    "expose",
    "exposing",
    "record_name",
]

#: the kinds of knowledge the attacker writes as constraints
FAMILIES = (
    "margin",  # declared margins: members add up to their total record
    "strata",  # the overall row equals the sum of the levels of each stratification
    "rate",  # percentage x denominator = count
    "attrition",  # persons before a step - persons after it = excluded
    "nested",  # nested categories (best response CR <= CR/CRh <= CR/CRh/CRi)
    "km",  # Kaplan-Meier and Aalen-Johansen ratios between points bound the events between
    "risk_set",  # consecutive published risk sets differ by the later point's counts
    "summary",  # a curve's first point and its events (plus an unseen tail) vs the summary
    "landmark",  # a landmark rate bounds the events before it
    "smd",  # an SMD recomputed from candidate counts
)

#: Nested response categories: rate variable -> the best-response levels it counts (the
#: definitions of allrwe.analyses.outcomes.response: ``cr_crh`` = best response CR or CRh,
#: ``response`` = CR, CRh or CRi; NCCN ALL response categories).
NESTED_RESPONSE: dict[str, tuple[str, ...]] = {
    "cr": ("CR",),
    "cr_crh": ("CR", "CRh"),
    "response": ("CR", "CRh", "CRi"),
}
#: rate variables that count a subset of another rate variable's persons
SUBSET_RESPONSE: dict[str, str] = {
    "cr_within_n": "cr",
    "cr_crh_within_n": "cr_crh",
    "response_within_n": "response",
    "response_first_cycle": "response",
}
#: the variable holding every person's best response (its levels partition the denominator)
BEST_RESPONSE = "best_response"

#: relative rounding of published non-count values (ten significant digits, see exports)
RELATIVE_ROUNDING = 1e-9
#: components with at most this many hidden counts are also solved over the integers
MAX_ILP_VARIABLES = 400
#: SMD candidate enumeration stops beyond this many count combinations
MAX_SMD_CANDIDATES = 20_000
#: rows with more terms than this are left out of interval propagation (the LPs use them)
MAX_PROPAGATED_TERMS = 32
#: the report's figures round their values to six decimals (see results.published)
REPORT_PRECISION = 5e-7
#: marks, in a cell's values, the rounding of a value that is not the exports' own
TOLERANCE_PREFIX = "~tol:"
#: an upper bound on any count, so that every LP is bounded
MAX_COUNT = 1e8

#: the curve analyses (their strata fall at different times: no strata equation)
CURVE_ANALYSES = ("survival_curve", "cumulative_incidence_curve")
_COUNT_SUFFIX = "_counts"
_OVERALL = "overall"
_MONTHS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*months?\s*$")

Key = tuple[str, ...]
Cell = tuple[str, ...]


def _tol(value: float) -> float:
    return max(abs(value) * RELATIVE_ROUNDING, 1e-12)


def record_name(key: Key) -> str:
    """Return the readable name of a record key: ``analysis/group/strata=level/variable/...``.

    Parameters
    ----------
    key : tuple of str
        analysis, group, strata_name, strata_level, variable, variable_level, estimate_name.

    Returns
    -------
    str
    """
    a, g, sn, sl, v, vl, en = key
    return f"{a}/{g}/{sn}={sl}/{v}/{vl}/{en}"


@dataclass(frozen=True)
class Leak:
    """A hidden count the attacker pins inside ``(0, min_cell_count)``.

    Parameters
    ----------
    record : str
        The record (see :func:`record_name`).
    low, high : int
        The smallest and largest value the published numbers allow.
    families : tuple of str
        The kinds of constraint (:data:`FAMILIES`) that bound it.
    """

    record: str
    low: int
    high: int
    families: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the leak as a JSON-able dict."""
        return {
            "record": self.record,
            "low": self.low,
            "high": self.high,
            "families": list(self.families),
        }

    def describe(self) -> str:
        """Return a one-line description, e.g. ``"x = 2 (margin, rate)"``."""
        value = f"= {self.low}" if self.low == self.high else f"in [{self.low}, {self.high}]"
        return f"{self.record} {value} ({', '.join(self.families)})"


@dataclass(frozen=True)
class AttackReport:
    """What :func:`attack` found.

    Parameters
    ----------
    min_cell_count : int
        Hidden counts pinned in ``1 .. min_cell_count - 1`` are leaks.
    n_hidden : int
        Hidden count records.
    n_constraints : int
        Constraint rows the attacker wrote.
    leaks : tuple of Leak
        The leaks, by record name.
    recovered : tuple of str
        Hidden counts that subtraction alone (interval propagation) pins to one value of at
        least ``min_cell_count``: not a leak by itself, but that cell protects nothing.
    inconsistent : tuple of str
        Constraint families the published numbers contradict (their components are skipped;
        a sign that the attacker's model of a table is wrong).
    seconds : float
        Time taken.
    """

    min_cell_count: int
    n_hidden: int
    n_constraints: int
    leaks: tuple[Leak, ...]
    recovered: tuple[str, ...] = ()
    inconsistent: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """bool: True when no hidden count leaks."""
        return not self.leaks

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-able dict."""
        return {
            "min_cell_count": self.min_cell_count,
            "ok": self.ok,
            "n_hidden": self.n_hidden,
            "n_constraints": self.n_constraints,
            "leaks": [leak.to_dict() for leak in self.leaks],
            "recovered": list(self.recovered),
            "inconsistent": list(self.inconsistent),
        }


@dataclass
class _Row:
    coefs: dict[int, float]
    low: float
    high: float
    family: str
    known: tuple[Key, ...] = ()  # the published counts the row was written with


@dataclass
class _System:
    """Hidden counts as variables, published counts as constants, constraints as rows."""

    value: dict[Key, float] = field(default_factory=dict)
    var: dict[Key, int] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    hidden: list[bool] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    contradicted: set[str] = field(default_factory=set)
    #: the published counts of the rows that hold no hidden count (see :func:`blocks`)
    constant: list[tuple[Key, ...]] = field(default_factory=list)
    origin: dict[Key, str] = field(default_factory=dict)  # the analysis a key's record is in
    _items: dict[Key, list[Key]] | None = None

    def item(self, item: Key) -> list[Key]:
        """Return the count keys whose first five fields are ``item`` (an index, built once)."""
        if self._items is None:
            self._items = defaultdict(list)
            for key in [*self.value, *self.var]:
                self._items[key[:5]].append(key)
        return self._items.get(item, [])

    def new_var(self, key: Key, *, hidden: bool) -> int:
        self.var[key] = len(self.keys)
        self.keys.append(key)
        self.hidden.append(hidden)
        return self.var[key]

    def aux(self, *name: str) -> Key:
        text = "/".join(name)
        key: Key = ("~aux", text, "", "", "", "", "")
        if key not in self.var:
            self.new_var(key, hidden=False)
        return key

    def has(self, key: Key) -> bool:
        return key in self.value or key in self.var

    def add(self, terms: Iterable[tuple[float, Key]], low: float, high: float, family: str) -> None:
        coefs: dict[int, float] = defaultdict(float)
        const = 0.0
        known: list[Key] = []
        for coef, key in terms:
            if key in self.var:
                coefs[self.var[key]] += coef
            elif key in self.value:
                const += coef * self.value[key]
                known.append(key)
            else:
                return  # a record the folder does not hold: no constraint
        coefs = {j: c for j, c in coefs.items() if c != 0.0}
        if not coefs:
            if not (low - 1e-6 <= const <= high + 1e-6):
                self.contradicted.add(family)
            self.constant.append(tuple(known))
            return
        self.rows.append(_Row(coefs, low - const, high - const, family, tuple(known)))

    def eq(self, terms: Iterable[tuple[float, Key]], family: str, value: float = 0.0) -> None:
        self.add(terms, value, value, family)

    def ratio(self, num: Key, den: Key, rate: float, tol: float, family: str) -> None:
        """``num / den`` in ``[rate - tol, rate + tol]``, as two linear rows."""
        self.add([(1.0, num), (-(rate - tol), den)], 0.0, math.inf, family)
        self.add([(1.0, num), (-(rate + tol), den)], -math.inf, 0.0, family)


def _base(analysis: str) -> str:
    return analysis[: -len(_COUNT_SUFFIX)] if analysis.endswith(_COUNT_SUFFIX) else analysis


def _load(records: pd.DataFrame) -> tuple[_System, dict[Cell, dict[str, float]], list[Any]]:
    system = _System()
    numeric: dict[Cell, dict[str, float]] = defaultdict(dict)
    counts = []
    cols = ["analysis", "group", "strata_name", "strata_level", "variable", "variable_level"]
    names = [*cols, "estimate_name", "estimate_type", "value", "margin"]
    # plain Python lists: iterating Arrow-backed columns row by row is slow
    columns = [records[c].astype(object).tolist() for c in names]
    for a, g, sn, sl, v, vl, en, et, value, margin in zip(*columns, strict=True):
        key: Key = (_base(str(a)), str(g), str(sn), str(sl), str(v), str(vl), str(en))
        if key[0] != a:
            system.origin[key] = str(a)
        if et == "count":
            if isinstance(value, float) and math.isnan(value):
                system.new_var(key, hidden=True)
            else:
                system.value[key] = float(value)
            counts.append((key, str(margin)))
        elif not (isinstance(value, float) and math.isnan(value)):
            numeric[key[:6]][key[6]] = float(value)
    return system, numeric, counts


def _margins(system: _System, counts: list[tuple[Key, str]]) -> None:
    members: dict[str, list[Key]] = defaultdict(list)
    totals: dict[str, list[Key]] = defaultdict(list)
    for key, margin in counts:
        for token in margin.split("|") if margin else []:
            if token.startswith("total:"):
                totals[token[len("total:") :]].append(key)
            else:
                members[token].append(key)
    for token, keys in members.items():
        for total in totals.get(token, []):
            system.eq([(1.0, k) for k in keys] + [(-1.0, total)], "margin")


def _not_partitions(
    system: _System, by_item: dict[Key, dict[str, list[Key]]], overall: dict[Key, Key]
) -> set[tuple[str, ...]]:
    """Return the stratifications whose fully published levels do not add up to overall."""
    broken: set[tuple[str, ...]] = set()
    for item, strata in by_item.items():
        total = overall.get(item)
        if total is None or total not in system.value:
            continue
        for sn, keys in strata.items():
            shown = sum(system.value.get(k, 0.0) for k in keys)
            published = all(k in system.value for k in keys)
            if shown > system.value[total] + 1e-6 or (
                published and abs(shown - system.value[total]) > 1e-6
            ):
                broken.add((item[0], item[1], sn))
    return broken


def _strata(system: _System, counts: list[tuple[Key, str]]) -> None:
    by_item: dict[tuple[str, ...], dict[str, list[Key]]] = defaultdict(lambda: defaultdict(list))
    overall: dict[tuple[str, ...], Key] = {}
    for key, _ in counts:
        a, g, sn, _sl, v, vl, en = key
        if a in CURVE_ANALYSES:
            continue  # curve points of strata fall at different times
        item: Key = (a, g, v, vl, en)
        if sn == _OVERALL:
            overall[item] = key
        else:
            by_item[item][sn].append(key)
    broken = _not_partitions(system, by_item, overall)
    pooled = _pooled(counts)
    for item, strata in by_item.items():
        total = overall.get(item)
        if total is None:
            continue
        for sn, keys in strata.items():
            a, g, v, _, en = item
            if (a, g, sn) not in broken and (a, g, v, en, sn) not in pooled:
                system.eq([(1.0, k) for k in keys] + [(-1.0, total)], "strata")


def _pooled(counts: list[tuple[Key, str]]) -> set[tuple[str, ...]]:
    """Return the (analysis, group, variable, estimate, strata) whose levels differ by stratum.

    A table whose stratum levels list other categories than its overall row pools rare
    categories stratum by stratum ("other (each fewer than 5)"): its levels do not add up.
    """
    levels: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for key, _ in counts:
        a, g, sn, sl, v, vl, en = key
        if a not in CURVE_ANALYSES:
            levels[(a, g, v, en, sn, sl)].add(vl)
    out: set[tuple[str, ...]] = set()
    for (a, g, v, en, sn, _sl), found in levels.items():
        if sn != _OVERALL and found != levels.get((a, g, v, en, _OVERALL, _OVERALL), found):
            out.add((a, g, v, en, sn))
    return out


def _shared_denominators(
    system: _System, numeric: dict[Cell, dict[str, float]]
) -> set[tuple[str, ...]]:
    """Return the variables whose published count / percentage pairs imply one denominator."""
    implied: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for cell, values in numeric.items():
        pct, count = values.get("percentage"), system.value.get((*cell, "count"))
        if pct is not None and pct > 0 and count is not None:
            implied[cell[:5]].append(count * 100.0 / pct)
    return {item for item, dens in implied.items() if max(dens) - min(dens) < 0.5}


def _rates(system: _System, numeric: dict[Cell, dict[str, float]]) -> None:
    shared = _shared_denominators(system, numeric)
    for cell, values in numeric.items():
        pct = values.get("percentage")
        count: Key = (*cell, "count")
        if pct is None or not system.has(count):
            continue
        den: Key = (*cell, "denominator")
        if not system.has(den):
            # percentages of one variable share its denominator, unless published pairs
            # show otherwise (then each percentage has a denominator of its own)
            item = cell[:5]
            overall: Key = (*item, _OVERALL, "count")
            if item in shared:
                den = overall if system.has(overall) else system.aux("den", *item)
            else:
                den = system.aux("den", *cell)
        system.ratio(count, den, pct / 100.0, _tol(pct) / 100.0, "rate")


def _attrition(system: _System) -> None:
    steps: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for key in [*system.value, *system.var]:
        if key[0] == "attrition" and key[6] == "n_persons":
            steps[key[1:5]].append(key[5])
    for (g, sn, sl, v), levels in steps.items():
        ordered = sorted(levels)
        for before, after in pairwise(ordered):
            persons = ("attrition", g, sn, sl, v)
            system.eq(
                [
                    (1.0, (*persons, before, "n_persons")),
                    (-1.0, (*persons, after, "n_persons")),
                    (-1.0, (*persons, after, "n_excluded")),
                ],
                "attrition",
            )
        if ordered and sn == _OVERALL:
            last: Key = ("attrition", g, sn, sl, v, ordered[-1], "n_persons")
            cohort: Key = ("cohort", g, _OVERALL, _OVERALL, "persons", _OVERALL, "count")
            system.eq([(1.0, last), (-1.0, cohort)], "attrition")


def _nested(system: _System) -> None:
    cells = {key[:4] for key in [*system.value, *system.var] if key[4] == BEST_RESPONSE}
    for a, g, sn, sl in cells:

        def level(name: str, a: str = a, g: str = g, sn: str = sn, sl: str = sl) -> Key:
            return (a, g, sn, sl, BEST_RESPONSE, name, "count")

        def rate(var: str, a: str = a, g: str = g, sn: str = sn, sl: str = sl) -> Key:
            return (a, g, sn, sl, var, _OVERALL, "count")

        for var, names in NESTED_RESPONSE.items():
            system.eq([(1.0, rate(var))] + [(-1.0, level(x)) for x in names], "nested")
        for var, parent in SUBSET_RESPONSE.items():
            system.add([(1.0, rate(var)), (-1.0, rate(parent))], -math.inf, 0.0, "nested")
        levels = sorted(
            key for key in system.item((a, g, sn, sl, BEST_RESPONSE)) if key[6] == "count"
        )
        if levels:
            den: Key = (*levels[0][:6], "denominator")
            system.eq([(1.0, k) for k in levels] + [(-1.0, den)], "nested")


def _curve_points(
    system: _System, numeric: dict[Cell, dict[str, float]]
) -> dict[tuple[str, ...], list[tuple[float, str]]]:
    points: dict[tuple[str, ...], set[tuple[float, str]]] = defaultdict(set)
    cells = {key[:6] for key in [*system.value, *system.var]} | set(numeric)
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
    its time; the persons at risk at the first time are the summary's ``n``.
    """
    for curve, points in _curve_points(system, numeric).items():
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
            # the risk set shrinks by exactly the persons who left between the two points
            terms = [(1.0, key(before, "n_risk")), (-1.0, key(after, "n_risk"))]
            system.eq(terms + [(-c, k) for c, k in exits(after)], "risk_set")
        _curve_summary(system, curve, levels, events, exits)
        causes = [name[len("n_event_") :] for name in events if name.startswith("n_event_")]
        # the estimates may be hidden at some points (secondary suppression): each step runs
        # from the last point whose estimates are published (the start: S = 1, F = 0)
        anchor: dict[str, float] = {}
        span: list[tuple[float, Key]] = []
        for level in levels:
            now = numeric.get((*curve, level), {})
            span += exits(level)
            # the risk set at the anchor: this one's plus those who left since
            start = [(1.0, key(level, "n_risk")), *span]
            if kind == "survival_curve" and "survival" in now and "n_event" in events:
                died = [(c, k) for c, k in span if k[6] == "n_event"]
                _km_step(system, died, key(level, "n_risk"), start, now, anchor)
            elif kind != "survival_curve" and causes and all(c in now for c in causes):
                _aj_step(system, curve, level, causes, span, start, now, anchor)
            else:
                continue
            anchor, span = now, []


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
    analysis = curve[0].replace("_curve", "_summary")
    return (analysis, *curve[1:], _OVERALL, name)


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
    leave after it, unseen: the summary's events of each kind exceed the points' sum by
    ``0 .. n_risk(last)``, and all of them together by exactly ``n_risk(last)``.
    """
    if not levels:
        return
    n = _summary_key(curve, "n")
    first, last = levels[0], levels[-1]
    system.eq([(1.0, (*curve, first, "n_risk")), *exits(first), (-1.0, n)], "summary")
    tail: Key = (*curve, last, "n_risk")
    for name in events:
        shown = [(*curve, lv, name) for lv in levels if system.has((*curve, lv, name))]
        terms = [(-1.0, k) for k in shown] + [(1.0, _summary_key(curve, name)), (-1.0, tail)]
        system.add(terms, -math.inf, 0.0, "summary")
        system.add(terms[:-1], 0.0, math.inf, "summary")


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
        system.add([(1.0, events), (math.log(max(s - tol, 1e-300)), n)], -math.inf, 0.0, "landmark")
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
    cols = ["analysis", "group", "strata_name", "strata_level", "variable", "variable_level"]
    frame = report[[*cols, "estimate_name", "value"]]
    for *cell, name, value in frame.itertuples(index=False, name=None):
        key = tuple(str(c) for c in cell)
        if name in numeric.get(key, {}) or not system.has((*key, "n_risk")):
            continue
        values = numeric.setdefault(key, {})
        values[name] = float(value)
        values[f"{TOLERANCE_PREFIX}{name}"] = REPORT_PRECISION


def _build(
    records: pd.DataFrame, report: pd.DataFrame | None = None
) -> tuple[_System, dict[Cell, dict[str, float]]]:
    system, numeric, counts = _load(records)
    _add_report(system, numeric, report)
    _margins(system, counts)
    _strata(system, counts)
    _rates(system, numeric)
    _attrition(system)
    _nested(system)
    _curves(system, numeric)
    _landmarks(system, numeric)
    _cif_landmarks(system, numeric)
    return system, numeric


def _propagate(system: _System, passes: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Bound every variable by interval propagation over the rows (integer bounds).

    Sound but loose: each row bounds one variable by the others' bounds. It pins what plain
    subtraction pins (a risk set minus the next one, an overall row minus its levels) without
    an LP, and it gives the LPs their variable bounds.
    """
    n = len(system.keys)
    low = np.zeros(n)
    high = np.full(n, MAX_COUNT)
    # long rows (a curve's summary) cost their length on every visit: the LPs take them
    rows = [
        (list(r.coefs.items()), r.low, r.high)
        if len(r.coefs) <= MAX_PROPAGATED_TERMS
        else ([], 0, 0)
        for r in system.rows
    ]
    by_var: dict[int, list[int]] = defaultdict(list)
    for i, (terms, _, _) in enumerate(rows):
        for j, _ in terms:
            by_var[j].append(i)
    queue = list(range(len(rows)))
    queued = set(queue)
    budget = passes * max(len(rows), 1)
    while queue and budget > 0:
        budget -= 1
        i = queue.pop()
        queued.discard(i)
        terms, row_low, row_high = rows[i]
        lows = [c * (low[j] if c > 0 else high[j]) for j, c in terms]
        highs = [c * (high[j] if c > 0 else low[j]) for j, c in terms]
        sum_low, sum_high = sum(lows), sum(highs)
        for (j, c), lo_j, hi_j in zip(terms, lows, highs, strict=True):
            rest_low, rest_high = sum_low - lo_j, sum_high - hi_j
            a, b = row_low - rest_high, row_high - rest_low  # c * x_j in [a, b]
            new_low, new_high = (a / c, b / c) if c > 0 else (b / c, a / c)
            changed = False
            if new_low > low[j] + 1e-9 and math.isfinite(new_low):
                low[j] = max(low[j], math.ceil(new_low - 1e-6))
                changed = True
            if new_high < high[j] - 1e-9 and math.isfinite(new_high):
                high[j] = min(high[j], math.floor(new_high + 1e-6))
                changed = True
            if changed:
                for k in by_var[j]:
                    if k not in queued:
                        queue.append(k)
                        queued.add(k)
    return low, high


def _matrix(system: _System) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    data, rows, cols = [], [], []
    for i, row in enumerate(system.rows):
        for j, c in row.coefs.items():
            rows.append(i)
            cols.append(j)
            data.append(c)
    shape = (len(system.rows), len(system.keys))
    a = sparse.csr_matrix((data, (rows, cols)), shape=shape)
    low = np.array([r.low for r in system.rows], dtype="float64")
    high = np.array([r.high for r in system.rows], dtype="float64")
    return a, low, high


def _components(a: sparse.csr_matrix, n_vars: int) -> np.ndarray:
    """Label the variables by connected component of the row-variable graph."""
    pattern = (a != 0).astype(np.int8)
    # the bipartite graph (variables, then rows): no variable x variable product, which a
    # row of thousands of terms (a curve's summary) would make dense
    graph = sparse.bmat([[None, pattern.T], [pattern, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels[:n_vars])


@dataclass
class _Component:
    a: sparse.csr_matrix
    low: np.ndarray
    high: np.ndarray
    columns: np.ndarray  # global variable indices
    rows: np.ndarray  # global row indices
    lb: np.ndarray  # variable bounds from propagation
    ub: np.ndarray

    def optimum(self, c: np.ndarray, *, integer: bool = False) -> np.ndarray | None:
        """Minimise ``c @ x``; the solution, or ``None`` when the solver finds none."""
        result = milp(
            c,
            constraints=LinearConstraint(self.a, self.low, self.high),
            bounds=Bounds(self.lb, self.ub),
            integrality=np.ones(len(self.columns)) if integer else None,
        )
        if result.status != 0 or result.x is None:
            return None
        return np.asarray(result.x)

    def feasible(self) -> bool:
        result = milp(
            np.zeros(len(self.columns)),
            constraints=LinearConstraint(self.a, self.low, self.high),
            bounds=Bounds(self.lb, self.ub),
        )
        return bool(result.status == 0)


def _split(
    system: _System, lb: np.ndarray, ub: np.ndarray, wanted: np.ndarray | None = None
) -> Iterator[_Component]:
    """Yield the connected components of the system (only those holding a ``wanted`` variable).

    Rows and columns are sorted by component once, so that each component is a contiguous
    block of the sorted matrix: no fancy indexing per component.
    """
    if not system.rows:
        return
    a, low, high = _matrix(system)
    labels = _components(a, len(system.keys))
    n_labels = int(labels.max()) + 1
    row_label = labels[np.array([next(iter(r.coefs)) for r in system.rows])]
    keep = np.ones(n_labels, dtype=bool)
    if wanted is not None:
        keep[:] = False
        keep[labels[wanted]] = True
    columns_order = np.argsort(labels, kind="stable")
    rows_order = np.argsort(row_label, kind="stable")
    column_bounds = np.searchsorted(labels[columns_order], np.arange(n_labels + 1))
    row_bounds = np.searchsorted(row_label[rows_order], np.arange(n_labels + 1))
    kept = keep[row_label[rows_order]]
    rows_kept = rows_order[kept]
    columns_kept = columns_order[keep[labels[columns_order]]]
    # the kept rows and columns, each component a block on the diagonal
    block = a[rows_kept][:, columns_kept].tocsr()
    row_start = np.cumsum(np.concatenate([[0], np.diff(row_bounds) * keep]))
    column_start = np.cumsum(np.concatenate([[0], np.diff(column_bounds) * keep]))
    with_rows = keep & (np.diff(row_bounds) > 0)
    first_row = {int(lab): int(rows_order[row_bounds[lab]]) for lab in np.flatnonzero(with_rows)}
    for label in sorted(first_row, key=first_row.__getitem__):
        r0, r1 = int(row_start[label]), int(row_start[label + 1])
        c0, c1 = int(column_start[label]), int(column_start[label + 1])
        r = rows_kept[r0:r1]
        columns = columns_kept[c0:c1]
        yield _Component(
            block[r0:r1, c0:c1].tocsr(), low[r], high[r], columns, r, lb[columns], ub[columns]
        )


def _push_up(
    comp: _Component,
    hidden: np.ndarray,
    minimum: int,
    record: Callable[[np.ndarray | None], None],
    seen_high: np.ndarray,
) -> bool:
    """Maximise the hidden counts jointly while that lifts some to ``minimum``.

    Returns ``False`` when the component has no feasible point: every variable is bounded,
    so the first programme fails only then.
    """
    first = comp.optimum(-hidden.astype(float))
    if first is None and not comp.feasible():
        return False
    record(first)
    todo = hidden & (seen_high < minimum - 1e-6)
    if todo.sum() >= hidden.sum():
        return True  # the first programme raised none: no joint push will
    while todo.any():
        record(comp.optimum(-todo.astype(float)))
        left = hidden & (seen_high < minimum - 1e-6)
        if left.sum() >= todo.sum():
            break
        todo = left
    return True


def _bound(comp: _Component, consider: set[int], minimum: int) -> dict[int, tuple[int, int]] | None:
    """Return ``{variable: (low, high)}`` for the hidden counts that may leak.

    Every LP solution found bounds all variables at once: a hidden count seen at
    ``minimum`` or above, or at 0, in any feasible point cannot leak, so it needs no LP of
    its own. The rest are maximised, then minimised (over the integers in small components).
    ``None`` when the component has no feasible point (the first programme tells).
    """
    hidden = np.array([v in consider for v in comp.columns.tolist()], dtype=bool)
    seen_high = np.full(len(comp.columns), -np.inf)
    seen_low = np.full(len(comp.columns), np.inf)

    def record(x: np.ndarray | None) -> None:
        if x is not None:
            np.maximum(seen_high, x, out=seen_high)
            np.minimum(seen_low, x, out=seen_low)

    # push many counts up at once, then each count still below the threshold
    if not _push_up(comp, hidden, minimum, record, seen_high):
        return None
    high = np.full(len(comp.columns), np.inf)
    for j in np.flatnonzero(hidden & (seen_high < minimum - 1e-6)).tolist():
        c = np.zeros(len(comp.columns))
        c[j] = -1.0
        x = comp.optimum(c)
        record(x)
        high[j] = math.floor(x[j] + 1e-6) if x is not None else np.inf
    candidates = hidden & (high < minimum) & (high >= 1)
    todo = candidates.copy()
    while todo.any():
        record(comp.optimum(todo.astype(float)))
        left = candidates & (seen_low > 1e-6)
        if left.sum() >= todo.sum():
            break
        todo = left
    out: dict[int, tuple[int, int]] = {}
    small = len(comp.columns) <= MAX_ILP_VARIABLES
    for j in np.flatnonzero(candidates).tolist():
        c = np.zeros(len(comp.columns))
        c[j] = 1.0
        low = 0
        if seen_low[j] > 1e-6:
            x = comp.optimum(c)
            low = math.ceil(x[j] - 1e-6) if x is not None else 0
        if low < 1 and small:
            x = comp.optimum(c, integer=True)
            low = math.ceil(x[j] - 1e-6) if x is not None else 0
        out[int(comp.columns[j])] = (low, int(high[j]))
    return out


def _signature(comp: _Component, hidden: np.ndarray, minimum: int) -> bytes:
    """Return a digest of everything :func:`_solve_component` reads of a component."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(np.array([minimum, *comp.a.shape], dtype=np.int64).tobytes())
    for part in (comp.a.indptr, comp.a.indices, comp.a.data, comp.low, comp.high, comp.lb, comp.ub):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(np.packbits(hidden).tobytes())
    return digest.digest()


def _solve_component(
    comp: _Component, hidden: np.ndarray, minimum: int
) -> dict[int, tuple[int, int]] | None:
    """Bound a component's hidden counts that may leak, by position in the component.

    Returns ``None`` when the published numbers contradict the component's rows.
    """
    lb, ub = comp.lb, comp.ub
    settled = hidden & (lb >= 1) & (ub < minimum)
    undecided = hidden & (ub >= 1) & ~settled
    found = {int(j): (int(lb[j]), int(ub[j])) for j in np.flatnonzero(settled).tolist()}
    if undecided.any():
        columns = comp.columns.tolist()
        position = {v: j for j, v in enumerate(columns)}
        consider = {columns[j] for j in np.flatnonzero(undecided).tolist()}
        bounded = _bound(comp, consider, minimum)
        if bounded is None:
            return None
        for var, bounds in bounded.items():
            found[position[var]] = bounds
    return found


def _families(system: _System) -> dict[int, tuple[str, ...]]:
    """Return, per variable, the families of the rows it appears in."""
    found: dict[int, set[str]] = defaultdict(set)
    for row in system.rows:
        for j in row.coefs:
            found[j].add(row.family)
    return {j: tuple(sorted(f)) for j, f in found.items()}


def attack(
    records: pd.DataFrame,
    min_cell_count: int,
    *,
    report: pd.DataFrame | None = None,
    figures: Sequence[FigureNumber] = (),
) -> AttackReport:
    """Bound every hidden count of a published records table.

    Parameters
    ----------
    records : pandas.DataFrame
        Published records (the columns of :data:`allrwe.results.model.COLUMNS`); a count
        whose ``value`` is NaN is hidden.
    min_cell_count : int
        Hidden counts pinned in ``1 .. min_cell_count - 1`` are leaks.
    report : pandas.DataFrame, optional
        Curve values the HTML report draws (:func:`allrwe.results.published.report_curves`),
        used where the results files publish none.
    figures : sequence of FigureNumber, optional
        The numbers the report's inline SVG figures print
        (:func:`allrwe.results.published.figure_numbers`): each must be a published count
        of a curve (family ``unpublished`` otherwise) of at least ``min_cell_count``
        (family ``figure`` otherwise); either is reported as a leak.

    Returns
    -------
    AttackReport
    """
    report_, _, _ = _attack(records, min_cell_count, report)
    shown = _figure_leaks(records, min_cell_count, figures)
    if not shown:
        return report_
    leaks = tuple(sorted((*report_.leaks, *shown), key=lambda x: x.record))
    return dataclasses.replace(report_, leaks=leaks)


def _figure_leaks(
    records: pd.DataFrame, min_cell_count: int, figures: Sequence[FigureNumber]
) -> list[Leak]:
    """Check every number a figure prints against the published counts of the curves."""
    if not figures:
        return []
    curve = records["analysis"].astype(str).str.startswith(CURVE_FAMILIES).to_numpy()
    count = (records["estimate_type"] == "count").to_numpy()
    values = records["value"].to_numpy(dtype="float64")[curve & count]
    published = {float(v) for v in values[~np.isnan(values)].tolist()}
    out = []
    for number in figures:
        value = number.value
        if value is None:
            if any(ch.isdigit() for ch in number.text):
                out.append(Leak(number.name(), -1, -1, ("unpublished",)))
            continue
        if 1 <= value < min_cell_count:
            out.append(Leak(number.name(), value, value, ("figure",)))
        elif value > 0 and float(value) not in published:
            out.append(Leak(number.name(), value, value, ("figure", "unpublished")))
    return out


#: the analyses whose counts a figure's number-at-risk table prints
CURVE_FAMILIES = ("survival", "cumulative_incidence")


def _attack(
    records: pd.DataFrame,
    min_cell_count: int,
    report: pd.DataFrame | None,
    cache: dict[bytes, Any] | None = None,
) -> tuple[AttackReport, _System, set[int]]:
    """Run the attack; return its report, the system and the leaked variables.

    ``cache`` keeps each solved component's bounds by its signature (:func:`_signature`): a
    component met again, unchanged, is not solved again.
    """
    started = time.perf_counter()
    system, numeric = _build(records, report)
    _smd(system, numeric)
    leaks: list[Leak] = []
    leaked: set[int] = set()
    inconsistent = set(system.contradicted)
    lb, ub = _propagate(system)
    if (lb > ub).any():
        inconsistent.add("propagation")
    recovered = [
        record_name((system.origin.get(key, key[0]), *key[1:]))
        for key, j in system.var.items()
        if system.hidden[j] and lb[j] == ub[j] >= min_cell_count
    ]
    families = _families(system)
    hidden = np.asarray(system.hidden, dtype=bool)
    # a component without a hidden count that may be non-zero cannot leak
    for comp in _split(system, lb, ub, np.flatnonzero(hidden & (ub >= 1))):
        columns = comp.columns.tolist()
        if cache is None:
            solved = _solve_component(comp, hidden[comp.columns], min_cell_count)
        else:
            signature = _signature(comp, hidden[comp.columns], min_cell_count)
            if signature not in cache:
                cache[signature] = _solve_component(comp, hidden[comp.columns], min_cell_count)
            solved = cache[signature]
        if solved is None:
            inconsistent |= {system.rows[int(i)].family for i in comp.rows}
            continue
        for local, (low, high) in sorted(solved.items()):
            if low >= 1:
                var = columns[local]
                key = system.keys[var]
                name = record_name((system.origin.get(key, key[0]), *key[1:]))
                leaks.append(Leak(name, low, high, families[var]))
                leaked.add(var)
    found_report = AttackReport(
        min_cell_count=min_cell_count,
        n_hidden=int(sum(system.hidden)),
        n_constraints=len(system.rows),
        leaks=tuple(sorted(leaks, key=lambda x: x.record)),
        recovered=tuple(sorted(recovered)),
        inconsistent=tuple(sorted(inconsistent)),
        seconds=time.perf_counter() - started,
    )
    return found_report, system, leaked


#: a constraint of a leak: the published counts it was written with, the unknowns it bounds
Layer = list[tuple[list[Key], frozenset[int]]]


@dataclass(frozen=True)
class Exposure:
    """What :func:`expose` found: the attack's report, the leaks and what gives them away.

    Parameters
    ----------
    report : AttackReport
        The attack's report.
    layers : list of Layer
        The constraints that bound the leaked counts, layer by layer (see :func:`exposing`).
    leaked : tuple of tuple of str
        The record keys (analysis as recorded) of the leaked counts.
    blocks : numpy.ndarray or None
        With ``blocks=True``: a label per record such that no constraint the attacker writes,
        for these records or for the same records with more of them hidden, ever joins
        records of two labels (see :func:`blocks`).
    """

    report: AttackReport
    layers: list[Layer]
    leaked: tuple[Key, ...]
    blocks: np.ndarray | None = None


def blocks(records: pd.DataFrame, system: _System) -> np.ndarray:
    """Label the records by the parts of the attacker's system they can ever be linked in.

    ``system`` is the attack's system of ``records``. Two records share a label when a row
    of that system holds both (as unknowns or as published counts, rows of published counts
    only included), when they share their analysis (counts and estimates of a curve as one),
    group and variable (the rows that read published values of a variable: strata that add
    up, shared denominators, pooled levels, curve steps between the published estimates),
    or when one is an SMD of two groups and the other a count of those groups' variable or
    a group's size. Hiding more counts removes rows or turns published counts of a row into
    unknowns, within these labels: records of a label are attacked as they would be with
    every other record present.
    """
    n = len(records)
    analysis = [_base(str(a)) for a in records["analysis"].astype(object).tolist()]
    group = records["group"].astype(str).tolist()
    variable = records["variable"].astype(str).tolist()
    hubs: dict[tuple[str, str, str], int] = {}
    edges: list[tuple[int, int]] = []

    def hub(a: str, g: str, v: str) -> int:
        return hubs.setdefault((a, g, v), n + len(system.keys) + len(hubs))

    position: dict[Key, int] = {}
    names = ["strata_name", "strata_level", "variable_level", "estimate_name"]
    rest = zip(*(records[c].astype(str).tolist() for c in names), strict=True)
    for i, (a, g, v, (sn, sl, vl, en)) in enumerate(
        zip(analysis, group, variable, rest, strict=True)
    ):
        position.setdefault((a, g, sn, sl, v, vl, en), i)
        edges.append((i, hub(a, g, v)))
        if a == "baseline" and PAIR_SEPARATOR in g:
            for member in g.split(PAIR_SEPARATOR):
                edges.append((i, hub("baseline", member, v)))
                edges.append((i, hub("cohort", member, "persons")))

    def node(key: Key) -> int:
        j = system.var.get(key)
        if j is not None and key[0] == "~aux":
            return n + j
        return position.get(key, -1)

    for row_keys in [
        *([system.keys[j] for j in row.coefs] + list(row.known) for row in system.rows),
        *(list(keys) for keys in system.constant),
    ]:
        nodes = [x for x in map(node, row_keys) if x >= 0]
        edges += [(nodes[0], x) for x in nodes[1:]]
    size = n + len(system.keys) + len(hubs)
    pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
    graph = sparse.coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(size, size)
    )
    _, labels = connected_components(graph.tocsr(), directed=False)
    return np.asarray(labels[:n])


#: separates the two groups of a comparison record (an SMD): ``"A vs B"``
PAIR_SEPARATOR = " vs "


def expose(
    records: pd.DataFrame,
    min_cell_count: int,
    *,
    cache: dict[bytes, Any] | None = None,
    with_blocks: bool = False,
) -> Exposure:
    """Attack ``records``; return the leaks, the constraints behind them and, if asked, blocks.

    See :func:`exposing` (the layers) and :func:`blocks` (``with_blocks``).
    """
    found, system, leaked = _attack(records, min_cell_count, None, cache)
    keys = tuple((system.origin.get(k, k[0]), *k[1:]) for k in (system.keys[j] for j in leaked))
    labels = blocks(records, system) if with_blocks else None
    return Exposure(found, _layers(system, leaked), tuple(sorted(keys)), labels)


def exposing(
    records: pd.DataFrame, min_cell_count: int, *, cache: dict[bytes, Any] | None = None
) -> tuple[AttackReport, list[list[tuple[list[Key], frozenset[int]]]]]:
    """Attack ``records`` and name the published counts that give each leak away.

    Parameters
    ----------
    records : pandas.DataFrame
        Records as they would be published (hidden counts NaN).
    min_cell_count : int
        The threshold.
    cache : dict, optional
        Bounds of components solved before, by their system (see :func:`attack`); a caller
        that attacks records again after hiding a few more passes the same dict.

    Returns
    -------
    report : AttackReport
        The attack's report.
    layers : list of list of (list of tuple of str, frozenset of int)
        Layer by layer, the constraints that bound a leaked count, each as the published
        counts it was written with (record keys: analysis, group, strata_name,
        strata_level, variable, variable_level, estimate_name; hiding one of each breaks
        that constraint) and the unknowns it bounds (variable numbers of the attack, to
        tell which constraints of the next layer continue it). The first layer holds the
        constraints of the leaked counts themselves, the next those of the hidden counts
        they bound, and so on through the whole component (a chain of hidden counts that
        are each pinned ends at published ones); constraints without a published non-zero
        count are left out, and so are empty layers.
    """
    found, system, leaked = _attack(records, min_cell_count, None, cache)
    return found, _layers(system, leaked)


def _layers(system: _System, leaked: set[int]) -> list[Layer]:
    """Return the constraints of the leaked counts, layer by layer (see :func:`exposing`)."""
    if not leaked:
        return []
    rows_of: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(system.rows):
        for j in row.coefs:
            rows_of[j].append(i)
    reach = set(leaked)
    frontier = set(leaked)
    visited: set[int] = set()
    layers: list[list[tuple[list[Key], frozenset[int]]]] = []
    while frontier:
        touching = sorted({i for j in frontier for i in rows_of[j]} - visited)
        visited.update(touching)
        layer = [
            (
                [
                    (system.origin.get(k, k[0]), *k[1:])
                    for k in system.rows[i].known
                    if system.value[k] > 0
                ],
                frozenset(system.rows[i].coefs),
            )
            for i in touching
        ]
        layer = [(keys, unknowns) for keys, unknowns in layer if keys]
        if layer:
            layers.append(layer)
        frontier = {j for i in touching for j in system.rows[i].coefs} - reach
        reach |= frontier
    return layers


# --- SMD ---------------------------------------------------------------------------------


def _smd_value(first: np.ndarray, second: np.ndarray) -> float:
    """Absolute SMD of two count vectors (Yang & Dalton's multinomial formula)."""
    if first.sum() <= 0 or second.sum() <= 0:
        return math.nan
    p, q = first / first.sum(), second / second.sum()
    keep = (p + q) > 0
    p, q = p[keep], q[keep]
    if p.size < 2:
        return 0.0
    t = (p - q)[1:]
    s = (np.diag(p[1:]) - np.outer(p[1:], p[1:]) + np.diag(q[1:]) - np.outer(q[1:], q[1:])) / 2
    value = float(t @ np.linalg.pinv(s) @ t)
    return math.sqrt(max(value, 0.0))


def _smd(system: _System, numeric: dict[Cell, dict[str, float]]) -> None:
    """Pin hidden counts that alone reproduce a published SMD (a constraint per count)."""
    for cell, values in numeric.items():
        smd = values.get("smd")
        if smd is None or cell[0] != "baseline" or " vs " not in cell[1]:
            continue
        groups = cell[1].split(" vs ")
        if len(groups) != 2:
            continue
        if cell[5] != _OVERALL:
            # a flag of its own (one level of a multi-select variable): level vs the rest
            _pin_flag_smd(system, [(cell[0], g, *cell[2:], "count") for g in groups], smd)
            continue
        vectors = [_levels(system, (cell[0], g, *cell[2:5])) for g in groups]
        if not all(vectors) or [k for k, _ in vectors[0]] != [k for k, _ in vectors[1]]:
            continue
        _pin_smd(system, vectors, smd)


def _pin_flag_smd(system: _System, keys: list[Key], smd: float) -> None:
    """Pin the hidden counts of one flag in two groups that reproduce its published SMD."""
    totals = [_group_total(system, key) for key in keys]
    if any(t is None or t <= 0 for t in totals) or not all(system.has(k) for k in keys):
        return
    options = [
        _candidates(system, key, total) or [] for key, total in zip(keys, totals, strict=True)
    ]
    if not any(k in system.var for k in keys) or math.prod(map(len, options)) > MAX_SMD_CANDIDATES:
        return
    tol = max(_tol(smd), 5e-10) + 1e-9
    fits = []
    for first, second in product(*options):
        a = np.array([totals[0] - first, first])  # type: ignore[operator]
        b = np.array([totals[1] - second, second])  # type: ignore[operator]
        if abs(_smd_value(a, b) - abs(smd)) <= tol:
            fits.append((first, second))
    for i, key in enumerate(keys):
        if key in system.var and fits:
            seen = [combo[i] for combo in fits]
            system.add([(1.0, key)], min(seen), max(seen), "smd")


def _levels(system: _System, item: tuple[str, ...]) -> list[tuple[str, Key]]:
    out = []
    for key in system.item(item):
        if key[6] == "count" and key[5] not in (_OVERALL, "missing"):
            out.append((key[5], key))
    return sorted(out)


def _group_total(system: _System, key: Key) -> float | None:
    """Return the published size of a variable's group: its overall row, else the cohort."""
    overall = system.value.get((*key[:5], _OVERALL, "count"))
    if overall is not None or key[2] != _OVERALL:
        return overall
    return system.value.get(("cohort", key[1], _OVERALL, _OVERALL, "persons", _OVERALL, "count"))


def _candidates(system: _System, key: Key, total: float | None) -> list[float] | None:
    if key in system.value:
        return [system.value[key]]
    if total is None:
        return None
    return [float(x) for x in range(int(total) + 1)]


def _pin_smd(system: _System, vectors: list[list[tuple[str, Key]]], smd: float) -> None:
    options: list[list[float]] = []
    keys: list[Key] = []
    for vector in vectors:
        total = _group_total(system, vector[0][1])
        for _, key in vector:
            values = _candidates(system, key, total)
            if values is None:
                return
            options.append(values)
            keys.append(key)
    if math.prod(len(o) for o in options) > MAX_SMD_CANDIDATES:
        return
    half = len(vectors[0])
    tol = max(_tol(smd), 5e-10)
    fits: list[tuple[float, ...]] = []
    for combo in product(*options):
        first, second = np.array(combo[:half]), np.array(combo[half:])
        for vector, counts in ((vectors[0], first), (vectors[1], second)):
            total = _group_total(system, vector[0][1])
            if total is not None and counts.sum() != total:
                break
        else:
            if abs(_smd_value(first, second) - abs(smd)) <= tol + 1e-9:
                fits.append(combo)
    if not fits:
        return
    for i, key in enumerate(keys):
        if key in system.var:
            seen = [combo[i] for combo in fits]
            system.add([(1.0, key)], min(seen), max(seen), "smd")
