"""Checking and normalising the inputs of :func:`~allrwe.analyses.pathways.compute_pathways`.

Dates become integer day numbers (days since 1970-01-01) so every later step is plain integer
arithmetic, which is also how TreatmentPatterns counts days (``end − start``, no +1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.errors import AnalysisError

__all__ = [
    "ANCHORS",
    "EVENT_COLUMNS",
    "FILTERS",
    "OVERLAP_METHODS",
    "TARGET_COLUMNS",
    "check_settings",
    "read_events",
    "read_targets",
]

EVENT_COLUMNS = ("person_id", "name", "start_date", "end_date")
TARGET_COLUMNS = ("person_id", "start_date", "end_date")
FILTERS = ("first", "changes", "all")
OVERLAP_METHODS = ("truncate", "keep")
ANCHORS = ("start_date", "end_date")

#: settings that are day counts or lengths and may not be negative
_NON_NEGATIVE = (
    "era_collapse_days",
    "combination_window_days",
    "min_era_days",
    "min_post_combination_days",
    "split_days",
)


def _materialise(table: Any, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Return the needed columns of a pandas DataFrame or Ibis table as a pandas DataFrame."""
    if isinstance(table, pd.DataFrame):
        _require_columns(list(table.columns), columns, what)
        return table.loc[:, list(columns)]
    # Imported here so that pandas-only callers do not pay for importing Ibis.
    import ibis.expr.types as ir

    if isinstance(table, ir.Table):
        _require_columns(list(table.columns), columns, what)
        # The one round trip to the engine: the concept filtering that made this cohort
        # already ran there, so only the few columns of a small cohort table come back.
        # Through Arrow, because Ibis's own pandas conversion trips a pandas 3 deprecation.
        arrow = table.select(*columns).to_pyarrow()
        return arrow.to_pandas(date_as_object=False)
    raise AnalysisError(
        f"{what}: expected a pandas DataFrame or an Ibis table, got {type(table).__name__}"
    )


def _require_columns(present: list[str], needed: Sequence[str], what: str) -> None:
    missing = [c for c in needed if c not in present]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise AnalysisError(
            f"{what}: missing column(s) {listed}; expected columns {', '.join(needed)}"
        )


