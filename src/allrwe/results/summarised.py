"""Export to omopgenerics' ``summarised_result``: the shape DARWIN EU and OHDSI R tools read.

The column specification is omopgenerics' (``resultColumns()``; vignette "A summarised
result", darwin-eu/omopgenerics ``articles/summarised_result.md``): 13 character columns
(``result_id`` an integer), every field filled except ``variable_level``; name-level pairs
(``group``, ``strata``, ``additional``) with ``overall`` when there is none; ``estimate_name``
in snake_case; ``estimate_type`` one of ``estimateTypeChoices()``. The settings travel in the
same file as rows with ``variable_name == "settings"`` (as ``exportSummarisedResult`` writes
them), one row per setting and ``result_id``, with ``result_type``, ``package_name``,
``package_version``, ``group``, ``strata``, ``additional`` and ``min_cell_count``.

Mapping from allrwe's records (``docs/network.md`` has the table): one ``result_id`` per
analysis (``result_type`` is the analysis name), the group as ``cohort_name``, strata as
they are, counts as ``integer``, a suppressed value as ``-``. Curves (``*_curve``) are
published on a fixed grid of :data:`CURVE_GRID_DAYS` days, with the time as
``additional_name = "time"`` and ``additional_level`` its number of days; their per-event-time
count rows (``*_curve_counts``) are left out (the risk tables hold counts on a grid already).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allrwe import __version__
from allrwe.results.exports import publishable_records
from allrwe.results.model import ResultSet

__all__ = [
    "CURVE_GRID_DAYS",
    "SUMMARISED_COLUMNS",
    "SUMMARISED_FILE",
    "curve_on_grid",
    "to_summarised_result",
    "write_summarised_result",
]

#: omopgenerics' ``resultColumns()``, in order
SUMMARISED_COLUMNS = (
    "result_id",
    "cdm_name",
    "group_name",
    "group_level",
    "strata_name",
    "strata_level",
    "variable_name",
    "variable_level",
    "estimate_name",
    "estimate_type",
    "estimate_value",
    "additional_name",
    "additional_level",
)

#: the file written beside ``results.csv``
SUMMARISED_FILE = "summarised_result.csv"

#: days between two published points of a survival or cumulative-incidence curve
CURVE_GRID_DAYS = 30

#: allrwe estimate type -> omopgenerics estimate type
_TYPES = {
    "count": "integer",
    "numeric": "numeric",
    "percentage": "percentage",
    "date": "date",
    "character": "character",
}
#: estimate names of the survival curve, as CohortSurvival names them
_CURVE_NAMES = {
    "survival": "estimate",
    "lower": "estimate_95CI_lower",
    "upper": "estimate_95CI_upper",
}
_SUPPRESSED = "-"
_OVERALL = "overall"


def _snake(name: str) -> str:
    """Return ``name`` in snake_case (omopgenerics requires it of ``estimate_name``).

    Examples
    --------
    >>> _snake("n persons (95% CI)")
    'n_persons_95_ci'
    """
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "value"


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
    times = pd.to_numeric(rows["variable_level"], errors="coerce")
    wide = (
        rows.assign(_t=times)
        .dropna(subset=["_t"])
        .pivot_table(index="_t", columns="estimate_name", values="value", aggfunc="first")
        .sort_index()
    )
    wide = wide.drop(columns=[c for c in ("time_days",) if c in wide.columns])
    if wide.empty:
        return pd.DataFrame({"time_days": pd.Series(dtype="int64")})
    grid = np.arange(0, int(wide.index.max()) + 1, grid_days, dtype=np.int64)
    at = np.searchsorted(wide.index.to_numpy(dtype="float64"), grid, side="right") - 1
    out = {"time_days": grid}
    for column in wide.columns:
        values = wide[column].to_numpy(dtype="float64")
        out[str(column)] = np.where(at >= 0, values[np.maximum(at, 0)], before)
    return pd.DataFrame(out)


def _curve_records(records: pd.DataFrame) -> pd.DataFrame:
    """Return the curve records re-sampled on the grid, in allrwe's record columns."""
    parts = []
    keys = ["analysis", "group", "strata_name", "strata_level", "variable"]
    for key, rows in records.groupby(keys, sort=True):
        # before its first event a survival curve is 1 and a cumulative incidence 0
        wide = curve_on_grid(rows, before=1.0 if key[0] == "survival_curve" else 0.0)
        long = wide.melt(id_vars="time_days", var_name="estimate_name", value_name="value")
        values: dict[str, Any] = {k: str(v) for k, v in zip(keys, key, strict=True)}
        long = long.assign(**values)
        long["variable_level"] = None
        long["estimate_type"] = "numeric"
        long["suppressed"] = long["value"].isna()
        parts.append(long)
    if not parts:
        return records.iloc[0:0].assign(time_days=pd.Series(dtype="int64"))
    return pd.concat(parts, ignore_index=True)


