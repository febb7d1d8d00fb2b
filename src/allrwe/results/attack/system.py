"""The attacker's linear system: hidden counts as unknowns, published counts as constants.

Constants shared by the constraint families, and :func:`_load`, which reads a records table
into a :class:`_System` (see :mod:`allrwe.results.attack`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allrwe.results.model import KEY_COLUMNS

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
    # MRD-negative responders are among the MRD-negative persons in remission (responders
    # and those in remission at index); transplanted responders among the responders
    "mrd_negative": "mrd_negative_in_remission",
    "mrd_negative_within_n": "mrd_negative_in_remission_within_n",
    "mrd_negative_in_remission_within_n": "mrd_negative_in_remission",
    "hsct_after_first_cycle_response": "response_first_cycle",
    "hsct_after_response_within_n": "response_within_n",
}
#: rate variables whose denominator is another rate variable's count (the responders whose
#: transplants are counted, allrwe.analyses.outcomes.rates)
DENOMINATOR_RESPONSE: dict[str, str] = {
    "hsct_after_first_cycle_response": "response_first_cycle",
    "hsct_after_response_within_n": "response_within_n",
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
CURVE_ANALYSES = (
    "survival_curve",
    "cumulative_incidence_curve",
    "after_index_simon_makuch_curve",
)
#: the curves whose estimates are Kaplan-Meier survivals (a Simon-Makuch curve is one with
#: persons entering late: its points also carry ``n_enter``)
KM_CURVES = ("survival_curve", "after_index_simon_makuch_curve")
#: each curve analysis's summary analysis (its ``overall`` record holds ``n`` and the events)
CURVE_SUMMARIES = {
    "survival_curve": "survival_summary",
    "cumulative_incidence_curve": "cumulative_incidence_summary",
    "after_index_simon_makuch_curve": "after_index_simon_makuch",
}
_COUNT_SUFFIX = "_counts"
_OVERALL = "overall"
_MONTHS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*months?\s*$")

Key = tuple[str, ...]
Cell = tuple[str, ...]


def _tol(value: float) -> float:
    return max(abs(value) * RELATIVE_ROUNDING, 1e-12)


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

    def derived(self, key: Key) -> Key:
        """Return ``key`` as an unknown count that is no record but must not leak either.

        A count that the published numbers determine without being published (the persons
        who leave a curve after its last point) is attacked as a hidden count is.
        """
        if key not in self.var:
            self.new_var(key, hidden=True)
        return key

    def has(self, key: Key) -> bool:
        return key in self.value or key in self.var

    def add(self, terms: Iterable[tuple[float, Key]], low: float, high: float, family: str) -> None:
        coefs: dict[int, float] = {}
        const = 0.0
        known: list[Key] = []
        var_of, value_of = self.var.get, self.value.get
        for coef, key in terms:
            j = var_of(key)
            if j is None:
                value = value_of(key)
                if value is None:
                    return  # a record the folder does not hold: no constraint
                const += coef * value
                known.append(key)
            elif j in coefs:
                coefs[j] += coef
            else:
                coefs[j] = float(coef)
        if 0.0 in coefs.values():
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
    return analysis.removesuffix(_COUNT_SUFFIX)


class Counts(list[tuple[Key, str]]):
    """The count records of an attack, as (key, margin), with what is derived from them alone.

    ``memo`` keeps, by name, what a constraint family derives from the keys and margins
    only (never from values): the same rows attacked again with other counts hidden reuse
    it (:meth:`Layout.counts`).
    """

    def __init__(self, items: Iterable[tuple[Key, str]] = ()) -> None:
        super().__init__(items)
        self.memo: dict[str, Any] = {}

    def derived(self, name: str, make: Callable[[Counts], Any]) -> Any:
        """Return ``make(self)``, made once per name."""
        if name not in self.memo:
            self.memo[name] = make(self)
        return self.memo[name]


@dataclass(frozen=True)
class Layout:
    """What the attacker reads of each record that hiding counts never changes.

    The repair attacks subsets of one records table hundreds of times, each with other
    counts hidden; each record's key, the analysis it is recorded in, whether it is a count
    and its margins are read once here, and an attack reads only the values of the rows it
    is given (by their index labels, positions in the table the layout was read from).

    Parameters
    ----------
    keys : list of Key
        Each record's key (its analysis without the ``_counts`` suffix).
    origin : list of str or None
        The analysis as recorded, where it differs from the key's.
    is_count : list of bool
        Whether the record is a count.
    margins : list of str
        Each record's ``margin``.
    """

    keys: list[Key]
    origin: list[str | None]
    is_count: list[bool]
    margins: list[str]
    _parts: dict[bytes, Counts] = field(default_factory=dict, compare=False, repr=False)

    def counts(self, rows: list[int]) -> Counts:
        """Return the count records of ``rows``, the same object for the same rows."""
        key = np.asarray(rows, dtype=np.int64).tobytes()
        found = self._parts.get(key)
        if found is None:
            found = Counts((self.keys[i], self.margins[i]) for i in rows if self.is_count[i])
            self._parts[key] = found
        return found

    def published(self, values: np.ndarray, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Return what an attack with this layout reads: the ``values`` of ``rows`` (positions).

        ``values`` holds every row's published value (NaN: hidden); ``rows`` defaults to all.
        """
        rows = np.arange(len(self.keys)) if rows is None else rows
        return pd.DataFrame({"value": np.asarray(values, dtype="float64")[rows]}, index=rows)

    @classmethod
    def of(cls, records: pd.DataFrame) -> Layout:
        """Read the layout of ``records`` (the positions of its rows are those read)."""
        names = [*KEY_COLUMNS, "estimate_name", "estimate_type", "margin"]
        # plain Python lists: iterating Arrow-backed columns row by row is slow
        columns = [records[c].astype(object).tolist() for c in names]
        keys: list[Key] = []
        origin: list[str | None] = []
        is_count: list[bool] = []
        margins: list[str] = []
        for a, g, sn, sl, v, vl, en, et, margin in zip(*columns, strict=True):
            key: Key = (_base(str(a)), str(g), str(sn), str(sl), str(v), str(vl), str(en))
            keys.append(key)
            origin.append(str(a) if key[0] != a else None)
            is_count.append(et == "count")
            margins.append(str(margin))
        return cls(keys, origin, is_count, margins)


def _load(
    records: pd.DataFrame, layout: Layout | None = None
) -> tuple[_System, dict[Cell, dict[str, float]], Counts]:
    """Read ``records`` into a system: hidden counts as unknowns, the rest as values.

    With ``layout`` (:meth:`Layout.of` of the table ``records`` was selected from, by index
    labels), only the index and the ``value`` column of ``records`` are read.
    """
    if layout is None:
        layout, rows = Layout.of(records), list(range(len(records)))
    else:
        rows = records.index.tolist()
    system = _System()
    numeric: dict[Cell, dict[str, float]] = defaultdict(dict)
    keys, origin, is_count = layout.keys, layout.origin, layout.is_count
    values = records["value"].to_numpy(dtype="float64").tolist()
    for i, value in zip(rows, values, strict=True):
        key, recorded = keys[i], origin[i]
        if recorded is not None:
            system.origin[key] = recorded
        if is_count[i]:
            if math.isnan(value):
                system.new_var(key, hidden=True)
            else:
                system.value[key] = value
        elif not math.isnan(value):
            numeric[key[:6]][key[6]] = value
    return system, numeric, layout.counts(rows)
