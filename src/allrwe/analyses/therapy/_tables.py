"""Tidy result tables shared by the pattern analyses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["CATEGORICAL_COLUMNS", "CONTINUOUS_COLUMNS", "categorical", "continuous", "percent"]

#: Columns of every categorical result (extra key columns come after ``group``).
CATEGORICAL_COLUMNS = ("group", "variable", "level", "n", "denominator", "percentage")
#: Columns of every continuous summary.
CONTINUOUS_COLUMNS = (
    "group",
    "variable",
    "n",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "min",
    "max",
)


def percent(n: np.ndarray | pd.Series, denominator: np.ndarray | pd.Series) -> np.ndarray:
    """Return ``100 * n / denominator``, NaN where the denominator is 0."""
    num = np.asarray(n, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 100.0 * num / den, np.nan)


def categorical(
    persons: pd.DataFrame,
    *,
    variable: str,
    column: str,
    levels: Sequence[str],
    groups: Iterable[str],
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Count persons per level of ``column`` within each group (and ``by`` strata).

    Parameters
    ----------
    persons : pandas.DataFrame
        One row per person and group with ``group``, ``column`` and the ``by`` columns.
    variable : str
        Name written in the ``variable`` column.
    column : str
        The categorical column to count.
    levels : sequence of str
        Every level to report, in order (levels with no person get n = 0).
    groups : iterable of str
        Every group to report, in order.
    by : sequence of str
        Extra stratum columns; the denominator is the persons of the group and stratum.

    Returns
    -------
    pandas.DataFrame
        ``group, *by, variable, level, n, denominator, percentage``.
    """
    keys = ["group", *by]
    rows = []
    for group in groups:
        sub = persons[persons["group"] == group]
        strata: list[tuple[object, ...]] = (
            [()] if not by else sorted({tuple(r) for r in sub[list(by)].itertuples(index=False)})
        )
        for stratum in strata:
            part = sub
            for name, value in zip(by, stratum, strict=True):
                part = part[part[name] == value]
            counts = part[column].astype(str).value_counts()
            den = len(part)
            for level in levels:
                rows.append((group, *stratum, variable, level, int(counts.get(level, 0)), den))
    out = pd.DataFrame(rows, columns=[*keys, "variable", "level", "n", "denominator"])
    out["percentage"] = percent(out["n"], out["denominator"])
    return out


def continuous(
    values: pd.DataFrame, *, variable: str, column: str, groups: Iterable[str]
) -> pd.DataFrame:
    """Summarise a numeric column per group: n, mean, sd, median, quartiles, min, max."""
    rows = []
    for group in groups:
        v = values.loc[values["group"] == group, column].dropna().astype("float64").to_numpy()
        if len(v) == 0:
            rows.append((group, variable, 0, *([np.nan] * 7)))
            continue
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        sd = float(np.std(v, ddof=1)) if len(v) > 1 else np.nan
        rows.append((group, variable, len(v), float(v.mean()), sd, med, q1, q3, v.min(), v.max()))
    return pd.DataFrame(rows, columns=list(CONTINUOUS_COLUMNS))
