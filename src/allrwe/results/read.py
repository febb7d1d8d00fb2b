"""Read a run's results back into Python: :func:`read`, :func:`tidy` and :func:`km_curve`.

Only the shareable output is read (``results.csv``); never ``patient_level/``.

Examples
--------
>>> from allrwe.results import read, km_curve            # doctest: +SKIP
>>> km_curve(read("out/"), "os")                         # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from allrwe.errors import UsageError
from allrwe.results.model import KEY_COLUMNS

__all__ = ["RESULTS_FILE", "km_curve", "read", "tidy"]

#: the records file every run writes
RESULTS_FILE = "results.csv"

_KEYS = (*KEY_COLUMNS, "estimate_name", "estimate_type")


def read(out_dir: str | Path) -> pd.DataFrame:
    """Return the records of a run's output folder, one row per estimate.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The ``--out`` folder of ``allrwe run`` (or ``run_study``).

    Returns
    -------
    pandas.DataFrame
        The columns of ``results.csv``: key columns as strings, ``value`` as float (NaN when
        suppressed), ``suppressed`` as bool. ``attrs["provenance"]`` holds
        ``provenance.json`` when the folder has it.

    Raises
    ------
    UsageError
        The folder has no ``results.csv``, or the file lacks a column.
    """
    folder = Path(out_dir)
    path = folder / RESULTS_FILE
    if not path.is_file():
        raise UsageError(f"{str(folder)!r} holds no {RESULTS_FILE}: not an allrwe run's output")
    frame = pd.read_csv(
        path, dtype=dict.fromkeys(_KEYS, "string"), keep_default_na=False, na_values={"value": [""]}
    )
    missing = [c for c in (*_KEYS, "value", "suppressed") if c not in frame.columns]
    if missing:
        raise UsageError(f"{path} lacks column(s) {', '.join(missing)} ({len(frame)} rows)")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["suppressed"] = frame["suppressed"].astype(str).str.upper().eq("TRUE")
    provenance = folder / "provenance.json"
    if provenance.is_file():
        frame.attrs["provenance"] = json.loads(provenance.read_text(encoding="utf-8"))
    return frame


def tidy(records: pd.DataFrame, analysis: str) -> pd.DataFrame:
    """Return one analysis with one column per estimate name (wide form).

    Parameters
    ----------
    records : pandas.DataFrame
        What :func:`read` returns.
    analysis : str
        An analysis name, e.g. ``"survival_summary"`` or ``"response"``.

    Returns
    -------
    pandas.DataFrame
        Index columns ``group``, ``strata_name``, ``strata_level``, ``variable``,
        ``variable_level``; one float column per estimate name.

    Raises
    ------
    UsageError
        The records hold no such analysis.
    """
    rows = records[records["analysis"] == analysis]
    if rows.empty:
        known = ", ".join(sorted(records["analysis"].unique()))
        raise UsageError(f"no analysis {analysis!r} in the results; there are: {known}")
    index = [c for c in KEY_COLUMNS if c != "analysis"]
    values = rows.groupby([*index, "estimate_name"], sort=True, dropna=False)["value"].first()
    wide = values.unstack("estimate_name")
    wide.columns.name = None
    return wide.reset_index()


def km_curve(
    records: pd.DataFrame, variable: str, *, analysis: str = "survival_curve"
) -> pd.DataFrame:
    """Return a Kaplan-Meier (or cumulative-incidence) curve with numeric, sorted times.

    Parameters
    ----------
    records : pandas.DataFrame
        What :func:`read` returns.
    variable : str
        The outcome, e.g. ``"os"`` or ``"dor"``.
    analysis : str, default "survival_curve"
        ``"cumulative_incidence_curve"`` for cumulative incidence.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``strata_name``, ``strata_level``, ``time_days`` (float) and one column per
        estimate (``survival``, ``lower``, ``upper`` for a KM curve), sorted by group, strata
        and time.
    """
    wide = tidy(records, analysis)
    wide = wide[wide["variable"] == variable]
    if wide.empty:
        raise UsageError(f"no {analysis} of {variable!r} in the results")
    wide = wide.assign(time_days=pd.to_numeric(wide["variable_level"], errors="coerce"))
    wide = wide.drop(columns=["variable", "variable_level"])
    keys = ["group", "strata_name", "strata_level", "time_days"]
    ordered = keys + [c for c in wide.columns if c not in keys]
    return wide[ordered].sort_values(keys, kind="stable").reset_index(drop=True)
