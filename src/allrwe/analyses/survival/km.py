"""Kaplan–Meier estimation, exact to R ``survival::survfit`` 3.5 for right-censored data.

Pure functions on arrays; the result (:mod:`km_result`) is a frozen dataclass that also
answers quantile, landmark and restricted-mean questions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allrwe.analyses.survival._confint import ConfType, check_conf, confint
from allrwe.analyses.survival._inputs import (
    FloatArray,
    as_entry,
    as_event,
    as_labels,
    as_time,
    as_weights,
    reverse_cumsum,
    sum_at_risk,
    tally,
    timefix,
    timefix_counting,
)
from allrwe.analyses.survival.km_result import KaplanMeierResult, QuantileEstimate, RmstEstimate

__all__ = [
    "KaplanMeierResult",
    "QuantileEstimate",
    "RmstEstimate",
    "kaplan_meier",
    "kaplan_meier_by",
    "median_followup",
]


def kaplan_meier(
    time: Any,
    event: Any,
    *,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    weights: Any = None,
    entry: Any = None,
) -> KaplanMeierResult:
    """Estimate a Kaplan–Meier survival curve with pointwise confidence limits.

    Events and censorings at the same time: the censored rows still count as at risk for the
    events at that time (R's and the usual convention). Times closer than R's tolerance are
    merged first, as ``survfit``'s ``timefix`` does.

    Parameters
    ----------
    time : array_like
        Follow-up times (>= 0; allrwe uses days).
    event : array_like
        1/True = event, 0/False = censored.
    conf_type : {"log-log", "log", "plain", "logit", "arcsin"}, default "log-log"
        Interval transform. "log-log" is SAS PROC LIFETEST's default; R's default is "log".
    conf_level : float, default 0.95
        Interval coverage.
    weights : array_like, optional
        Non-negative case weights. Counts become weighted sums. With whole-number weights the
        variance is Greenwood's on weighted counts; otherwise the infinitesimal-jackknife
        variance, as R (``robust=TRUE``) uses.
    entry : array_like, optional
        Start times of (start, stop] rows, ``time`` being the stop: a row is at risk at t
        when entry < t <= time. Gives left truncation (delayed entry) and rows split at a
        time-dependent change, as R's ``Surv(start, stop, event)``. With non-integer
        weights the IJ variance treats each row as its own unit, as ``survfit`` without
        ``id``; that is exact when no person has two rows in one curve.

    Returns
    -------
    KaplanMeierResult
        The curve.

    Raises
    ------
    AnalysisError
        If the inputs are empty, of different lengths, or hold invalid values.

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
    JASA 53:457–481. Greenwood M (1926). The natural duration of cancer.

    Examples
    --------
    >>> fit = kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    >>> fit.survival.round(4).tolist()
    [0.8, 0.6, 0.3, 0.3]
    """
    conf_type = check_conf(conf_type, conf_level)
    t = as_time(time)
    e = as_event(event, t.size)
    w = as_weights(weights, t.size)
    start = None
    if entry is None:
        t = timefix(t)
    else:
        start, t = timefix_counting(as_entry(entry, t), t)
    order = np.argsort(t, kind="stable")
    t, e, w = t[order], e[order], w[order]
    if start is not None:
        start = start[order]
    new = np.concatenate(([True], t[1:] != t[:-1]))
    inv = np.cumsum(new) - 1
    utime = t[new]
    n_event = tally(inv, weights=w * e)
    n_censor = tally(inv, weights=w * ~e)
    if start is None:
        n_risk = reverse_cumsum(tally(inv, weights=w))
    else:
        n_risk = sum_at_risk(utime, start, t, w)
    # R needs an event row with positive weight before it moves the curve
    has = (tally(inv, weights=e.astype(np.float64)) > 0) & (n_event > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(has, (n_risk - n_event) / n_risk, 1.0), dtype=np.float64)
        if weights is None or np.all(w == np.floor(w)):
            se_log = np.sqrt(np.cumsum(np.where(has, n_event / (n_risk * (n_risk - n_event)), 0)))
            se, variance = surv * se_log, "greenwood"
            lower, upper = confint(
                surv, se_log, logse=True, conf_type=conf_type, conf_level=conf_level
            )
        else:
            if start is None:
                se = _ij_std_err(surv, n_risk, n_event, has, inv, e, w)
            else:
                se = _ij_std_err_counting(surv, n_risk, n_event, has, inv, e, w, utime, start)
            se_log, variance = np.where(se == 0, 0.0, se / surv), "ij"
            lower, upper = confint(
                surv, se, logse=False, conf_type=conf_type, conf_level=conf_level
            )
    return KaplanMeierResult(
        utime, n_risk, n_event, n_censor, surv, se, se_log, lower, upper,
        conf_type, float(conf_level), variance, int(t.size),
    )  # fmt: skip


def _ij_std_err(
    surv: FloatArray,
    n_risk: FloatArray,
    n_event: FloatArray,
    has: np.ndarray,
    inv: np.ndarray,
    event: np.ndarray,
    w: FloatArray,
) -> FloatArray:
    """Infinitesimal-jackknife standard error of the KM curve, in closed form.

    Subject i's influence on S(t) is S(t) g(t) while at risk (g = sum of h / (n - d)) and
    b_i S(t) / S(T_i) after leaving at T_i, so the variance needs only cumulative sums.
    """
    hazard = np.where(has, n_event / n_risk, 0.0)
    s_prev = np.concatenate(([1.0], surv[:-1]))
    g = np.cumsum(np.where(has, hazard / (n_risk - n_event), 0.0))
    g_prev = np.concatenate(([0.0], g[:-1]))
    died = event & has[inv]
    # a row whose time has no weight at risk (zero-weight rows last) has no influence
    risk = n_risk[inv]
    jump = np.divide(hazard[inv] - died, risk, out=np.zeros(risk.size), where=risk > 0)
    b = surv[inv] * g_prev[inv] + s_prev[inv] * jump
    ratio = np.where(surv[inv] > 0, b / surv[inv], 0.0)
    gone = np.cumsum(tally(inv, weights=(w * ratio) ** 2, minlength=surv.size))
    w2 = tally(inv, weights=w**2, minlength=surv.size)
    still = np.concatenate((reverse_cumsum(w2)[1:], [0.0]))
    var = np.where(surv > 0, surv**2 * (gone + g**2 * still), 0.0)
    # the variance moves only at event times; carrying it forward keeps it exactly constant
    # between them (the sums above drift in the last place), as R's is
    last = np.maximum.accumulate(np.where(has, np.arange(surv.size), -1))
    var = np.where(last >= 0, var[np.maximum(last, 0)], 0.0)
    return np.asarray(np.sqrt(var), dtype=np.float64)


def _ij_std_err_counting(
    surv: FloatArray,
    n_risk: FloatArray,
    n_event: FloatArray,
    has: np.ndarray,
    inv: np.ndarray,
    event: np.ndarray,
    w: FloatArray,
    utime: FloatArray,
    start: FloatArray,
) -> FloatArray:
    """Infinitesimal-jackknife SE of the KM curve of (start, stop] rows, in closed form.

    Row i's influence on S(t) is S(t) (g(min(stop_i, t)) - g(start_i) - d_i(t)), with
    g = sum of h / (n - d) over event times and d_i(t) = 1 / (n - d) at its own event if that
    is at or before t. Rows gone by t contribute a constant; rows still at risk contribute
    w^2 (g(t) - g(start_i))^2, expanded into three risk-set sums.
    """
    hazard = np.where(has, n_event / n_risk, 0.0)
    left = n_risk - n_event
    g = np.cumsum(np.where(has & (left > 0), hazard / np.where(left > 0, left, 1.0), 0.0))
    before = np.searchsorted(utime, start, side="right") - 1
    g_start = np.where(before >= 0, g[np.maximum(before, 0)], 0.0)
    died = event & has[inv]
    own = np.divide(1.0, left[inv], out=np.zeros(inv.size), where=died & (left[inv] > 0))
    w2 = w**2
    gone = np.cumsum(tally(inv, weights=w2 * (g[inv] - g_start - own) ** 2, minlength=g.size))
    sums = [
        sum_at_risk(utime, start, utime[inv], v) - tally(inv, weights=v, minlength=g.size)
        for v in (w2, w2 * g_start, w2 * g_start**2)
    ]
    var = np.where(surv > 0, surv**2 * (gone + g**2 * sums[0] - 2 * g * sums[1] + sums[2]), 0.0)
    last = np.maximum.accumulate(np.where(has, np.arange(surv.size), -1))
    var = np.where(last >= 0, var[np.maximum(last, 0)], 0.0)
    return np.asarray(np.sqrt(np.maximum(var, 0.0)), dtype=np.float64)


def kaplan_meier_by(
    time: Any,
    event: Any,
    group: Any,
    *,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    weights: Any = None,
    entry: Any = None,
) -> dict[Any, KaplanMeierResult]:
    """Fit one Kaplan–Meier curve per group.

    Parameters
    ----------
    time, event : array_like
        As for :func:`kaplan_meier`.
    group : array_like
        Group label per row.
    conf_type : str, default "log-log"
        Interval transform.
    conf_level : float, default 0.95
        Interval coverage.
    weights : array_like, optional
        Case weights.
    entry : array_like, optional
        Start times of (start, stop] rows, as for :func:`kaplan_meier`.

    Returns
    -------
    dict
        Group label (in sorted order) to its :class:`KaplanMeierResult`.

    Raises
    ------
    AnalysisError
        If the inputs are invalid.
    """
    # merge near-equal times over all rows first, as survfit does before splitting by group
    t = as_time(time)
    if entry is None:
        t, start = timefix(t), None
    else:
        start, t = timefix_counting(as_entry(entry, t), t)
    g = as_labels(group, t.size, name="group")
    e = as_event(event, t.size)
    w = as_weights(weights, t.size)
    out: dict[Any, KaplanMeierResult] = {}
    for label in np.unique(g):
        rows = g == label
        key = label.item() if isinstance(label, np.generic) else label
        out[key] = kaplan_meier(
            t[rows],
            e[rows],
            conf_type=conf_type,
            conf_level=conf_level,
            weights=None if weights is None else w[rows],
            entry=None if start is None else start[rows],
        )
    return out


def median_followup(
    time: Any,
    event: Any,
    *,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
) -> QuantileEstimate:
    """Return the median follow-up by the reverse Kaplan–Meier method, with its CI.

    Censoring is treated as the event and events as censoring, so follow-up of people who
    died counts only until death.

    Parameters
    ----------
    time, event : array_like
        As for :func:`kaplan_meier` (event = the outcome, not the censoring).
    conf_type : str, default "log-log"
        Interval transform.
    conf_level : float, default 0.95
        Interval coverage.

    Returns
    -------
    QuantileEstimate
        Median potential follow-up and limits.

    Raises
    ------
    AnalysisError
        If the inputs are invalid.

    References
    ----------
    Schemper M, Smith TL (1996). A note on quantifying follow-up in studies of failure time.
    Controlled Clinical Trials 17:343–346.
    """
    t = as_time(time)
    e = as_event(event, t.size)
    return kaplan_meier(t, ~e, conf_type=conf_type, conf_level=conf_level).median()
