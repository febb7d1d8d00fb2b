"""Reading assigned lines of therapy: one row per person and line, and the line at a date.

:func:`~allrwe.cohort.lines.assign_lines` applies the rules; this module only summarises its
output (:func:`summarise_lines`) and looks a line up (:func:`line_at`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from allrwe.cohort.lines import day_numbers

__all__ = ["LINE_SUMMARY_COLUMNS", "line_at", "summarise_lines"]

#: The columns of :func:`summarise_lines`, in order.
LINE_SUMMARY_COLUMNS = (
    "person_id",
    "line",
    "start_date",
    "end_date",
    "regimen",
    "n_events",
    "has_transplant",
    "start_reason",
)


def _regimens(number: np.ndarray, drug: pd.Series, n_lines: int) -> np.ndarray:
    """Return each line's distinct drug names, sorted and joined with ``+``.

    Parameters
    ----------
    number : numpy.ndarray
        The row (0 to ``n_lines - 1``) of each event's person and line in the summary.
    drug : pandas.Series
        The drug name of each event.
    n_lines : int
        The number of lines.
    """
    code, uniques = pd.factorize(drug)
    names = [str(name) for name in uniques]
    taken = np.zeros((n_lines, len(names)), dtype=bool)
    taken[number, code] = True
    # Lines share few distinct regimens: name each distinct row of drugs once.
    combos, which = np.unique(taken, axis=0, return_inverse=True)
    labels = ["+".join(sorted(names[j] for j in np.flatnonzero(row))) for row in combos]
    return np.asarray(labels, dtype=object)[which.reshape(-1)]


def _first_reasons(number: np.ndarray, reason: np.ndarray, n_lines: int) -> np.ndarray:
    """Return the first non-empty reason of each line's events (in event order), else ``""``."""
    out = np.full(n_lines, "", dtype=object)
    given = np.flatnonzero(reason != "")
    lines, first = np.unique(number[given], return_index=True)
    out[lines] = reason[given[first]]
    return out


def summarise_lines(assigned: pd.DataFrame) -> pd.DataFrame:
    """One row per person and line: start, end, regimen and why the line started.

    Parameters
    ----------
    assigned : pandas.DataFrame
        The result of :func:`assign_lines`.

    Returns
    -------
    pandas.DataFrame
        ``person_id, line, start_date, end_date`` (latest event end), ``regimen`` (distinct drug
        names of the line, sorted, joined with ``+``), ``n_events``, ``has_transplant`` and
        ``start_reason``.
    """
    if assigned.empty:
        return pd.DataFrame(columns=list(LINE_SUMMARY_COLUMNS))
    g = assigned.groupby(["person_id", "line"], sort=True)
    out = g.agg(
        start_date=("start_date", "min"),
        end_date=("end_date", "max"),
        n_events=("drug", "size"),
    ).reset_index()
    number = g.ngroup().to_numpy()
    out["regimen"] = _regimens(number, assigned["drug"], len(out))
    out["has_transplant"] = g["is_transplant"].any().to_numpy()
    out["start_reason"] = _first_reasons(
        number, assigned["reason"].to_numpy(dtype=object), len(out)
    )
    return out[list(LINE_SUMMARY_COLUMNS)]


def line_at(assigned: pd.DataFrame, keys: Iterable[tuple[int, str, Any]]) -> list[int | None]:
    """Return the line of the event of each ``(person_id, concept_set, start_date)``.

    When no event has exactly that set and date, the line of the person's latest event starting
    on or before the date is returned, and ``None`` when there is none.
    """
    wanted = pd.DataFrame(list(keys), columns=["person_id", "concept_set", "date"])
    if assigned.empty:
        return [None] * len(wanted)
    ev = pd.DataFrame(
        {
            "person_id": assigned["person_id"].to_numpy(dtype="int64"),
            "concept_set": assigned["concept_set"].astype(str).to_numpy(),
            "day": day_numbers(assigned["start_date"]),
            "line": assigned["line"].to_numpy(dtype="int64"),
        }
    )
    at = pd.DataFrame(
        {
            "person_id": wanted["person_id"].to_numpy(dtype="int64"),
            "concept_set": wanted["concept_set"].astype(str).to_numpy(),
            "day": day_numbers(wanted["date"]),
        }
    )
    line = _exact_lines(ev, at)
    missing = np.isnan(line)
    line[missing] = _latest_lines(ev, at[missing])
    return [None if np.isnan(x) else int(x) for x in line]


def _exact_lines(ev: pd.DataFrame, at: pd.DataFrame) -> np.ndarray:
    """Line of the event with each row's person, set and day (the last such event); else NaN."""
    on = ["person_id", "concept_set", "day"]
    exact = ev.drop_duplicates(on, keep="last")
    found = at.merge(exact, on=on, how="left")
    return found["line"].to_numpy(dtype="float64", copy=True)


def _latest_lines(ev: pd.DataFrame, at: pd.DataFrame) -> np.ndarray:
    """Highest line among each row's person's events on or before its day; else NaN."""
    if at.empty:
        return np.zeros(0, dtype="float64")
    per_day = ev.groupby(["person_id", "day"], sort=True)["line"].max().reset_index()
    per_day["line"] = per_day.groupby("person_id")["line"].cummax()
    left = at[["person_id", "day"]].reset_index(drop=True).assign(_pos=np.arange(len(at)))
    found = pd.merge_asof(
        left.sort_values("day", kind="mergesort"),
        per_day.sort_values("day", kind="mergesort"),
        on="day",
        by="person_id",
        direction="backward",
    )
    return found.sort_values("_pos")["line"].to_numpy(dtype="float64")
