"""Input checks and small array helpers shared by the survival estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from allrwe.errors import AnalysisError

__all__ = [
    "FloatArray",
    "as_entry",
    "as_event",
    "as_labels",
    "as_time",
    "as_weights",
    "reverse_cumsum",
    "sum_at_risk",
    "tally",
    "timefix",
    "timefix_counting",
]

FloatArray = npt.NDArray[np.float64]

#: R's ``sqrt(.Machine$double.eps)``, the tolerance of ``aeqSurv`` and ``quantile.survfit``
R_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


def _one_dim(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise AnalysisError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


def as_time(values: Any, *, name: str = "time") -> FloatArray:
    """Return follow-up times as a float array, rejecting missing, infinite or negative values.

    Parameters
    ----------
    values : array_like
        Times (any unit; allrwe uses days).
    name : str, default "time"
        Argument name for the message.

    Returns
    -------
    numpy.ndarray
        The times as ``float64``.

    Raises
    ------
    AnalysisError
        If the array is empty, not numeric, or has missing, infinite or negative values.
    """
    arr = _one_dim(values, name)
    if arr.size == 0:
        raise AnalysisError(f"{name} has 0 rows; at least one row is needed")
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric; got dtype {arr.dtype}") from exc
    bad = ~np.isfinite(out)
    if bad.any():
        raise AnalysisError(f"{name} has {int(bad.sum())} missing or infinite value(s)")
    negative = out < 0
    if negative.any():
        raise AnalysisError(f"{name} has {int(negative.sum())} negative value(s)")
    return out


def as_entry(values: Any, time: FloatArray, *, name: str = "entry") -> FloatArray:
    """Return entry (start) times of (start, stop] rows, each before its stop time.

    Parameters
    ----------
    values : array_like
        Entry times (>= 0), in the unit of ``time``.
    time : numpy.ndarray
        Stop times, already checked by :func:`as_time`.
    name : str, default "entry"
        Argument name for the message.

    Returns
    -------
    numpy.ndarray
        The entry times as ``float64``.

    Raises
    ------
    AnalysisError
        If the length differs from ``time``, a value is missing, infinite or negative, or an
        entry is not before its stop time.
    """
    arr = as_time(values, name=name)
    if arr.size != time.size:
        raise AnalysisError(f"{name} has {arr.size} rows but time has {time.size}")
    late = arr >= time
    if late.any():
        raise AnalysisError(
            f"{name} is not before the stop time in {int(late.sum())} row(s); "
            "a (start, stop] interval needs start < stop"
        )
    return arr


def timefix_counting(entry: FloatArray, time: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Merge near-equal start and stop times together, as R's ``aeqSurv`` does for (start, stop].

    Parameters
    ----------
    entry, time : numpy.ndarray
        Start and stop times of the same rows.

    Returns
    -------
    tuple of numpy.ndarray
        The start and stop times after merging.
    """
    both = timefix(np.concatenate((entry, time)))
    return both[: entry.size], both[entry.size :]


def sum_at_risk(
    at: FloatArray, entry: FloatArray, time: FloatArray, values: np.ndarray
) -> np.ndarray:
    """Return, for each time in ``at``, the sum of ``values`` over rows with entry < t <= time.

    Parameters
    ----------
    at : numpy.ndarray
        Times at which the risk set is taken.
    entry, time : numpy.ndarray
        Start and stop times of the rows.
    values : numpy.ndarray
        Per-row values (first axis = rows); any trailing shape is summed elementwise.

    Returns
    -------
    numpy.ndarray
        Sums over the risk set, first axis = ``at``.
    """

    def from_at(times: FloatArray) -> np.ndarray:
        order = np.argsort(times, kind="stable")
        tail = np.concatenate((reverse_cumsum(values[order]), np.zeros((1, *values.shape[1:]))))
        return tail[np.searchsorted(times[order], at, side="left")]

    return from_at(time) - from_at(entry)


