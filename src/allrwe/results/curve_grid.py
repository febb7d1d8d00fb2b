"""Curves on a fixed grid of days: how ``summarised_result`` publishes a step curve.

The rule: a curve (the records of one analysis, group, strata and variable, with the time
in days as ``variable_level``) is read at days ``0, g, 2g, ...`` up to its last time; at each
grid day every estimate takes its value at the last curve time at or before that day, and
before the first curve time the value a curve starts from (1 for survival, 0 for a
cumulative incidence). A time counts as a curve time for the values only where some
estimate is known there (not NaN); an estimate at a curve time where it alone is unknown
reads as unknown. A grid point is suppressed when the curve point it reads is.

:func:`curve_on_grid` reads one curve; :func:`curve_records` all the curves of a records
table at once, in array operations (one pass per curve, no table reshaping per curve),
which the export of a large study needs: a run publishes hundreds of curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CURVE_GRID_DAYS", "curve_on_grid", "curve_records"]

#: days between two published points of a survival or cumulative-incidence curve
CURVE_GRID_DAYS = 30

#: the key of one curve
_CURVE_KEYS = ["analysis", "group", "strata_name", "strata_level", "variable"]
#: an estimate that repeats the time and is not published as a column of its own
_TIME = "time_days"


def _pivot(
    times: np.ndarray, names: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the sorted curve times, the sorted estimate names and the table of values.

    Each cell holds the first known value recorded at that time for that estimate (NaN
    where none is); times and names with no known value at all are left out.
    """
    known = ~np.isnan(values)
    times, names, values = times[known], names[known], values[known]
    t_unique, t_code = np.unique(times, return_inverse=True)
    n_unique, n_code = np.unique(names, return_inverse=True)
    table = np.full((len(t_unique), len(n_unique)), np.nan)
    _, first = np.unique(t_code * max(len(n_unique), 1) + n_code, return_index=True)
    table[t_code[first], n_code[first]] = values[first]
    return t_unique, n_unique, table


def _read(times: np.ndarray, table: np.ndarray, grid: np.ndarray, before: float) -> np.ndarray:
    """Read the step table at the grid days: rows per grid day, a column per estimate."""
    at = np.searchsorted(times, grid, side="right") - 1
    return np.where((at >= 0)[:, None], table[np.maximum(at, 0)], before)


def _grid(times: np.ndarray, grid_days: int) -> np.ndarray:
    return np.arange(0, int(times.max()) + 1, grid_days, dtype=np.int64)


def curve_on_grid(
    rows: pd.DataFrame, *, grid_days: int = CURVE_GRID_DAYS, before: float = np.nan
) -> pd.DataFrame:
    """Read a step curve at days ``0, grid_days, 2 * grid_days, ...`` up to its last time.

    Parameters
    ----------
    rows : pandas.DataFrame
        The records of one curve (one analysis, group, strata and variable): ``variable_level``
        holds the time in days, ``estimate_name`` the estimate, ``value`` its value.
    grid_days : int
        Spacing of the grid.
    before : float, default NaN
        The value before the first curve time (1 for survival, 0 for cumulative incidence).

    Returns
    -------
    pandas.DataFrame
        Columns ``time_days`` (int) and one per estimate name (float): at each grid time the
        value of the last curve time at or before it; before the first curve time, ``before``.

    Examples
    --------
    >>> rows = pd.DataFrame({"variable_level": ["0", "0", "45", "45"],
    ...                      "estimate_name": ["survival", "time_days"] * 2,
    ...                      "value": [1.0, 0.0, 0.5, 45.0]})
    >>> curve_on_grid(rows).to_dict("list")
    {'time_days': [0, 30], 'survival': [1.0, 1.0]}
    """
    times = pd.to_numeric(rows["variable_level"], errors="coerce").to_numpy(dtype="float64")
    timed = ~np.isnan(times)
    names = rows["estimate_name"].to_numpy(dtype=object)[timed]
    values = rows["value"].to_numpy(dtype="float64")[timed]
    t_unique, n_unique, table = _pivot(times[timed], names, values)
    columns = [j for j, name in enumerate(n_unique.tolist()) if name != _TIME]
    if not len(t_unique) or not columns:
        return pd.DataFrame({"time_days": pd.Series(dtype="int64")})
    grid = _grid(t_unique, grid_days)
    read = _read(t_unique, table[:, columns], grid, before)
    out: dict[str, Any] = {"time_days": grid}
    for k, j in enumerate(columns):
        out[str(n_unique[j])] = read[:, k]
    return pd.DataFrame(out)