def _to_days(values: pd.Series, column: str, what: str) -> np.ndarray:
    """Return a date column as int64 days since 1970-01-01, rejecting non-dates."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    try:
        if pd.api.types.is_datetime64_dtype(values.dtype):
            days = values.to_numpy().astype("datetime64[D]")
        else:
            # numpy reads datetime.date, datetime.datetime, Timestamps and ISO strings alike,
            # and, unlike nanosecond pandas timestamps, dates such as 9999-12-31.
            days = np.asarray(values.to_numpy(dtype=object), dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            f"{what}: column {column!r} does not hold dates ({type(exc).__name__}: {exc})"
        ) from exc
    return days.astype("int64")


def _check_no_missing(frame: pd.DataFrame, what: str) -> None:
    for column in frame.columns:
        n_missing = int(frame[column].isna().sum())
        if n_missing:
            raise AnalysisError(f"{what}: {n_missing} row(s) have a missing {column}")


def _read_dated(raw: pd.DataFrame, what: str) -> pd.DataFrame:
    """Check a materialised table and turn its date columns into day numbers."""
    _check_no_missing(raw, what)
    out = pd.DataFrame(
        {
            "person_id": raw["person_id"].to_numpy(),
            "start": _to_days(raw["start_date"], "start_date", what),
            "end": _to_days(raw["end_date"], "end_date", what),
        }
    )
    n_reversed = int((out["end"] < out["start"]).sum())
    if n_reversed:
        raise AnalysisError(f"{what}: {n_reversed} row(s) have end_date before start_date")
    return out


def read_targets(targets: Any) -> pd.DataFrame:
    """Return target episodes as ``person_id, start, end`` (int days), after checking them.

    Parameters
    ----------
    targets : pandas.DataFrame or ibis.expr.types.Table
        One row per target episode with ``person_id, start_date, end_date``.

    Returns
    -------
    pandas.DataFrame
        Columns ``person_id``, ``start``, ``end``; dates as days since 1970-01-01.

    Raises
    ------
    AnalysisError
        If a column is missing, holds missing values or non-dates, or an episode ends before
        it starts.
    """
    return _read_dated(_materialise(targets, TARGET_COLUMNS, "targets"), "targets")


def read_events(events: Any) -> pd.DataFrame:
    """Return event records as ``person_id, name, start, end`` (int days), after checking them.

    Parameters
    ----------
    events : pandas.DataFrame or ibis.expr.types.Table
        One row per treatment era or record with ``person_id, name, start_date, end_date``.

    Returns
    -------
    pandas.DataFrame
        Columns ``person_id``, ``name`` (str), ``start``, ``end``; dates as days since
        1970-01-01.

    Raises
    ------
    AnalysisError
        If a column is missing, holds missing values or non-dates, a record ends before it
        starts, or a name is empty or contains ``+`` (the combination separator).
    """
    what = "events"
    raw = _materialise(events, EVENT_COLUMNS, what)
    out = _read_dated(raw, what)
    out.insert(1, "name", _check_names(raw["name"], what))
    return out


def _check_names(raw: pd.Series, what: str) -> np.ndarray:
    text = raw.astype(str)
    n_empty = int((text.str.strip() == "").sum())
    if n_empty:
        raise AnalysisError(f"{what}: {n_empty} row(s) have an empty name")
    n_plus = int(text.str.contains("+", regex=False).sum())
    if n_plus:
        raise AnalysisError(
            f"{what}: {n_plus} row(s) have a name containing '+', which allrwe reserves for "
            "combinations (e.g. 'BLIN+INO'); rename the event cohort"
        )
    return text.to_numpy(dtype=object)


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check the analysis settings and return them normalised (lower-case choices, list exits).

    Parameters
    ----------
    settings : dict
        The keyword arguments of :func:`~allrwe.analyses.pathways.compute_pathways`.

    Returns
    -------
    dict
        The same settings, JSON-serialisable: ``filter`` lower-cased, ``exit_names`` a sorted
        list of str.

    Raises
    ------
    AnalysisError
        If a setting has the wrong type, an unknown value, or is negative where that makes no
        sense.
    """
    out = dict(settings)
    out.setdefault("split_days", 30)
    for key in (*_NON_NEGATIVE, "max_path_length", "window_start_days", "window_end_days"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise AnalysisError(f"{key} must be a whole number of days, got {value!r}")
        out[key] = int(value)
    for key in _NON_NEGATIVE:
        if out[key] < 0:
            raise AnalysisError(f"{key} must be 0 or more, got {out[key]}")
    if out["max_path_length"] < 1:
        raise AnalysisError(f"max_path_length must be 1 or more, got {out['max_path_length']}")
    out["filter"] = _choice(out["filter"], FILTERS, "filter", lower=True)
    out["overlap"] = _choice(out["overlap"], OVERLAP_METHODS, "overlap", lower=True)
    out["start_anchor"] = _choice(out["start_anchor"], ANCHORS, "start_anchor")
    out["end_anchor"] = _choice(out["end_anchor"], ANCHORS, "end_anchor")
    if not isinstance(out["concat_targets"], bool | np.bool_):
        raise AnalysisError(f"concat_targets must be True or False, got {out['concat_targets']!r}")
    out["concat_targets"] = bool(out["concat_targets"])
    out["exit_names"] = _exit_names(out["exit_names"])
    out["split_names"] = _exit_names(out.get("split_names", ()), "split_names")
    out["keep_names"] = _exit_names(out.get("keep_names", ()), "keep_names")

    if (
        out["start_anchor"] == out["end_anchor"]
        and out["window_start_days"] > out["window_end_days"]
    ):
        raise AnalysisError(
            f"window_start_days ({out['window_start_days']}) is after window_end_days "
            f"({out['window_end_days']}) with both anchored on {out['start_anchor']}: "
            "the window is empty for every target"
        )
    return out


def _choice(value: Any, allowed: tuple[str, ...], key: str, *, lower: bool = False) -> str:
    text = value.lower() if lower and isinstance(value, str) else value
    if text not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise AnalysisError(f"unknown {key} {value!r}; choose one of {options}")
    return str(text)


def _exit_names(value: Any, key: str = "exit_names") -> list[str]:
    if isinstance(value, str):
        raise AnalysisError(
            f"{key} must be a sequence of names, got the single string {value!r}; "
            f"write {key}=({value!r},)"
        )
    if not isinstance(value, Iterable):
        raise AnalysisError(f"{key} must be a sequence of names, got {value!r}")
    names = list(value)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise AnalysisError(f"{key} must hold str names, got {bad[0]!r}")
    return sorted(set(names))
