"""Number-at-risk tables of the survival and cumulative-incidence summaries.

Every ``risk_table_months`` months from 0 to the last time: the persons at risk (time >= the
month), and the events and censorings up to it (``*_risk_table`` records, counts).
"""

from __future__ import annotations

import numpy as np

from allrwe.analyses.outcomes._records import COUNT, Records, labels, table_keys
from allrwe.analyses.survival import DAYS_PER_MONTH

__all__ = ["risk_counts", "risk_table_records"]


def risk_counts(
    time: np.ndarray, event: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the months of a risk table and the counts at each.

    Parameters
    ----------
    time : numpy.ndarray
        Times in days.
    event : numpy.ndarray
        Whether each time is an event (else censored).
    step : float
        Spacing in months; the table runs from 0 to the last time.

    Returns
    -------
    months, n_risk, n_event, n_censor : numpy.ndarray
        At risk at each month (time >= month), events and censorings up to it (time <= month).

    Examples
    --------
    >>> m, r, e, c = risk_counts(np.array([10.0, 40.0, 100.0]), np.array([True, False, True]), 1)
    >>> m.tolist(), r.tolist(), e.tolist(), c.tolist()
    ([0.0, 1.0, 2.0, 3.0], [3, 2, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1])
    """
    if not time.size:
        empty = np.zeros(0, dtype="int64")
        return np.zeros(0), empty, empty, empty
    last = float(time.max())
    months = np.arange(0.0, (last / DAYS_PER_MONTH) + step, step)
    days = months * DAYS_PER_MONTH
    keep = days <= last
    months, days = months[keep], days[keep]
    every = np.sort(time)
    n_risk = time.size - np.searchsorted(every, days, side="left")
    n_event = np.searchsorted(np.sort(time[event]), days, side="right")
    n_censor = np.searchsorted(np.sort(time[~event]), days, side="right")
    return months, n_risk, n_event, n_censor


def risk_table_records(rec: Records, key: tuple[str, ...], time: np.ndarray, event: np.ndarray,
                       step: float) -> None:  # fmt: skip
    """Add a number-at-risk table: ``key`` is ``(analysis, group, strata_name, level, var)``."""
    analysis, group, name, level, var = key
    months, n_risk, n_event, n_censor = risk_counts(time, event, step)
    rec.add_table(
        table_keys((group, name, level, var)),
        [f"{m} months" for m in labels(months)],
        [(analysis, "n_risk", COUNT, n_risk), (analysis, "n_event", COUNT, n_event),
         (analysis, "n_censor", COUNT, n_censor)],
    )  # fmt: skip