def curve_records(records: pd.DataFrame, *, grid_days: int = CURVE_GRID_DAYS) -> pd.DataFrame:
    """Return the curve records re-sampled on the grid, in allrwe's record columns.

    Parameters
    ----------
    records : pandas.DataFrame
        Records of ``*_curve`` analyses (published: hidden values NaN, ``suppressed`` set).
    grid_days : int
        Spacing of the grid.

    Returns
    -------
    pandas.DataFrame
        Per curve (in the order of their keys), per estimate (in name order) and grid day:
        ``time_days``, ``estimate_name``, ``value``, ``suppressed``, the curve's key columns,
        ``variable_level`` (None) and ``estimate_type`` (``"numeric"``).
    """
    grouped = records.groupby(_CURVE_KEYS, sort=True)
    if grouped.ngroups == 0:
        return records.iloc[0:0].assign(time_days=pd.Series(dtype="int64"))
    ids = grouped.ngroup().to_numpy()
    order = np.argsort(ids, kind="stable")
    bounds = np.searchsorted(ids[order], np.arange(grouped.ngroups + 1))
    times = pd.to_numeric(records["variable_level"], errors="coerce").to_numpy(dtype="float64")
    names = records["estimate_name"].to_numpy(dtype=object)
    values = records["value"].to_numpy(dtype="float64")
    flags = records["suppressed"].astype("float64").to_numpy()
    key_values = [records[c].to_numpy(dtype=object) for c in _CURVE_KEYS]
    out: dict[str, list[Any]] = {c: [] for c in ("time_days", "estimate_name", "value", "flag")}
    keys: list[list[str]] = [[] for _ in _CURVE_KEYS]
    for g in range(grouped.ngroups):
        rows = order[bounds[g] : bounds[g + 1]]
        rows = rows[~np.isnan(times[rows])]
        first = order[bounds[g]]
        # before its first event a survival curve is 1 and a cumulative incidence 0
        before = 1.0 if str(key_values[0][first]) == "survival_curve" else 0.0
        t_unique, n_unique, table = _pivot(times[rows], names[rows], values[rows])
        columns = [j for j, name in enumerate(n_unique.tolist()) if name != _TIME]
        if not len(t_unique) or not columns:
            continue
        grid = _grid(t_unique, grid_days)
        read = _read(t_unique, table[:, columns], grid, before)
        # a grid point is suppressed when the curve point it reads is
        f_unique, f_names, f_table = _pivot(times[rows], names[rows], flags[rows])
        f_column = {name: j for j, name in enumerate(f_names.tolist())}
        f_read = _read(f_unique, f_table, grid, 0.0)
        chosen = [str(n_unique[j]) for j in columns]
        for k, name in enumerate(chosen):
            j = f_column.get(name)
            out["flag"].append(f_read[:, j] if j is not None else np.zeros(len(grid)))
            out["value"].append(read[:, k])
        out["time_days"].append(np.tile(grid, len(chosen)))
        out["estimate_name"].append(np.repeat(np.array(chosen, dtype=object), len(grid)))
        size = len(grid) * len(chosen)
        for part, column in zip(keys, key_values, strict=True):
            part.extend([str(column[first])] * size)
    if not out["value"]:
        return _empty_grid()
    flag = np.nan_to_num(np.concatenate(out["flag"]), nan=0.0)
    frame = pd.DataFrame(
        {
            "time_days": np.concatenate(out["time_days"]).astype(np.int64),
            "estimate_name": np.concatenate(out["estimate_name"]),
            "value": np.concatenate(out["value"]).astype("float64"),
            "suppressed": flag > 0,
        }
    )
    for name, texts in zip(_CURVE_KEYS, keys, strict=True):
        frame[name] = texts
    frame["variable_level"] = None
    frame["estimate_type"] = "numeric"
    return frame


def _empty_grid() -> pd.DataFrame:
    """No curve with a known value: no grid rows (the record columns, nothing in them)."""
    frame = pd.DataFrame(
        {
            "time_days": pd.Series(dtype="int64"),
            "estimate_name": pd.Series(dtype="str"),
            "value": pd.Series(dtype="float64"),
            "suppressed": pd.Series(dtype=bool),
        }
    )
    for column in _CURVE_KEYS:
        frame[column] = pd.Series(dtype="str")
    frame["variable_level"] = None
    frame["estimate_type"] = pd.Series(dtype="str")
    return frame
