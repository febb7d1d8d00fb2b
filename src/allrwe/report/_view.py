"""Read access to suppressed records, and how values are written in the report.

Display conventions (docs/report.md):

* ``–`` a suppressed value: a count below the minimum cell count, a cell hidden so that such
  a count cannot be worked out from the others, or a statistic linked to either;
* ``NE`` not estimable (no data, or a confidence limit that does not exist);
* ``NR`` a median or quantile the curve never reaches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.results.model import ROW_ID_COLUMNS

__all__ = [
    "NOT_APPLICABLE",
    "NOT_ESTIMABLE",
    "NOT_REACHED",
    "SUPPRESSED",
    "ResultView",
    "Value",
    "fmt_count",
    "fmt_count_pct",
    "fmt_interval",
    "fmt_number",
    "fmt_pct",
    "level_sort_key",
    "natural_sorted",
]

SUPPRESSED = "–"
NOT_ESTIMABLE = "NE"
NOT_REACHED = "NR"
#: a rate with no one to assess (denominator 0), as seed 001 writes it
NOT_APPLICABLE = "NA"

_Key = tuple[str, str, str, str, str, str, str]


@dataclass(frozen=True)
class Value:
    """One looked-up value: the number (NaN if hidden or absent) and whether it was hidden."""

    value: float = math.nan
    suppressed: bool = False
    present: bool = False

    @property
    def visible(self) -> bool:
        """bool: present, not suppressed and a finite number."""
        return self.present and not self.suppressed and math.isfinite(self.value)


_ABSENT = Value()


def _index(records: pd.DataFrame) -> dict[_Key, Value]:
    """Index records by their key columns and estimate name.

    Parameters
    ----------
    records : pandas.DataFrame
        Records (of one analysis).

    Returns
    -------
    dict
        The :class:`Value` of each record by ``(analysis, group, strata_name, strata_level,
        variable, variable_level, estimate_name)``; a repeated key keeps its last record.
    """
    keys = zip(*(records[c].astype(str).tolist() for c in ROW_ID_COLUMNS), strict=True)
    values = records["value"].to_numpy(dtype="float64").tolist()
    hidden = records["suppressed"].to_numpy(dtype=bool).tolist()
    return {k: Value(v, h, True) for k, v, h in zip(keys, values, hidden, strict=True)}


class ResultView:
    """Index of suppressed records by cell key and estimate name.

    Parameters
    ----------
    records : pandas.DataFrame
        Canonical, suppressed records (:attr:`allrwe.results.ResultSet.records`).
    """

    def __init__(self, records: pd.DataFrame) -> None:
        text = [c for c in records.columns if c not in ("value", "suppressed")]
        # Plain object columns: the filters below are many and small, and Arrow-backed
        # strings make each one slow.
        records = records.astype(dict.fromkeys(text, object))
        self.records = records
        self._by_analysis = {str(a): f for a, f in records.groupby("analysis", sort=False)}
        # Built on the first look-up of each analysis: curves are many records and are read
        # as frames, not one value at a time.
        self._indexes: dict[str, dict[_Key, Value]] = {}

    def get(
        self,
        analysis: str,
        group: str,
        strata_name: str,
        strata_level: str,
        variable: str,
        variable_level: str,
        estimate_name: str,
    ) -> Value:
        """Return one value (absent: NaN, not suppressed, not present)."""
        key = (analysis, group, strata_name, strata_level, variable, variable_level, estimate_name)
        index = self._indexes.get(analysis)
        if index is None:
            index = self._indexes[analysis] = _index(self.frame(analysis))
        return index.get(key, _ABSENT)

    def frame(self, analysis: str) -> pd.DataFrame:
        """Return the records of one analysis (an empty frame when absent)."""
        found = self._by_analysis.get(analysis)
        return found if found is not None else self.records.iloc[0:0]

    def has(self, analysis: str) -> bool:
        """Return whether any record of ``analysis`` exists."""
        return analysis in self._by_analysis

    def not_available(self, analysis: str) -> str | None:
        """Return the reason if ``analysis`` holds only "not available" status records."""
        frame = self.frame(analysis)
        if frame.empty:
            return None
        status = frame[frame["variable"] == "status"]
        if len(status) != len(frame):
            return None
        reasons = [r for r in status["strata_level"].astype(str) if r != "overall"]
        return reasons[0] if reasons else "not available"

    def groups(self, analysis: str, order: Sequence[str] = ()) -> list[str]:
        """Return the groups of an analysis: those of ``order`` first, then the rest."""
        found = list(dict.fromkeys(self.frame(analysis)["group"].astype(str)))
        first = [g for g in order if g in found]
        return first + [g for g in found if g not in first]

    def levels(self, analysis: str, column: str, **where: str) -> list[str]:
        """Distinct values of ``column`` among the records matching ``where``, naturally sorted."""
        frame = self.frame(analysis)
        for name, value in where.items():
            frame = frame[frame[name].astype(str) == value]
        return natural_sorted(frame[column].astype(str))


_NUMBER = re.compile(r"(<=|>=|<|>|≤|≥)?\s*(\d+(?:\.\d+)?)")
_OP_RANK = {"<": -1.0, "≤": -0.5, "<=": -0.5, "": 0.0, ">": 0.5, ">=": 1.0, "≥": 1.0}
_LAST = ("unknown", "missing", "none", "none recorded", "other", "not available", "ne")
_KNOWN_ORDERS: tuple[tuple[str, ...], ...] = (
    ("yes", "no"),
    ("male", "female"),
    ("nd", "rr"),
    ("ph+", "ph-"),
    ("positive", "negative"),
    ("cr", "crh", "cri", "nr", "ne"),
    ("induction", "consolidation", "re-induction"),
    # genetic features in the rows of seed 001's Table 1
    (
        "kmt2a_rearranged",
        "etv6_runx1",
        "tcf3_pbx1",
        "hyperdiploid",
        "hypodiploid",
        "complex_karyotype",
        "ikzf1_deletion",
        "ph_like",
        "pax5_alteration",
        "il3_igh",
    ),
)


def level_sort_key(label: str) -> tuple[float, float, float, str]:
    """Sort key putting levels in reading order: numbers by value, then known orders.

    ``"<35"`` < ``"35 to <55"`` < ``">=55"``; ``"2"`` < ``"10"``; ``"yes"`` before ``"no"``;
    ``"unknown"``, ``"missing"``, ``"none"`` and ``"other"`` last.

    Examples
    --------
    >>> sorted([">=55", "<35", "unknown", "35 to <55"], key=level_sort_key)
    ['<35', '35 to <55', '>=55', 'unknown']
    """
    text = str(label).strip().lower()
    if text in _LAST:
        return (3.0, float(_LAST.index(text)), 0.0, text)
    for order in _KNOWN_ORDERS:
        if text in order:
            return (1.0, float(order.index(text)), 0.0, text)
    match = _NUMBER.match(text)
    if match:
        return (0.0, float(match.group(2)), _OP_RANK.get(match.group(1) or "", 0.0), text)
    return (2.0, 0.0, 0.0, text)


def natural_sorted(values: Iterable[str]) -> list[str]:
    """Return distinct values in the order of :func:`level_sort_key`."""
    return sorted(dict.fromkeys(values), key=level_sort_key)


def fmt_number(value: float, digits: int = 1) -> str:
    """Write a number with ``digits`` decimals; NaN as ``NE``."""
    if value is None or not math.isfinite(value):
        return NOT_ESTIMABLE
    return f"{value:.{digits}f}"


def fmt_pct(v: Value, digits: int = 1) -> str:
    """Write a percentage ``p%``; ``–`` if suppressed, ``NE`` if absent."""
    if v.suppressed:
        return SUPPRESSED
    return f"{v.value:.{digits}f}%" if v.visible else NOT_ESTIMABLE


def fmt_count(v: Value) -> str:
    """Write a count: the integer, ``–`` if suppressed, ``NE`` if absent."""
    if v.suppressed:
        return SUPPRESSED
    if not v.present or not math.isfinite(v.value):
        return NOT_ESTIMABLE
    return f"{round(v.value)}"


def fmt_count_pct(count: Value, pct: Value, digits: int = 1) -> str:
    """Write ``n (p%)``; a hidden count hides the whole cell."""
    if count.suppressed:
        return SUPPRESSED
    text = fmt_count(count)
    if pct.present and not pct.suppressed and math.isfinite(pct.value):
        return f"{text} ({pct.value:.{digits}f}%)"
    return text


def fmt_interval(
    estimate: Value,
    lower: Value,
    upper: Value,
    *,
    scale: float = 1.0,
    digits: int = 1,
    suffix: str = "",
    unreached: bool = False,
) -> str:
    """Write ``estimate (lower, upper)``.

    Parameters
    ----------
    estimate, lower, upper : Value
        The estimate and its confidence limits.
    scale : float, default 1
        Multiplier (e.g. 100 for proportions shown as percentages).
    digits : int, default 1
        Decimals.
    suffix : str, default ""
        Unit after the estimate, e.g. ``"%"``.
    unreached : bool, default False
        Write a missing estimate as ``NR`` (medians) instead of ``NE``; a missing limit is
        ``NE`` either way (``NR (NE, NE)``).
    """
    if any(v.suppressed for v in (estimate, lower, upper)):
        return SUPPRESSED
    missing = NOT_REACHED if unreached else NOT_ESTIMABLE

    def one(v: Value, absent: str) -> str:
        if not v.present or not np.isfinite(v.value):
            return absent
        return f"{v.value * scale:.{digits}f}"

    head = one(estimate, missing)
    if head == missing and not estimate.present:
        return NOT_ESTIMABLE
    if head != missing:
        head += suffix
    # A limit that does not exist is not estimable, also around a median not reached:
    # "NR (NE, NE)", "NR (14.2, NE)".
    return f"{head} ({one(lower, NOT_ESTIMABLE)}, {one(upper, NOT_ESTIMABLE)})"