def _values(records: pd.DataFrame) -> pd.Series:
    values = records["value"].astype("float64")
    is_count = records["estimate_type"].eq("count")
    text = values.map(lambda v: f"{v:.10g}")
    text[is_count] = values[is_count].map(lambda v: f"{v:.0f}")
    text[records["suppressed"].astype(bool) | values.isna()] = _SUPPRESSED
    return text


def _rows(records: pd.DataFrame, ids: dict[str, int], cdm_name: str) -> pd.DataFrame:
    group = records["group"].astype(str)
    is_overall = group.eq(_OVERALL)
    time = records["time_days"] if "time_days" in records else pd.Series(np.nan, records.index)
    has_time = time.notna()
    names = records["estimate_name"].astype(str)
    curve = records["analysis"].eq("survival_curve")
    names[curve] = names[curve].map(lambda n: _CURVE_NAMES.get(n, n))
    return pd.DataFrame(
        {
            "result_id": records["analysis"].map(ids).astype("int64"),
            "cdm_name": cdm_name,
            "group_name": np.where(is_overall, _OVERALL, "cohort_name"),
            "group_level": group,
            "strata_name": records["strata_name"].astype(str).map(_snake_pair),
            "strata_level": records["strata_level"].astype(str),
            "variable_name": records["variable"].astype(str),
            "variable_level": records["variable_level"],
            "estimate_name": names.map(_snake),
            "estimate_type": records["estimate_type"].map(_TYPES),
            "estimate_value": _values(records),
            "additional_name": np.where(has_time, "time", _OVERALL),
            "additional_level": np.where(
                has_time, time.map(lambda t: f"{t:.0f}" if pd.notna(t) else ""), _OVERALL
            ),
        },
        columns=list(SUMMARISED_COLUMNS),
    )


def _snake_pair(name: str) -> str:
    return name if name == _OVERALL else " &&& ".join(_snake(p) for p in name.split("&&&"))


def _settings(records: pd.DataFrame, ids: dict[str, int], results: ResultSet) -> pd.DataFrame:
    suppression = results.provenance.suppression
    minimum = str(suppression.min_cell_count) if suppression is not None else ""
    rows = []
    for analysis, result_id in ids.items():
        mine = records[records["analysis"].eq(analysis)]
        strata = sorted({s for s in mine["strata_name"].astype(str) if s != _OVERALL})
        settings = {
            "result_type": analysis,
            "package_name": "allrwe",
            "package_version": __version__,
            "group": "cohort_name",
            "strata": " &&& ".join(_snake(s) for s in strata),
            "additional": "time" if analysis.endswith("_curve") else "",
            "min_cell_count": minimum,
            "study_spec_hash": results.provenance.spec_hash,
        }
        for name, value in settings.items():
            rows.append(
                {
                    "result_id": result_id,
                    "cdm_name": None,
                    "group_name": _OVERALL,
                    "group_level": _OVERALL,
                    "strata_name": _OVERALL,
                    "strata_level": _OVERALL,
                    "variable_name": "settings",
                    "variable_level": None,
                    "estimate_name": name,
                    "estimate_type": "character",
                    "estimate_value": value,
                    "additional_name": _OVERALL,
                    "additional_level": _OVERALL,
                }
            )
    return pd.DataFrame(rows, columns=list(SUMMARISED_COLUMNS))


def to_summarised_result(results: ResultSet, *, cdm_name: str) -> pd.DataFrame:
    """Return suppressed results as omopgenerics' ``summarised_result``, settings included.

    Parameters
    ----------
    results : ResultSet
        Suppressed results (as every export, this refuses unsuppressed ones).
    cdm_name : str
        The CDM's name (``cdm_source.cdm_source_name``, or the source's description).

    Returns
    -------
    pandas.DataFrame
        The 13 columns of :data:`SUMMARISED_COLUMNS`: the records, then the settings rows.
    """
    records = publishable_records(results)
    records = records[~records["analysis"].str.endswith("_curve_counts")]
    is_curve = records["analysis"].str.endswith("_curve")
    records = pd.concat([records[~is_curve], _curve_records(records[is_curve])], ignore_index=True)
    ids = {name: i for i, name in enumerate(sorted(records["analysis"].unique()), start=1)}
    table = _rows(records, ids, cdm_name)
    return pd.concat([table, _settings(records, ids, results)], ignore_index=True)


def write_summarised_result(results: ResultSet, out_dir: str | Path, *, cdm_name: str) -> Path:
    """Write :func:`to_summarised_result` to ``out_dir/summarised_result.csv``.

    Returns
    -------
    pathlib.Path
        The file written (UTF-8, ``NA`` for a missing field as R writes it).
    """
    path = Path(out_dir) / SUMMARISED_FILE
    frame = to_summarised_result(results, cdm_name=cdm_name)
    frame.to_csv(path, index=False, na_rep="NA", lineterminator="\n")
    return path
