"""Cumulative incidence under competing risks (Aalen–Johansen), exact to R ``survfit``.

Ties are handled deterministically, all events and censorings at one time together, as
``survfit(Surv(time, factor(cause)) ~ 1)`` does (no jitter). Standard errors are R's
infinitesimal-jackknife ones by default, or Gray's (``cmprsk::cuminc``) on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from allrwe.analyses.survival._confint import ConfType, check_conf, confint
from allrwe.analyses.survival._inputs import FloatArray, as_time, reverse_cumsum, tally, timefix
from allrwe.errors import AnalysisError

__all__ = ["CumulativeIncidenceResult", "as_cause", "cumulative_incidence"]

Variance = Literal["ij", "cmprsk"]


@dataclass(frozen=True, eq=False)
class CumulativeIncidenceResult:
    """Cumulative incidence of each cause, one row per distinct time.

    Attributes
    ----------
    causes : tuple of int
        Cause codes (1..k) in column order.
    time, n_risk, n_censor : numpy.ndarray
        Distinct times, number at risk (event-free) and censored there.
    n_event, estimate, std_err, lower, upper : numpy.ndarray
        Shape (times, causes): events of each cause at each time, cumulative incidence, its
        standard error and confidence limits.
    event_free, event_free_std_err : numpy.ndarray
        Probability of no event of any cause, and its standard error (R's state "(s0)").
    conf_type : str
        Interval transform (applied to the incidence itself, as R does).
    conf_level : float
        Interval coverage.
    variance : str
        ``"ij"`` (R survfit's infinitesimal jackknife) or ``"cmprsk"`` (Gray's estimator).
    """

    causes: tuple[int, ...]
    time: FloatArray
    n_risk: FloatArray
    n_censor: FloatArray
    n_event: FloatArray
    estimate: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    event_free: FloatArray
    event_free_std_err: FloatArray
    conf_type: ConfType
    conf_level: float
    variance: str

    def cause_table(self, cause: int) -> pd.DataFrame:
        """Return one cause's curve (time, n_risk, n_event, estimate, std_err, lower, upper).

        Parameters
        ----------
        cause : int
            A code in :attr:`causes`.

        Returns
        -------
        pandas.DataFrame
            One row per distinct time.

        Raises
        ------
        AnalysisError
            If ``cause`` is unknown.
        """
        if cause not in self.causes:
            raise AnalysisError(f"cause {cause!r} not among {self.causes}")
        k = self.causes.index(cause)
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event[:, k],
                "estimate": self.estimate[:, k],
                "std_err": self.std_err[:, k],
                "lower": self.lower[:, k],
                "upper": self.upper[:, k],
            }
        )

    @property
    def table(self) -> pd.DataFrame:
        """All causes stacked, with a leading ``cause`` column."""
        columns = ["cause", "time", "n_risk", "n_event", "estimate", "std_err", "lower", "upper"]
        parts = [self.cause_table(c).assign(cause=c) for c in self.causes]
        if not parts:
            return pd.DataFrame(columns=columns)
        return pd.concat(parts, ignore_index=True)[columns]


def as_cause(values: Any, n: int) -> np.ndarray:
    """Return cause codes as integers (0 = censored, 1..k = causes).

    Parameters
    ----------
    values : array_like
        Codes.
    n : int
        Expected length.

    Returns
    -------
    numpy.ndarray
        ``int64`` codes.

    Raises
    ------
    AnalysisError
        If the length differs or a code is not a non-negative whole number.
    """
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size != n:
        raise AnalysisError(f"cause has shape {arr.shape} but time has {n} rows")
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"cause must hold integer codes; got dtype {arr.dtype}") from exc
    bad = ~np.isfinite(num) | (num < 0) | (num != np.floor(num))
    if bad.any():
        raise AnalysisError(f"cause has {int(bad.sum())} value(s) that are not codes 0, 1, 2, ...")
    return num.astype(np.int64)


def cumulative_incidence(
    time: Any,
    cause: Any,
    *,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    variance: Variance = "ij",
) -> CumulativeIncidenceResult:
    """Estimate the cumulative incidence of competing causes (Aalen–Johansen).

    Parameters
    ----------
    time : array_like
        Follow-up times (>= 0).
    cause : array_like
        0 = censored, 1..k = the cause of the event.
    conf_type : {"log-log", "log", "plain", "logit", "arcsin"}, default "log-log"
        Interval transform, applied to the incidence as R's ``survfit`` does (its default for
        multi-state curves is "log").
    conf_level : float, default 0.95
        Interval coverage.
    variance : {"ij", "cmprsk"}, default "ij"
        "ij": R survfit's infinitesimal-jackknife standard error; "cmprsk": Gray's variance
        as ``cmprsk::cuminc`` reports it.

    Returns
    -------
    CumulativeIncidenceResult
        One curve per cause present.

    Raises
    ------
    AnalysisError
        If the inputs are invalid.

    References
    ----------
    Aalen OO, Johansen S (1978). An empirical transition matrix for non-homogeneous Markov
    chains based on censored observations. Scand J Stat 5:141–150.
    """
    conf_type = check_conf(conf_type, conf_level)
    if variance not in ("ij", "cmprsk"):
        raise AnalysisError(f"variance {variance!r} is not one of ij, cmprsk")
    t = timefix(as_time(time))
    c = as_cause(cause, t.size)
    order = np.argsort(t, kind="stable")
    t, c = t[order], c[order]
    causes = tuple(int(k) for k in np.unique(c[c > 0]))
    new = np.concatenate(([True], t[1:] != t[:-1]))
    inv = np.cumsum(new) - 1
    n_times = int(inv[-1]) + 1
    code = np.searchsorted(np.array((0, *causes)), c)
    counts = tally(inv * (len(causes) + 1) + code, minlength=n_times * (len(causes) + 1))
    counts = counts.reshape(n_times, len(causes) + 1).astype(np.float64)
    n_event = counts[:, 1:]
    n_risk = reverse_cumsum(counts.sum(axis=1))
    hazard = n_event / n_risk[:, None]
    surv = np.cumprod(1.0 - hazard.sum(axis=1))
    s_prev = np.concatenate(([1.0], surv[:-1]))
    estimate = np.cumsum(s_prev[:, None] * hazard, axis=0)
    if variance == "ij":
        se, se_free = _ij_std_err(surv, s_prev, n_risk, hazard, inv, code)
    else:
        se = np.column_stack([_gray_std_err(surv, s_prev, n_risk, n_event, k, estimate[:, k])
                              for k in range(len(causes))])  # fmt: skip
        se_free = _ij_std_err(surv, s_prev, n_risk, hazard, inv, code)[1]
    lower, upper = confint(estimate, se, logse=False, conf_type=conf_type,
                           conf_level=conf_level, scale_by_se=False)  # fmt: skip
    return CumulativeIncidenceResult(
        causes, t[new], n_risk, counts[:, 0], n_event, estimate, se, lower, upper, surv,
        se_free, conf_type, float(conf_level), variance,
    )  # fmt: skip


def _ij_std_err(
    surv: FloatArray,
    s_prev: FloatArray,
    n_risk: FloatArray,
    hazard: FloatArray,
    inv: np.ndarray,
    code: np.ndarray,
) -> tuple[FloatArray, FloatArray]:
    """Infinitesimal-jackknife standard errors of each incidence and of event-free survival.

    While at risk, subject i's influence on incidence k is Q_k(t) (common to everyone at
    risk); from its exit at T_i on it is A_ik + r_i M_k(t), so sums of squares over subjects
    reduce to cumulative sums over distinct times.
    """
    n_times = surv.size
    h = hazard.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumsum(h / (1.0 - h) / n_risk)
    g_prev = np.concatenate(([0.0], g[:-1]))
    died = code > 0
    # influence on event-free survival at exit, and relative to S(T_i) afterwards
    b = surv[inv] * g_prev[inv] + s_prev[inv] * (h[inv] - died) / n_risk[inv]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(surv[inv] > 0, b / surv[inv], 0.0)
    q = np.cumsum(hazard * (s_prev * (g_prev - 1.0 / n_risk))[:, None], axis=0)
    m = np.cumsum(hazard * s_prev[:, None], axis=0)
    left = np.concatenate((reverse_cumsum(tally(inv, minlength=n_times))[1:], [0]))
    jump = np.zeros((inv.size, hazard.shape[1]))
    jump[died, code[died] - 1] = (s_prev / n_risk)[inv[died]]
    a = q[inv] + jump - ratio[:, None] * m[inv]

    def by_time(v: FloatArray) -> FloatArray:
        return np.cumsum(tally(inv, weights=v, minlength=n_times))

    var = left[:, None] * q**2
    for k in range(hazard.shape[1]):
        ak = a[:, k]
        var[:, k] += (
            by_time(ak**2) + 2 * m[:, k] * by_time(ak * ratio) + m[:, k] ** 2 * by_time(ratio**2)
        )
    with np.errstate(invalid="ignore"):
        free = np.where(surv > 0, surv**2 * (by_time(ratio**2) + g**2 * left), 0.0)
    return np.sqrt(np.maximum(var, 0.0)), np.sqrt(free)


def _gray_std_err(
    surv: FloatArray,
    s_prev: FloatArray,
    n_risk: FloatArray,
    n_event: FloatArray,
    k: int,
    inc: FloatArray,
) -> FloatArray:
    """Gray's variance of incidence k as ``cmprsk``'s ``cinc`` computes it, as a std error."""
    d1 = n_event[:, k]
    d2 = n_event.sum(axis=1) - d1
    rs = n_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(surv > 0, 1.0 / surv, 0.0)
        # other causes: only while someone survives
        other = (d2 > 0) & (surv > 0)
        t5 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t6 = np.where(other, s_prev**2 * t5 * d2 / rs**2, 0.0)
        t4 = inc * inv_s
        v1 = t4**2 * t6
        v2 = inv_s * t4 * t6
        v3 = inv_s**2 * t6
        own = d1 > 0
        t5 = np.where(d1 > 1, 1 - (d1 - 1) / (rs - 1), 1.0)
        t6 = np.where(own, s_prev**2 * t5 * d1 / rs**2, 0.0)
        t4 = 1 + inv_s * inc
        v1, v2, v3 = v1 + t4**2 * t6, v2 + inv_s * t4 * t6, v3 + inv_s**2 * t6
    v1, v2, v3 = np.cumsum(v1), np.cumsum(v2), np.cumsum(v3)
    var = v1 + inc**2 * v3 - 2 * inc * v2
    # cinc records the variance only at this cause's event times; carry it forward
    last = np.maximum.accumulate(np.where(own, np.arange(own.size), -1))
    out = np.where(last >= 0, var[np.maximum(last, 0)], 0.0)
    return np.asarray(np.sqrt(out), dtype=np.float64)
