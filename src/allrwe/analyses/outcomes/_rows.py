"""Row builders shared by the endpoint modules."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes.response import AVAILABLE

__all__ = ["CARRIED", "ENDPOINT_COLUMNS", "censored", "dates", "endpoint_frame", "first_of"]

log = logging.getLogger(__name__)

#: Cohort columns carried into the endpoint rows (for strata).
CARRIED = ("index_date", "setting", "treatment_setting", "line_at_index", "age_at_index",
           "gender_concept_id")  # fmt: skip
#: Columns of :func:`~allrwe.analyses.outcomes.compute_endpoints` output.
ENDPOINT_COLUMNS = ("person_id", "group", "endpoint", "censor_variant", "status", "start_date",
                    "end_date", "time_days", "event", "cause", "reason", *CARRIED)  # fmt: skip


def first_of(days: list[np.ndarray], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Earliest day among candidate event days and its label (first label wins ties)."""
    stack = np.vstack(days)
    filled = np.where(np.isnan(stack), np.inf, stack)
    which = np.argmin(filled, axis=0)
    first = filled[which, np.arange(stack.shape[1])] if stack.size else np.zeros(0)
    has = np.isfinite(first)
    names = np.full(first.size, None, dtype=object)
    names[has] = np.asarray(labels, dtype=object)[which[has]]
    return np.where(has, first, np.nan), names


def endpoint_frame(
    t: pd.DataFrame,
    endpoint: str,
    variant: str,
    start: np.ndarray,
    stop: np.ndarray,
    cause: np.ndarray,
    reason: np.ndarray,
) -> pd.DataFrame:
    time = stop - start
    if np.any(time < 0):
        log.warning("%s: %d row(s) end before they start (death before index?); time set to 0",
                    endpoint, int((time < 0).sum()))  # fmt: skip
    out = pd.DataFrame(
        {
            "person_id": t["person_id"].to_numpy(dtype="int64"),
            "group": t["group"].to_numpy(),
            "endpoint": endpoint,
            "censor_variant": variant,
            "status": AVAILABLE,
            "start_date": dates(start),
            "end_date": dates(stop),
            "time_days": pd.array(np.maximum(time, 0), dtype="Int64"),
            "event": pd.array((cause > 0).astype("int64"), dtype="Int64"),
            "cause": pd.array(cause.astype("int64"), dtype="Int64"),
            "reason": reason.astype(object),
        }
    )
    for column in CARRIED:
        out[column] = t[column].to_numpy()
    return out


def dates(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days, dtype="int64").astype("timedelta64[D]") + np.datetime64("1970-01-01")
            ).astype("datetime64[s]")  # fmt: skip


def censored(t: pd.DataFrame, day: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, ...]:
    has = ~np.isnan(day)
    stop = np.where(has, day, t["end_day"].to_numpy())
    return stop, has.astype("int64"), np.where(has, label, t["end_reason"].to_numpy())
