"""The wide Table 1: one column per group, ``Overall`` and the SMDs, as display text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.baseline.records import NOT_AVAILABLE, OVERALL, PERSONS
from allrwe.analyses.baseline.table import ANALYSIS
from allrwe.analyses.baseline.variables import VARIABLE_LABELS
from allrwe.results.model import PAIR_SEPARATOR

__all__ = ["RANGE_LABEL", "table_one"]

#: a looked-up value: the number, and whether suppression hid it
_Value = tuple[float, bool]
_MISSING: _Value = (float("nan"), False)
_KEY_COLUMNS = ("group", "strata_name", "strata_level", "variable", "variable_level")


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[str, ...]]:
    """Return the rows of ``columns`` as tuples of strings.

    Each column becomes a list first: Arrow-backed columns are slow to iterate one by one.
    """
    return list(zip(*(frame[c].astype(str).tolist() for c in columns), strict=True))


def _lookup(records: pd.DataFrame) -> dict[tuple[str, ...], _Value]:
    hidden = (
        records["suppressed"].to_numpy(dtype=bool)
        if "suppressed" in records.columns
        else np.zeros(len(records), dtype=bool)
    )
    values = pd.to_numeric(records["value"], errors="coerce").to_numpy(dtype="float64")
    keys = _rows(records, [*_KEY_COLUMNS, "estimate_name"])
    return {k: (float(v), bool(h)) for k, v, h in zip(keys, values, hidden, strict=True)}


def _num(value: float, digits: int) -> str:
    if np.isnan(value):
        return "–"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}f}"


def _count_text(count: _Value, pct: _Value, digits: int) -> str:
    if count[1]:
        return "suppressed"
    if np.isnan(count[0]):
        return "–"
    if np.isnan(pct[0]) and not pct[1]:
        return f"{count[0]:.0f}"
    return f"{count[0]:.0f} ({'suppressed' if pct[1] else _num(pct[0], digits)}%)"


def _stat_text(values: Sequence[_Value], pattern: str, digits: int) -> str:
    if any(h for _, h in values):
        return "suppressed"
    if all(np.isnan(v) for v, _ in values):
        return "–"
    if "{}" not in pattern:
        return pattern.format(*(v for v, _ in values))
    return pattern.format(*(_num(v, digits) for v, _ in values))


#: the row of the k-th range (k = the minimum cell count; statistics.kth_range)
RANGE_LABEL = "range (k-th lowest to k-th highest)"

_CONTINUOUS_ROWS = (
    ("n", ("count",), "{:.0f}"),
    ("mean (SD)", ("mean", "sd"), "{} ({})"),
    ("median (IQR)", ("median", "q25", "q75"), "{} ({}, {})"),
    (RANGE_LABEL, ("range_low", "range_high"), "{} to {}"),
)


@dataclass
class _Wide:
    """Lookup and layout shared by the rows of one :func:`table_one` call."""

    values: dict[tuple[str, ...], _Value]
    groups: list[str]
    pairs: list[str]
    digits: int
    smd_digits: int
    smd_shown: set[tuple[str, ...]]

    def get(self, *key: str) -> _Value:
        return self.values.get(key, _MISSING)

    def smd(self, pair: str, sn: str, sl: str, var: str, level: str) -> str:
        # A categorical SMD sits on the variable (level "overall") and is shown once, on the
        # first level's row; a multi-response SMD sits on each level.
        for at in (level, OVERALL):
            found = self.values.get((pair, sn, sl, var, at, "smd"))
            if found is None or (at == OVERALL and (pair, sn, sl, var) in self.smd_shown):
                continue
            self.smd_shown.add((pair, sn, sl, var))
            return "suppressed" if found[1] else _num(found[0], self.smd_digits)
        return ""

    def continuous(self, sn: str, sl: str, var: str) -> list[list[str]]:
        rows = []
        for i, (_, estimates, pattern) in enumerate(_CONTINUOUS_ROWS):
            cells = [
                _stat_text(
                    [self.get(g, sn, sl, var, OVERALL, e) for e in estimates], pattern, self.digits
                )
                for g in self.groups
            ]
            smd = [self.smd(p, sn, sl, var, OVERALL) if i == 0 else "" for p in self.pairs]
            rows.append(cells + smd)
        return rows

    def level(self, sn: str, sl: str, var: str, level: str) -> list[str]:
        if any((g, sn, sl, var, level, "status") in self.values for g in self.groups):
            return [NOT_AVAILABLE] * len(self.groups) + ["" for _ in self.pairs]
        cells = [
            _count_text(
                self.get(g, sn, sl, var, level, "count"),
                self.get(g, sn, sl, var, level, "percentage"),
                self.digits,
            )
            for g in self.groups
        ]
        return cells + [self.smd(p, sn, sl, var, level) for p in self.pairs]


_ROW_KEY = ["strata_name", "strata_level", "variable", "variable_level"]


def _reordered(records: pd.DataFrame, order: pd.DataFrame) -> pd.DataFrame:
    """Sort ``records`` by where their row first appears in ``order`` (others last)."""
    seen = dict.fromkeys(_rows(order, _ROW_KEY))
    rank = {key: i for i, key in enumerate(seen)}
    keys = _rows(records, _ROW_KEY)
    position = np.array([rank.get(k, len(rank)) for k in keys])
    return records.iloc[np.argsort(position, kind="stable")]


def table_one(
    records: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    order: pd.DataFrame | None = None,
    digits: int = 1,
    smd_digits: int = 3,
) -> pd.DataFrame:
    """Return baseline records as a wide table: one column per group, ``Overall`` and SMDs.

    Parameters
    ----------
    records : pandas.DataFrame
        Records of :func:`summarise_baseline`, raw or suppressed (a ``suppressed`` column marks
        hidden cells, shown as ``"suppressed"``). Rows keep the order of first appearance.
    labels : mapping of str to str, optional
        Display labels of variables and levels (defaults: the built-in variable labels).
    order : pandas.DataFrame, optional
        Records whose row order to follow, e.g. the raw output of :func:`summarise_baseline`
        when ``records`` went through a :class:`~allrwe.results.ResultSet`, which sorts them.
    digits : int, default 1
        Decimals of percentages and statistics.
    smd_digits : int, default 3
        Decimals of the SMDs.

    Returns
    -------
    pandas.DataFrame
        Index ``(strata_name, strata_level, variable, level)``; columns: the groups, then
        ``Overall``, then ``SMD <A vs B>``; cells are text: ``n (%)`` for levels; ``n``,
        ``mean (SD)``, ``median (IQR)`` and ``min, max`` for continuous variables; ``–`` when
        not estimable.

    Examples
    --------
    >>> wide = table_one(records)  # doctest: +SKIP
    >>> wide.loc[("overall", "overall", "Sex", "female"), "Overall"]  # doctest: +SKIP
    '43 (44.8%)'
    """
    rec = records[records["analysis"] == ANALYSIS] if "analysis" in records.columns else records
    if order is not None:
        rec = _reordered(rec, order)
    names = {**VARIABLE_LABELS, **(labels or {})}
    is_pair = rec["group"].astype(str).str.contains(PAIR_SEPARATOR, regex=False).to_numpy()
    found = list(dict.fromkeys(rec.loc[~is_pair, "group"].astype(str)))
    groups = [g for g in found if g != OVERALL] + ([OVERALL] if OVERALL in found else [])
    pairs = list(dict.fromkeys(rec.loc[is_pair, "group"].astype(str)))
    wide = _Wide(_lookup(rec), groups, pairs, digits, smd_digits, set())
    continuous = set(rec.loc[rec["estimate_name"] == "mean", "variable"].astype(str))
    index: list[tuple[str, str, str, str]] = []
    body: list[list[str]] = []
    plain = rec.loc[~is_pair, ["strata_name", "strata_level", "variable", "variable_level"]]
    for sn, sl, var, level in dict.fromkeys(_rows(plain, _ROW_KEY)):
        label = names.get(var, var)
        if var in continuous:
            if level == OVERALL:
                index += [(sn, sl, label, stat) for stat, _, _ in _CONTINUOUS_ROWS]
                body += wide.continuous(sn, sl, var)
            continue
        index.append((sn, sl, label, "" if var == PERSONS else names.get(level, level)))
        body.append(wide.level(sn, sl, var, level))
    header = [("Overall" if g == OVERALL else g) for g in groups] + [f"SMD {p}" for p in pairs]
    levels = ["strata_name", "strata_level", "variable", "level"]
    if not index:
        empty = pd.MultiIndex.from_arrays([[] for _ in levels], names=levels)
        return pd.DataFrame(index=empty, columns=header, dtype=object)
    return pd.DataFrame(body, index=pd.MultiIndex.from_tuples(index, names=levels), columns=header)
