"""Pointwise confidence intervals and quantile search, with R ``survival``'s conventions.

The formulas are those of ``survival:::survfit_confint`` and ``survival:::findq`` (3.5): the
same transforms, the same treatment of an estimate of 0 or 1 (no interval), the same
tolerance when a curve is flat at exactly the target probability.
"""

from __future__ import annotations

from typing import Literal, cast

import numpy as np

from allrwe.analyses.survival._inputs import R_TOLERANCE, FloatArray
from allrwe.analyses.survival.distributions import norm_ppf
from allrwe.errors import AnalysisError

__all__ = ["CONF_TYPES", "ConfType", "check_conf", "confint", "find_quantile", "z_value"]

ConfType = Literal["plain", "log", "log-log", "logit", "arcsin"]

#: confidence-interval transforms understood by every estimator here
CONF_TYPES: tuple[ConfType, ...] = ("plain", "log", "log-log", "logit", "arcsin")


def check_conf(conf_type: str, conf_level: float) -> ConfType:
    """Validate a confidence-interval type and level.

    Parameters
    ----------
    conf_type : str
        One of :data:`CONF_TYPES`.
    conf_level : float
        Coverage, strictly between 0 and 1.

    Returns
    -------
    str
        ``conf_type``, typed.

    Raises
    ------
    AnalysisError
        If either value is invalid.
    """
    if conf_type not in CONF_TYPES:
        raise AnalysisError(f"conf_type {conf_type!r} is not one of {', '.join(CONF_TYPES)}")
    if not 0.0 < float(conf_level) < 1.0:
        raise AnalysisError(f"conf_level must be strictly between 0 and 1; got {conf_level!r}")
    return cast(ConfType, conf_type)


def z_value(conf_level: float) -> float:
    """Return the standard normal quantile for a two-sided interval of ``conf_level``.

    Parameters
    ----------
    conf_level : float
        Coverage, e.g. 0.95.

    Returns
    -------
    float
        ``qnorm(1 - (1 - conf_level) / 2)``.
    """
    return float(norm_ppf(1.0 - (1.0 - conf_level) / 2.0))


def confint(
    p: FloatArray,
    se: FloatArray,
    *,
    logse: bool,
    conf_type: ConfType,
    conf_level: float,
    scale_by_se: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Return pointwise lower and upper limits for probabilities ``p``.

    Parameters
    ----------
    p : numpy.ndarray
        Estimates (survival or state probabilities).
    se : numpy.ndarray
        Standard errors: of ``log(p)`` if ``logse`` else of ``p``.
    logse : bool
        Whether ``se`` is on the log scale.
    conf_type : {"plain", "log", "log-log", "logit", "arcsin"}
        Transform on which the symmetric normal interval is built.
    conf_level : float
        Coverage.
    scale_by_se : bool, default True
        Reproduce R's lower-limit scale factor ``selow / se`` with ``selow = se``, which is 1
        except where ``se`` is infinite or missing (then the lower limit is missing too);
        ``survfit`` passes it for single-state curves but not for multi-state ones.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lower, upper)``; missing (NaN) where R gives NA, e.g. ``p`` of 0 for every transform
        but "plain", and ``p`` of 1 for "log-log".
    """
    z = z_value(conf_level)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.where(se == 0, 1.0, se / se) if scale_by_se else np.ones_like(p)
        if not logse:
            se = np.where(se == 0, 0.0, se / p)
        return _transform(p, se, scale, z, conf_type)


def _transform(
    p: FloatArray, se: FloatArray, scale: FloatArray, z: float, conf_type: ConfType
) -> tuple[FloatArray, FloatArray]:
    nan = np.nan
    if conf_type == "plain":
        half = se * p * z
        return np.maximum(p - half * scale, 0.0), np.minimum(p + half, 1.0)
    if conf_type == "log":
        xx = np.where(p == 0, nan, p)
        half = z * se
        return np.exp(np.log(xx) - half * scale), np.minimum(np.exp(np.log(xx) + half), 1.0)
    if conf_type == "log-log":
        xx = np.where((p == 0) | (p == 1), nan, p)
        half = z * se / np.log(xx)
        centre = np.log(-np.log(xx))
        return np.exp(-np.exp(centre - half * scale)), np.exp(-np.exp(centre + half))
    if conf_type == "logit":
        xx = np.where(p == 0, nan, p)
        half = z * se * (1 + xx / (1 - xx))
        centre = np.log(p / (1 - p))
        return 1 - 1 / (1 + np.exp(centre - half * scale)), 1 - 1 / (1 + np.exp(centre + half))
    xx = np.where(p == 0, nan, p)
    half = 0.5 * z * se * np.sqrt(xx / (1 - xx))
    centre = np.arcsin(np.sqrt(xx))
    lower = np.sin(np.maximum(0.0, centre - half * scale)) ** 2
    upper = np.sin(np.minimum(np.pi / 2, centre + half)) ** 2
    return lower, upper


def find_quantile(x: FloatArray, y: FloatArray, prob: float) -> float:
    """Return the first ``x`` where the step function ``y`` reaches ``prob``, as R's ``findq``.

    ``y`` is a cumulative probability (``1 - S``). Where ``y`` is flat at exactly ``prob``
    (within R's tolerance ``sqrt(.Machine$double.eps)``) the answer is the midpoint between
    the start of the flat stretch and the next jump, or the last ``x`` if there is none.

    Parameters
    ----------
    x : numpy.ndarray
        Jump times, starting with the time origin.
    y : numpy.ndarray
        Step values (non-decreasing for a curve; confidence limits may be missing).
    prob : float
        Target probability in [0, 1].

    Returns
    -------
    float
        The quantile, or NaN where the curve never reaches ``prob``.
    """
    tol = R_TOLERANCE
    finite = y[~np.isnan(y)]
    if finite.size == 0 or finite.max() < prob:
        return float("nan")
    xmax = x[-1]
    keep = _first_occurrences(y)
    x, y = x[keep], y[keep]
    i1 = _approx_right(y + tol, prob)
    i2 = _approx_right(y - tol, prob)
    # R applies the last-point rule after the p == 0 rule, so it wins when both hold.
    if not np.isnan(y[-1]) and abs(prob - y[-1]) < tol:
        return float("nan") if i1 < 0 else float((x[i1] + xmax) / 2)
    if prob == 0:
        return float(x[0])
    if i1 < 0 or i2 < 0:
        return float("nan")
    return float((x[i1] + x[i2]) / 2)


def _first_occurrences(y: FloatArray) -> np.ndarray:
    """Mask of the first occurrence of each value (NaN equal to NaN), as R's ``!duplicated``."""
    # probabilities are never infinite, so +inf can stand in for NaN
    _, first = np.unique(np.where(np.isnan(y), np.inf, y), return_index=True)
    mask = np.zeros(y.size, dtype=bool)
    mask[first] = True
    return mask


def _approx_right(xs: FloatArray, v: float) -> int:
    """Index R's ``approx(xs, seq_along(xs), v, method="constant", f=1)`` returns, or -1 for NA.

    Missing ``xs`` are dropped and the rest sorted, as ``approx`` does; between two knots the
    right-hand index is taken, and on a knot that knot's index.
    """
    idx = np.flatnonzero(~np.isnan(xs))
    if idx.size == 0:
        return -1
    order = np.argsort(xs[idx], kind="stable")
    knots, labels = xs[idx][order], idx[order]
    if v < knots[0] or v > knots[-1]:
        return -1
    j = int(np.searchsorted(knots, v, side="right")) - 1
    if knots[j] == v:
        return int(labels[j])
    return int(labels[j + 1])
