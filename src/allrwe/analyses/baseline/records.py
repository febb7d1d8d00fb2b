"""Long result records of the baseline and safety tables, with their suppression margins.

The analyses layer sits below :mod:`allrwe.results`, so it cannot use the results builders; this
module writes records in the same shape (``docs/results-model.md``): one row per estimate with
``analysis, group, strata_name, strata_level, variable, variable_level, estimate_name,
estimate_type, value, margin``.

Margins tell complementary suppression which count cells add up to which totals. Three kinds are
declared, each only where the equation holds exactly:

* **levels**: the levels of a variable partition the persons of a cell (or a recorded total
  level such as "any grade");
* **groups**: with no person in two index groups, the ``overall`` column is the sum of the
  group columns;
* **strata**: the levels of a stratum partition the persons, so the ``overall`` stratum is
  their sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "NOT_AVAILABLE",
    "OVERALL",
    "PERSONS",
    "RECORD_COLUMNS",
    "Cell",
    "add_margins",
    "cells_frame",
    "status_records",
]

#: columns of a records table, in the order of ``allrwe.results.COLUMNS``
RECORD_COLUMNS = (
    "analysis",
    "group",
    "strata_name",
    "strata_level",
    "variable",
    "variable_level",
    "estimate_name",
    "estimate_type",
    "value",
    "margin",
)
#: the key value of "all persons" (group column, stratum)
OVERALL = "overall"
#: the ``variable_level`` of a status record saying a table cannot be computed from the data
NOT_AVAILABLE = "not available"
#: the ``variable`` of the persons of each column and stratum
PERSONS = "persons"

_SEP = "|"
_TOTAL = "total:"


@dataclass(frozen=True)
class Cell:
    """One estimate before it becomes a record.

    Parameters
    ----------
    analysis, group, strata_name, strata_level, variable, variable_level : str
        The key of the cell.
    estimate_name : str
        ``count``, ``percentage``, ``mean``, ``smd``, ...
    estimate_type : str
        ``count``, ``numeric``, ``percentage`` or ``character``.
    value : float
        The estimate (NaN when not estimable).
    partition : bool, default False
        A count whose variable's levels (with this flag) add up to the persons of the cell, or
        to the level marked ``level_total``.
    level_total : bool, default False
        A count that is the recorded total of its variable's partition (e.g. "any grade").
    """

    analysis: str
    group: str
    strata_name: str
    strata_level: str
    variable: str
    variable_level: str
    estimate_name: str
    estimate_type: str
    value: float
    partition: bool = False
    level_total: bool = False


def cells_frame(cells: Iterable[Cell]) -> pd.DataFrame:
    """Return cells as a frame (the record columns without ``margin``, plus the two flags)."""
    rows = list(cells)
    columns = [*RECORD_COLUMNS[:-1], "partition", "level_total"]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = pd.DataFrame(
        [
            (
                c.analysis,
                c.group,
                c.strata_name,
                c.strata_level,
                c.variable,
                c.variable_level,
                c.estimate_name,
                c.estimate_type,
                float(c.value),
                c.partition,
                c.level_total,
            )
            for c in rows
        ],
        columns=columns,
    )
    return frame


def _clean(part: str) -> str:
    # A margin token may not hold the separator; key parts are names chosen by the user.
    return str(part).replace(_SEP, "/")


def _cleaned(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a key column as strings without the separator (an object array)."""
    text = frame[column].astype(str).str.replace(_SEP, "/", regex=False)
    return text.to_numpy(dtype=object)


