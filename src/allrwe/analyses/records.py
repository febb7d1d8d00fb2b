"""Result records every analysis builds with: canonical form, status, pooling, concatenation.

The analyses compute tidy pandas frames; the results layer wants long records (see
``docs/results-model.md``). These helpers are the shared part of that translation; each
analysis's own records are beside it (``analyses/<name>/records.py``). Margins are declared
only where the equation holds exactly (checked), so that complementary suppression protects
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from allrwe.results import (
    make_records,
    percentage_records,
    summary_records,
    validate_records,
)
from allrwe.results.model import MARGIN_SEPARATOR, pooled_label

__all__ = [
    "NOT_AVAILABLE",
    "OVERALL",
    "SIGNIFICANT_DIGITS",
    "WITHHELD_ESTIMATES",
    "as_records",
    "categorical_records",
    "concat_records",
    "drop_single_member_margins",
    "empty_records",
    "pool_rare",
    "pooled_label",
    "significant",
    "status_records",
    "summary_table_records",
]

#: ``variable_level`` of the status record of an analysis the data cannot support
NOT_AVAILABLE = "not available"

#: strata name and level of the records of a whole group
OVERALL = "overall"


def as_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Return an analysis's records in canonical form (``suppressed`` False when absent)."""
    out = frame.copy()
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    if "margin" not in out.columns:
        out["margin"] = ""
    values = pd.to_numeric(out["value"], errors="coerce")
    # An infinite estimate (a Cox HR limit of a separated model) is not estimable; the JSON
    # export cannot carry infinities.
    out["value"] = values.where(~np.isinf(values), np.nan)
    return validate_records(out)


def empty_records() -> pd.DataFrame:
    """Return a records table with no rows."""
    return make_records(analysis=[], estimate_name=[], value=[])


def status_records(analysis: str, groups: Sequence[str], reason: str) -> pd.DataFrame:
    """Return records saying ``analysis`` is not available (one per group), with the reason.

    Parameters
    ----------
    analysis : str
        The analysis name.
    groups : sequence of str
        The index groups.
    reason : str
        Why, e.g. ``"no bone-marrow blast measurement in the CDM"``; kept in the
        ``strata_level`` so the report can show it.

    Returns
    -------
    pandas.DataFrame
        Records with ``variable="status"``, ``variable_level="not available"`` and a NaN
        ``character`` estimate (a reader sees "not available", never 0).
    """
    groups = list(groups) or [OVERALL]
    return make_records(
        analysis=analysis,
        group=groups,
        strata_name="reason",
        strata_level=reason.replace(MARGIN_SEPARATOR, "/"),
        variable="status",
        variable_level=NOT_AVAILABLE,
        estimate_name="status",
        estimate_type="character",
        value=[np.nan] * len(groups),
    )


def categorical_records(
    table: pd.DataFrame,
    analysis: str,
    *,
    strata: tuple[str, str | None] | None = None,
    level: str = "level",
    partition: bool = True,
) -> pd.DataFrame:
    """Count and percentage records of a ``group, variable, level, n, denominator`` table."""
    if table.empty:
        return empty_records()
    frame = table.rename(columns={level: "variable_level"}).copy()
    if strata is not None:
        name, column = strata
        frame["strata_name"] = name
        frame["strata_level"] = frame[column].astype(str) if column else OVERALL
    margin = partition and _adds_up(frame)
    records = percentage_records(
        frame, analysis=analysis, denominator="denominator", count_column="n", margin=margin
    )
    return drop_single_member_margins(records) if margin else records


def drop_single_member_margins(records: pd.DataFrame) -> pd.DataFrame:
    """Drop margins of one cell: the cell equals its total, so the margin protects nothing."""
    margins = records["margin"].astype(str)
    sizes = margins[margins != ""].value_counts()
    single = set(sizes[sizes == 1].index)
    out = records.copy()
    out["margin"] = ["" if m in single else m for m in margins]
    return out


def _adds_up(frame: pd.DataFrame) -> bool:
    keys = [c for c in ("group", "strata_name", "strata_level", "variable") if c in frame]
    sums = frame.groupby(keys, sort=False).agg(n=("n", "sum"), d=("denominator", "max"))
    dens = frame.groupby(keys, sort=False)["denominator"].nunique()
    return bool((sums["n"] == sums["d"]).all() and (dens == 1).all())


#: significant digits of a published mean and SD: removing one person and running again
#: must not give back that person's value (a mean of n values to 10 digits does)
SIGNIFICANT_DIGITS = 3
#: estimates of a group that are one person's own value, never published
WITHHELD_ESTIMATES = frozenset({"min", "max"})


def significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """Return ``value`` rounded to ``digits`` significant digits (NaN and 0 unchanged)."""
    return float(f"{value:.{digits}g}") if np.isfinite(value) and value != 0 else value


def summary_table_records(table: pd.DataFrame, analysis: str) -> pd.DataFrame:
    """Summary-statistic records of a ``group, variable, n, mean, …, q1, median, q3`` table.

    The rule of every published summary: min and max (one person's own value) are
    withheld, mean and SD are rounded to :data:`SIGNIFICANT_DIGITS` significant digits.
    """
    if table.empty:
        return empty_records()
    frame = table.rename(columns={"n": "count", "q1": "q25", "q3": "q75"})
    frame = frame.drop(columns=[c for c in WITHHELD_ESTIMATES if c in frame.columns])
    for name in ("mean", "sd"):
        if name in frame.columns:
            frame[name] = [significant(float(v)) for v in frame[name]]
    return summary_records(frame, analysis=analysis)


def pool_rare(
    table: pd.DataFrame, *, keys: Sequence[str], level: str, count: str, min_cell_count: int
) -> pd.DataFrame:
    """Pool the levels of an open-ended list counted below ``min_cell_count`` into one level.

    Only levels that occur are listed in such lists, so each is at least 1; were they all
    suppressed, their number and the published total could still pin every one of them. The
    pooled level is counted like any other (and suppressed if small).
    """
    if table.empty or min_cell_count <= 1:
        return table
    rare = table[count] < min_cell_count
    if not rare.any():
        return table
    label = pooled_label(min_cell_count)
    pooled = (
        table[rare].groupby(list(keys), sort=False, as_index=False).agg(**{count: (count, "sum")})
    )
    pooled[level] = label
    for column in table.columns:
        if column not in pooled.columns:
            pooled[column] = table.loc[rare, column].iloc[0]
    return pd.concat([table[~rare], pooled[table.columns]], ignore_index=True)


def concat_records(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate record tables (empty ones skipped) into one canonical table."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return empty_records()
    return validate_records(pd.concat(frames, ignore_index=True))
