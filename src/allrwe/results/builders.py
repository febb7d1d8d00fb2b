"""Builders that turn the common shapes of analysis output into result records.

Each builder takes plain values or a small pandas table (never an analysis object), fills the
key columns it is not given with ``"overall"``, and returns validated records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.errors import ResultsError
from allrwe.results.model import (
    KEY_COLUMNS,
    MARGIN_SEPARATOR,
    TOTAL_PREFIX,
    validate_records,
)

__all__ = [
    "COUNT_ESTIMATES",
    "SUMMARY_ESTIMATES",
    "count_records",
    "default_estimate_type",
    "make_records",
    "margin_key",
    "percentage_records",
    "summary_records",
]

#: estimate names that are person or record counts (estimate type ``count``) by default
COUNT_ESTIMATES = frozenset({"count", "n", "n_risk", "n_event", "n_censor", "n_persons"})
#: estimate names :func:`summary_records` picks up from a wide table, in output order
SUMMARY_ESTIMATES = ("count", "mean", "sd", "median", "q25", "q75", "min", "max")

_Column = str | Sequence[str]


def default_estimate_type(estimate_name: str) -> str:
    """Return the estimate type an estimate name has unless told otherwise.

    Parameters
    ----------
    estimate_name : str
        E.g. ``"count"``, ``"percentage"``, ``"median"``.

    Returns
    -------
    str
        ``"count"`` for the names in :data:`COUNT_ESTIMATES`, ``"percentage"`` for
        ``"percentage"``, otherwise ``"numeric"``.

    Examples
    --------
    >>> default_estimate_type("n_risk"), default_estimate_type("median")
    ('count', 'numeric')
    """
    if estimate_name in COUNT_ESTIMATES:
        return "count"
    return "percentage" if estimate_name == "percentage" else "numeric"


def margin_key(
    analysis: str, group: str, strata_name: str, strata_level: str, variable: str
) -> str:
    """Return the margin key for the levels of one variable in one group and stratum.

    Parameters
    ----------
    analysis, group, strata_name, strata_level, variable : str
        The key of the cells whose levels add up to a published total.

    Returns
    -------
    str
        ``"analysis/group/strata_name=strata_level/variable"``.

    Raises
    ------
    ResultsError
        If a part holds the margin separator ``"|"``.

    Examples
    --------
    >>> margin_key("baseline", "BLIN", "overall", "overall", "sex")
    'baseline/BLIN/overall=overall/sex'
    """
    parts = (analysis, group, strata_name, strata_level, variable)
    if any(MARGIN_SEPARATOR in str(p) for p in parts):
        raise ResultsError(f"margin key parts may not contain {MARGIN_SEPARATOR!r}: {parts!r}")
    return f"{analysis}/{group}/{strata_name}={strata_level}/{variable}"


def _length(values: dict[str, Any]) -> int:
    lengths = {
        name: len(v) for name, v in values.items() if not isinstance(v, str) and np.ndim(v) > 0
    }
    if len(set(lengths.values())) > 1:
        raise ResultsError(f"make_records got sequences of different lengths: {lengths}")
    return next(iter(lengths.values()), 1)


def make_records(
    *,
    analysis: _Column,
    estimate_name: _Column,
    value: float | Sequence[float] | np.ndarray,
    estimate_type: _Column | None = None,
    group: _Column = "overall",
    strata_name: _Column = "overall",
    strata_level: _Column = "overall",
    variable: _Column = "overall",
    variable_level: _Column = "overall",
    margin: _Column = "",
) -> pd.DataFrame:
    """Build records from columns given as scalars or equal-length sequences.

    Parameters
    ----------
    analysis, estimate_name : str or sequence of str
        Required key parts.
    value : float or sequence of float
        The estimates; NaN when not estimable.
    estimate_type : str or sequence of str, optional
        Defaults to :func:`default_estimate_type` of each estimate name.
    group, strata_name, strata_level, variable, variable_level : str or sequence of str
        Key parts, default ``"overall"``.
    margin : str or sequence of str, default ""
        Margin tokens of count cells (see :func:`margin_key`).

    Returns
    -------
    pandas.DataFrame
        Validated records, sorted.

    Examples
    --------
    >>> make_records(analysis="attrition", estimate_name="count", value=[120, 97],
    ...              variable="step", variable_level=["1 all", "2 adults"])["value"].tolist()
    [120.0, 97.0]
    """
    columns: dict[str, Any] = {
        "analysis": analysis,
        "group": group,
        "strata_name": strata_name,
        "strata_level": strata_level,
        "variable": variable,
        "variable_level": variable_level,
        "estimate_name": estimate_name,
        "value": value,
        "margin": margin,
    }
    n = _length(columns if estimate_type is None else {**columns, "estimate_type": estimate_type})
    frame = pd.DataFrame(
        {
            k: list(v) if not isinstance(v, str) and np.ndim(v) > 0 else [v] * n
            for k, v in columns.items()
        }
    )
    if estimate_type is None:
        frame["estimate_type"] = [default_estimate_type(str(e)) for e in frame["estimate_name"]]
    elif isinstance(estimate_type, str):
        frame["estimate_type"] = estimate_type
    else:
        frame["estimate_type"] = list(estimate_type)
    return validate_records(frame)


def _defaults(
    analysis: str, group: str, strata_name: str, strata_level: str, variable: str
) -> dict[str, str]:
    return {
        "analysis": analysis,
        "group": group,
        "strata_name": strata_name,
        "strata_level": strata_level,
        "variable": variable,
        "variable_level": "overall",
    }


def _total_rows(base: pd.DataFrame, denominator: np.ndarray, total_level: str) -> pd.DataFrame:
    totals = base.assign(value=denominator).drop_duplicates("margin")
    return totals.assign(
        variable_level=total_level, margin=[TOTAL_PREFIX + m for m in totals["margin"]]
    )


def _with_keys(table: pd.DataFrame, defaults: dict[str, str]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ResultsError(f"expected a pandas DataFrame, not {type(table).__name__}")
    out = pd.DataFrame(index=range(len(table)))
    for column in KEY_COLUMNS:
        if column in table.columns:
            out[column] = [str(v) for v in table[column]]
        else:
            out[column] = defaults[column]
    return out


def _column(table: pd.DataFrame, name: str, what: str) -> np.ndarray:
    if name not in table.columns:
        raise ResultsError(f"{what} column {name!r} not in table; columns: {list(table.columns)}")
    numbers = pd.to_numeric(table[name], errors="coerce")
    bad = int((numbers.isna() & table[name].notna()).sum())
    if bad:
        raise ResultsError(f"{what} column {name!r} holds {bad} non-numeric value(s)")
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def _margin_keys(keys: pd.DataFrame) -> list[str]:
    return [
        margin_key(a, g, sn, sl, v)
        for a, g, sn, sl, v in zip(
            keys["analysis"],
            keys["group"],
            keys["strata_name"],
            keys["strata_level"],
            keys["variable"],
            strict=True,
        )
    ]


def count_records(
    table: pd.DataFrame,
    *,
    analysis: str,
    count_column: str = "count",
    estimate_name: str = "count",
    group: str = "overall",
    strata_name: str = "overall",
    strata_level: str = "overall",
    variable: str = "overall",
    margin: bool = False,
) -> pd.DataFrame:
    """Turn a count table (one row per cell) into ``count`` records.

    Key columns present in ``table`` (``group``, ``strata_name``, ``strata_level``,
    ``variable``, ``variable_level``) are used; absent ones take the keyword value
    (``variable_level`` defaults to ``"overall"``).

    Parameters
    ----------
    table : pandas.DataFrame
        The counts.
    analysis : str
        Analysis name, e.g. ``"attrition"``.
    count_column : str, default "count"
        Column of ``table`` holding the counts.
    estimate_name : str, default "count"
        Estimate name of the records, e.g. ``"n_risk"``.
    group, strata_name, strata_level, variable : str, default "overall"
        Key parts used where ``table`` has no such column.
    margin : bool, default False
        Declare that the levels of each variable in each group and stratum add up to a
        published total (their sum), so complementary suppression protects them.

    Returns
    -------
    pandas.DataFrame
        Validated records.
    """
    frame = _with_keys(table, _defaults(analysis, group, strata_name, strata_level, variable))
    frame["analysis"] = analysis
    frame["estimate_name"] = estimate_name
    frame["estimate_type"] = "count"
    frame["value"] = _column(table, count_column, "count")
    frame["margin"] = _margin_keys(frame) if margin else ""
    return validate_records(frame)


def _check_margin_sums(frame: pd.DataFrame, denominator: np.ndarray) -> None:
    sums = frame.assign(_den=denominator).groupby("margin", sort=True)
    for key, part in sums:
        dens = set(part["_den"].tolist())
        total = float(part["value"].sum())
        if len(dens) != 1 or total != next(iter(dens)):
            raise ResultsError(
                f"levels of margin {key!r} add up to {total:g}, not to the denominator "
                f"{sorted(dens)}; pass margin=False for categories that overlap"
            )


def percentage_records(
    table: pd.DataFrame,
    *,
    analysis: str,
    denominator: float | str,
    count_column: str = "count",
    group: str = "overall",
    strata_name: str = "overall",
    strata_level: str = "overall",
    variable: str = "overall",
    margin: bool = True,
    total_level: str | None = None,
) -> pd.DataFrame:
    """Turn counts and their denominator into ``count`` and ``percentage`` records.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per level, with key columns as in :func:`count_records` and the counts.
    analysis : str
        Analysis name, e.g. ``"baseline"``.
    denominator : float or str
        The denominator of every row, or the name of a column holding it per row.
    count_column : str, default "count"
        Column holding the counts.
    group, strata_name, strata_level, variable : str, default "overall"
        Key parts used where ``table`` has no such column.
    margin : bool, default True
        Declare that the levels of each variable add up to the denominator (checked), so
        complementary suppression protects them; set False for overlapping categories.
    total_level : str, optional
        Also publish each margin's total as a count record with this ``variable_level``
        (e.g. ``"total"``), marked as the margin's total.

    Returns
    -------
    pandas.DataFrame
        Validated records: per row a ``count`` and a ``percentage`` (0-100; NaN when the
        denominator is 0), plus the totals if asked.

    Raises
    ------
    ResultsError
        If a column is missing, or with ``margin=True`` the levels do not add up to the
        denominator.
    """
    frame = _with_keys(table, _defaults(analysis, group, strata_name, strata_level, variable))
    frame["analysis"] = analysis
    count = _column(table, count_column, "count")
    den = (
        _column(table, denominator, "denominator")
        if isinstance(denominator, str)
        else np.full(len(table), float(denominator))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(den > 0, 100.0 * count / np.where(den > 0, den, 1.0), np.nan)
    base = frame.assign(
        estimate_name="count",
        estimate_type="count",
        value=count,
        margin=_margin_keys(frame) if margin else "",
    )
    parts = [
        base,
        frame.assign(estimate_name="percentage", estimate_type="percentage", value=pct, margin=""),
    ]
    if margin:
        _check_margin_sums(base, den)
        if total_level is not None:
            parts.append(_total_rows(base, den, total_level))
    return validate_records(pd.concat(parts, ignore_index=True))


def summary_records(
    table: pd.DataFrame,
    *,
    analysis: str,
    statistics: Sequence[str] | None = None,
    group: str = "overall",
    strata_name: str = "overall",
    strata_level: str = "overall",
    variable: str = "overall",
) -> pd.DataFrame:
    """Turn a wide summary-statistic table into records (one per statistic and row).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per variable (and group/stratum) with key columns as in
        :func:`count_records` and one column per statistic, e.g. ``count``, ``mean``,
        ``sd``, ``median``, ``q25``, ``q75``, ``min``, ``max``. Give the ``count`` of
        non-missing values so the statistics are suppressed with it when it is small.
    analysis : str
        Analysis name.
    statistics : sequence of str, optional
        Columns to use; default: those of :data:`SUMMARY_ESTIMATES` present in ``table``.
    group, strata_name, strata_level, variable : str, default "overall"
        Key parts used where ``table`` has no such column.

    Returns
    -------
    pandas.DataFrame
        Validated records; ``count`` is a count, the rest numeric.
    """
    names = (
        [s for s in SUMMARY_ESTIMATES if s in table.columns]
        if statistics is None
        else list(statistics)
    )
    if not names:
        raise ResultsError(
            f"summary table has none of the statistics {', '.join(SUMMARY_ESTIMATES)}"
        )
    keys = _with_keys(table, _defaults(analysis, group, strata_name, strata_level, variable))
    keys["analysis"] = analysis
    parts = [
        keys.assign(
            estimate_name=name,
            estimate_type=default_estimate_type(name),
            value=_column(table, name, "statistic"),
        )
        for name in names
    ]
    return validate_records(pd.concat(parts, ignore_index=True))