def _joined(*parts: str | np.ndarray) -> np.ndarray:
    """Concatenate strings and object arrays of strings element by element."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + part
    return np.asarray(out, dtype=object)


def _keys(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, ...]]:
    return list(zip(*(frame[c].astype(str).tolist() for c in columns), strict=True))


def add_margins(
    cells: pd.DataFrame, *, groups_disjoint: bool, persons: str = PERSONS
) -> pd.DataFrame:
    """Add the ``margin`` column to a cells frame and drop the helper flags.

    Parameters
    ----------
    cells : pandas.DataFrame
        From :func:`cells_frame`: every group column holds the same strata and levels, and the
        ``overall`` group and stratum are present wherever groups or strata are.
    groups_disjoint : bool
        Whether no person is in two index groups, so that ``overall`` counts are the sum of
        the group counts.
    persons : str, default "persons"
        The variable whose count cell holds the persons of a column and stratum: the recorded
        total of every partition without a total level of its own.

    Returns
    -------
    pandas.DataFrame
        Records with the columns of :data:`RECORD_COLUMNS`.
    """
    tokens: list[list[str]] = [[] for _ in range(len(cells))]
    is_count = (cells["estimate_type"] == "count").to_numpy()
    partition = cells["partition"].to_numpy(dtype=bool) & is_count
    total = cells["level_total"].to_numpy(dtype=bool) & is_count
    _level_margins(cells, tokens, partition, total, persons)
    n_groups = cells.loc[is_count & (cells["group"] != OVERALL).to_numpy(), "group"].nunique()
    is_overall_group = (cells["group"] == OVERALL).to_numpy()
    if groups_disjoint and n_groups >= 2:
        cols = ["analysis", "strata_name", "strata_level", "variable", "variable_level"]
        a, sn, sl, v, lv, e = (_cleaned(cells, c) for c in [*cols, "estimate_name"])
        keys = _joined(a, "/groups/", sn, "=", sl, "/", v, "=", lv, "/", e)
        _mark(tokens, keys, is_count, is_overall_group)
    is_overall_stratum = (cells["strata_name"] == OVERALL).to_numpy()
    cols = ["analysis", "group", "strata_name", "variable", "variable_level", "estimate_name"]
    a, g, sn, v, lv, e = (_cleaned(cells, c) for c in cols)
    names = sorted(
        set(cells["strata_name"].astype(str).to_numpy(dtype=object)[~is_overall_stratum])
    )
    for name in names:
        own = np.where(is_overall_stratum, name.replace(_SEP, "/"), sn)
        keys = _joined(a, "/", g, "/strata:", own, "/", v, "=", lv, "/", e)
        in_name = is_count & (is_overall_stratum | (cells["strata_name"] == name).to_numpy())
        _mark(tokens, keys, in_name, is_overall_stratum)
    out = cells.drop(columns=["partition", "level_total"]).copy()
    out["margin"] = [_SEP.join(t) for t in tokens]
    return out[list(RECORD_COLUMNS)].reset_index(drop=True)


def _level_margins(
    cells: pd.DataFrame,
    tokens: list[list[str]],
    partition: np.ndarray,
    total: np.ndarray,
    persons: str,
) -> None:
    cols = ["analysis", "group", "strata_name", "strata_level", "variable"]
    raw = _keys(cells, cols)
    a, g, sn, sl, v = (_cleaned(cells, c) for c in cols)
    keys = _joined(a, "/", g, "/", sn, "=", sl, "/", v)
    has_total = {keys[i] for i in np.flatnonzero(total)}
    is_persons = ((cells["variable"] == persons) & (cells["estimate_name"] == "count")).to_numpy()
    persons_at = {raw[i][:4]: int(i) for i in np.flatnonzero(is_persons)}
    for i in np.flatnonzero(partition):
        tokens[i].append(keys[i])
    for i in np.flatnonzero(total):
        tokens[i].append(_TOTAL + keys[i])
    # A partition without a total level adds up to the persons of its cell; recording that
    # cell as the total keeps suppression from assuming it is always published.
    implicit = {keys[i]: raw[i][:4] for i in np.flatnonzero(partition) if keys[i] not in has_total}
    for key, cell in implicit.items():
        if cell in persons_at:
            tokens[persons_at[cell]].append(_TOTAL + key)


def _mark(
    tokens: list[list[str]], keys: np.ndarray, eligible: np.ndarray, is_total: np.ndarray
) -> None:
    """Add member/total tokens of a margin family, keeping margins that have both."""
    members: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    for i in np.flatnonzero(eligible):
        if is_total[i]:
            totals[keys[i]] = int(i)
        else:
            members.setdefault(keys[i], []).append(int(i))
    for key, rows in members.items():
        if key not in totals:
            continue
        for row in rows:
            tokens[row].append(key)
        tokens[totals[key]].append(_TOTAL + key)


def status_records(analysis: str, groups: Sequence[str], reason: str) -> pd.DataFrame:
    """Return one ``status`` record per group saying the analysis cannot be computed.

    Parameters
    ----------
    analysis : str
        The analysis name.
    groups : sequence of str
        Group columns (``overall`` included by the caller).
    reason : str
        Why, e.g. ``"no graded adverse events in the CDM"``; kept in ``strata_level`` (with
        ``strata_name="reason"``) so a report can show it, as the study runner does.

    Returns
    -------
    pandas.DataFrame
        Records with ``variable="status"``, ``variable_level="not available"``,
        ``estimate_name="status"``, ``estimate_type="character"`` and NaN value: a reader sees
        "not available", never a count of 0.
    """
    return pd.DataFrame(
        {
            "analysis": analysis,
            "group": list(groups),
            "strata_name": "reason",
            "strata_level": _clean(reason),
            "variable": "status",
            "variable_level": NOT_AVAILABLE,
            "estimate_name": "status",
            "estimate_type": "character",
            "value": np.nan,
            "margin": "",
        },
        columns=list(RECORD_COLUMNS),
    )