def as_event(values: Any, n: int, *, name: str = "event") -> npt.NDArray[np.bool_]:
    """Return an event indicator as a boolean array (accepts booleans or 0/1 numbers).

    Parameters
    ----------
    values : array_like
        Event indicator, 1/True = event, 0/False = censored.
    n : int
        Expected length (the length of ``time``).
    name : str, default "event"
        Argument name for the message.

    Returns
    -------
    numpy.ndarray
        Boolean array of length ``n``.

    Raises
    ------
    AnalysisError
        If the length differs from ``n`` or a value is not 0/1.
    """
    arr = _one_dim(values, name)
    if arr.size != n:
        raise AnalysisError(f"{name} has {arr.size} rows but time has {n}")
    if arr.dtype == np.bool_:
        return arr.copy()
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be 0/1 or boolean; got dtype {arr.dtype}") from exc
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise AnalysisError(
            f"{name} must be 0/1 or boolean; {int(bad.sum())} row(s) have other values"
        )
    return num == 1.0


def as_weights(values: Any, n: int, *, name: str = "weights") -> FloatArray:
    """Return case weights as a float array (``None`` gives unit weights).

    Parameters
    ----------
    values : array_like or None
        Non-negative finite case weights.
    n : int
        Expected length.
    name : str, default "weights"
        Argument name for the message.

    Returns
    -------
    numpy.ndarray
        Weights as ``float64``.

    Raises
    ------
    AnalysisError
        If the length differs from ``n``, a weight is negative, missing or infinite, or all
        weights are zero.
    """
    if values is None:
        return np.ones(n)
    arr = _one_dim(values, name)
    if arr.size != n:
        raise AnalysisError(f"{name} has {arr.size} rows but time has {n}")
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric; got dtype {arr.dtype}") from exc
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        raise AnalysisError(f"{name} has {int(bad.sum())} negative, missing or infinite value(s)")
    if not (out > 0).any():
        raise AnalysisError(f"{name} are all zero ({n} rows)")
    return out


def as_labels(values: Any, n: int, *, name: str) -> np.ndarray:
    """Return group or stratum labels as a one-dimensional array of length ``n``.

    Parameters
    ----------
    values : array_like
        Labels of any sortable type.
    n : int
        Expected length.
    name : str
        Argument name for the message.

    Returns
    -------
    numpy.ndarray
        The labels.

    Raises
    ------
    AnalysisError
        If the length differs from ``n``.
    """
    arr = _one_dim(values, name)
    if arr.size != n:
        raise AnalysisError(f"{name} has {arr.size} rows but time has {n}")
    return arr


def timefix(time: FloatArray) -> FloatArray:
    """Merge times that differ only by floating-point noise, as R's ``aeqSurv`` does.

    ``survfit``, ``survdiff`` and ``coxph`` all apply this by default, so times such as
    ``0.1 + 0.2`` and ``0.3`` count as one tie there; doing the same keeps risk sets equal.

    Parameters
    ----------
    time : numpy.ndarray
        Finite times.

    Returns
    -------
    numpy.ndarray
        Times where each run of near-equal values is replaced by its smallest member.
    """
    uniq = np.unique(time)
    if uniq.size < 2:
        return time
    gaps = np.diff(uniq)
    with np.errstate(divide="ignore", invalid="ignore"):
        tied = (gaps <= R_TOLERANCE) | (gaps / np.mean(np.abs(uniq)) <= R_TOLERANCE)
    if not tied.any():
        return time
    cuts = uniq[np.concatenate(([True], ~tied))]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


def reverse_cumsum(values: np.ndarray) -> np.ndarray:
    """Return ``out[i] = sum(values[i:])`` along the first axis.

    Parameters
    ----------
    values : numpy.ndarray
        Array to sum.

    Returns
    -------
    numpy.ndarray
        The reverse cumulative sums.
    """
    return np.cumsum(values[::-1], axis=0)[::-1]


def tally(index: np.ndarray, weights: np.ndarray | None = None, minlength: int = 0) -> FloatArray:
    """Return ``numpy.bincount`` as floats (weighted sums per index).

    Parameters
    ----------
    index : numpy.ndarray
        Non-negative integer bins.
    weights : numpy.ndarray, optional
        Weight per element (default 1).
    minlength : int, default 0
        Minimum number of bins.

    Returns
    -------
    numpy.ndarray
        Sum of weights per bin, as ``float64``.
    """
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)
