"""Groups formed after index (e.g. HSCT): split at the switch, landmark, Simon–Makuch curves.

A person who switches (receives a transplant) on day ``s`` after index is "not switched" on
(entry, s] and "switched" on (s, end], the rule of R's ``tmerge(..., tdc(s))``:

- a switch at or before the entry day makes the whole follow-up switched (one row);
- a switch on or after the last day changes nothing (one row, not switched), so an event on
  the day of the switch counts before it;
- otherwise two rows; only the second carries the event.

The split rows feed :func:`~allrwe.analyses.survival.cox` (time-dependent covariate,
Mantel–Byar), :func:`~allrwe.analyses.survival.logrank` with ``entry`` and the Simon–Makuch
curves (:func:`simon_makuch`). A landmark analysis (:func:`landmark`) instead fixes the group
at a landmark day among those still followed then.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.survival._confint import ConfType
from allrwe.analyses.survival._inputs import as_entry, as_event, as_time, as_weights
from allrwe.analyses.survival.km import KaplanMeierResult, kaplan_meier_by
from allrwe.errors import AnalysisError

__all__ = ["landmark", "simon_makuch", "split_at_switch"]


def _switch_times(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size != n:
        raise AnalysisError(f"{name} has {arr.size} rows but time has {n}")
    if (arr[~np.isnan(arr)] < 0).any() or np.isinf(arr).any():
        bad = int((arr[~np.isnan(arr)] < 0).sum() + np.isinf(arr).sum())
        raise AnalysisError(f"{name} has {bad} negative or infinite value(s); NaN = no switch")
    return arr


def split_at_switch(
    time: Any,
    event: Any,
    switch: Any,
    *,
    entry: Any = None,
    person: Any = None,
) -> pd.DataFrame:
    """Split each person's follow-up at the switch day into (start, stop] rows.

    Parameters
    ----------
    time : array_like
        Last day of follow-up per person (event or censoring), counted from index.
    event : array_like
        1/True = the event at ``time``.
    switch : array_like
        Day of the switch (e.g. HSCT) per person; NaN = never switched.
    entry : array_like, optional
        Start of follow-up per person (default 0).
    person : array_like, optional
        Person id per row (default 0..n-1), copied to the output.

    Returns
    -------
    pandas.DataFrame
        Columns ``person``, ``start``, ``stop``, ``event`` (0/1) and ``switched`` (0/1), one
        or two rows per person, in input order (the rule is in the module docstring).

    Raises
    ------
    AnalysisError
        If the lengths differ, a time is invalid, or an entry is not before its time.
    """
    t = as_time(time)
    e = as_event(event, t.size).astype(np.int64)
    s = _switch_times(switch, t.size, "switch")
    start = np.zeros(t.size) if entry is None else as_entry(entry, t)
    ids = np.arange(t.size) if person is None else np.asarray(person)
    from_start = ~np.isnan(s) & (s <= start)
    split = ~np.isnan(s) & (s > start) & (s < t)
    first = pd.DataFrame({
        "person": ids, "start": start, "stop": np.where(split, s, t),
        "event": np.where(split, 0, e), "switched": from_start.astype(np.int64),
        "_order": np.arange(t.size), "_part": 0,
    })  # fmt: skip
    second = pd.DataFrame({
        "person": ids[split], "start": s[split], "stop": t[split], "event": e[split],
        "switched": 1, "_order": np.flatnonzero(split), "_part": 1,
    })  # fmt: skip
    rows = pd.concat([first, second], ignore_index=True).sort_values(["_order", "_part"])
    return rows.drop(columns=["_order", "_part"]).reset_index(drop=True)


def simon_makuch(
    time: Any,
    event: Any,
    switch: Any,
    *,
    entry: Any = None,
    weights: Any = None,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
) -> dict[int, KaplanMeierResult]:
    """Simon–Makuch curves: Kaplan–Meier by current switch status, from the split rows.

    Each person is at risk in the "not switched" curve until the switch and in the
    "switched" curve after it, so the switched curve starts at the first switch day with
    those then at risk (R: ``survfit(Surv(tstart, tstop, death) ~ transplant)`` on the rows of
    ``tmerge``).

    Parameters
    ----------
    time, event, switch, entry : array_like
        As for :func:`split_at_switch`.
    weights : array_like, optional
        Weight per person (e.g. IPTW), carried to both of a person's rows. Non-integer
        weights give the IJ variance, exact here because a person has one row per curve.
    conf_type : str, default "log-log"
        Interval transform.
    conf_level : float, default 0.95
        Interval coverage.

    Returns
    -------
    dict of int to KaplanMeierResult
        ``0`` = not (yet) switched, ``1`` = switched (absent if nobody switched before the
        end of follow-up).

    Raises
    ------
    AnalysisError
        If the inputs are invalid.

    References
    ----------
    Simon R, Makuch RW (1984). A non-parametric graphical representation of the relationship
    between survival and the occurrence of an event: application to responder versus
    non-responder bias. Stat Med 3:35–44.
    """
    rows = split_at_switch(time, event, switch, entry=entry)
    w = None
    if weights is not None:
        w = as_weights(weights, int(rows["person"].max()) + 1)[rows["person"].to_numpy()]
    curves = kaplan_meier_by(
        rows["stop"], rows["event"], rows["switched"], entry=rows["start"], weights=w,
        conf_type=conf_type, conf_level=conf_level,
    )  # fmt: skip
    return {int(k): v for k, v in curves.items()}


def landmark(time: Any, event: Any, switch: Any, *, at: float) -> pd.DataFrame:
    """Landmark data set: persons still followed after day ``at``, grouped by switch by then.

    Parameters
    ----------
    time, event, switch : array_like
        As for :func:`split_at_switch`.
    at : float
        Landmark day (from index).

    Returns
    -------
    pandas.DataFrame
        One row per kept person: ``row`` (position in the input), ``time`` (days from the
        landmark), ``event`` (0/1) and ``switched`` (1 if the switch day is <= ``at``). A
        person is kept when ``time > at``: someone with the event or censored on the landmark
        day is not at risk after it. Fit :func:`~allrwe.analyses.survival.kaplan_meier_by`,
        :func:`~allrwe.analyses.survival.logrank` or ``cox`` on it.

    Raises
    ------
    AnalysisError
        If the inputs are invalid, ``at`` is negative, or nobody is followed after ``at``.
    """
    t = as_time(time)
    e = as_event(event, t.size).astype(np.int64)
    s = _switch_times(switch, t.size, "switch")
    if not np.isfinite(at) or at < 0:
        raise AnalysisError(f"landmark day must be finite and >= 0; got {at!r}")
    keep = t > at
    if not keep.any():
        raise AnalysisError(f"landmark: nobody of {t.size} is followed after day {at:g}")
    switched = ~np.isnan(s) & (s <= at)
    return pd.DataFrame({
        "row": np.flatnonzero(keep), "time": t[keep] - at, "event": e[keep],
        "switched": switched[keep].astype(np.int64),
    })  # fmt: skip
