"""Log-rank and Harrington–Fleming G-rho tests, exact to R ``survival::survdiff`` 3.5."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.survival._inputs import (
    FloatArray,
    as_entry,
    as_event,
    as_labels,
    as_time,
    reverse_cumsum,
    sum_at_risk,
    tally,
    timefix,
    timefix_counting,
)
from allrwe.analyses.survival.distributions import chi2_sf
from allrwe.errors import AnalysisError

__all__ = ["LogrankResult", "logrank"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class LogrankResult:
    """Result of a (stratified, weighted) log-rank test.

    Attributes
    ----------
    groups : numpy.ndarray
        Group labels, sorted.
    n : numpy.ndarray
        Rows per group.
    observed, expected : numpy.ndarray
        Weighted observed and expected events per group, summed over strata.
    variance : numpy.ndarray
        Variance matrix of ``observed - expected``.
    chisq : float
        Test statistic.
    df : int
        Degrees of freedom: groups with expected events, minus one.
    p : float
        Upper-tail chi-square p-value (NaN when ``df`` is 0).
    rho : float
        Weight exponent (0 = log-rank, 1 = Peto–Peto/Prentice).
    """

    groups: np.ndarray
    n: np.ndarray
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray
    chisq: float
    df: int
    p: float
    rho: float

    @property
    def table(self) -> pd.DataFrame:
        """Per-group counts as a DataFrame (group, n, observed, expected)."""
        return pd.DataFrame(
            {"group": self.groups, "n": self.n, "observed": self.observed,
             "expected": self.expected}
        )  # fmt: skip


def logrank(
    time: Any,
    event: Any,
    group: Any,
    *,
    strata: Any = None,
    rho: float = 0.0,
    entry: Any = None,
) -> LogrankResult:
    """Compare survival between groups with the G-rho family of tests.

    Each event time is weighted by ``S(t-)**rho``, ``S`` being the pooled Kaplan–Meier curve
    of the stratum; ``rho=0`` is the log-rank test. Rows with a missing group or stratum are
    dropped (as R's ``na.omit``), and the count is logged.

    Parameters
    ----------
    time, event : array_like
        Follow-up times (>= 0) and event indicator (1 = event).
    group : array_like
        Group label per row (two or more groups).
    strata : array_like, optional
        Stratum label per row; the statistic adds up within-stratum sums.
    rho : float, default 0
        Weight exponent.
    entry : array_like, optional
        Start times of (start, stop] rows (left truncation, or rows split where the group
        changes): a row is at risk at t when entry < t <= time. R's ``survdiff`` takes no
        such input; the statistic equals the score test of ``coxph(Surv(start, stop,
        event) ~ factor(group), ties = "exact")``, against which it is checked.

    Returns
    -------
    LogrankResult
        Statistic, degrees of freedom, p-value, observed and expected per group.

    Raises
    ------
    AnalysisError
        If the inputs are invalid or fewer than two groups remain.

    References
    ----------
    Harrington DP, Fleming TR (1982). A class of rank test procedures for censored survival
    data. Biometrika 69:553–566.
    """
    t = as_time(time)
    start = np.zeros(t.size) if entry is None else as_entry(entry, t)
    e = as_event(event, t.size)
    g = as_labels(group, t.size, name="group")
    s = np.zeros(t.size) if strata is None else as_labels(strata, t.size, name="strata")
    keep = ~(pd.isna(g) | pd.isna(s))
    if not keep.all():
        log.info("logrank: dropped %d row(s) with a missing group or stratum", (~keep).sum())
    e, g, s = e[keep], g[keep], s[keep]
    if entry is None:
        t, start_kept = timefix(t[keep]), None
    else:
        start_kept, t = timefix_counting(start[keep], t[keep])
    groups, gidx = np.unique(g, return_inverse=True)
    if groups.size < 2:
        raise AnalysisError(f"logrank needs at least 2 groups; got {groups.size}")
    k = groups.size
    observed, expected, variance = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for stratum in np.unique(s):
        rows = s == stratum
        first = None if start_kept is None else start_kept[rows]
        o, x, v = _stratum_sums(t[rows], e[rows], gidx[rows], k, float(rho), first)
        observed += o
        expected += x
        variance += v
    chisq, df = _statistic(observed, expected, variance)
    p = float(chi2_sf(chisq, df)) if df > 0 else float("nan")
    n = tally(gidx, minlength=k)
    return LogrankResult(groups, n, observed, expected, variance, chisq, df, p, float(rho))


def _stratum_sums(
    t: FloatArray,
    e: np.ndarray,
    gidx: np.ndarray,
    k: int,
    rho: float,
    start: FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Observed, expected and variance for one stratum, vectorised over distinct times."""
    order = np.argsort(t, kind="stable")
    t, e, gidx = t[order], e[order], gidx[order]
    new = np.concatenate(([True], t[1:] != t[:-1]))
    inv = np.cumsum(new) - 1
    n_times = int(inv[-1]) + 1
    deaths = tally(inv, weights=e.astype(np.float64), minlength=n_times)
    flat = inv * k + gidx
    died = tally(flat, weights=e.astype(np.float64), minlength=n_times * k)
    if start is None:
        at_time = tally(flat, minlength=n_times * k).reshape(n_times, k).astype(np.float64)
        risk = reverse_cumsum(at_time)
    else:
        risk = sum_at_risk(t[new], start[order], t, np.eye(k)[gidx])
    n_risk = risk.sum(axis=1)
    if rho == 0:
        wt = np.ones(n_times)
    else:
        # left-continuous pooled KM: the weight uses survival just before each time
        km = np.cumprod((n_risk - deaths) / n_risk)
        wt = np.concatenate(([1.0], km[:-1])) ** rho
    observed = wt @ died.reshape(n_times, k)
    ev = deaths > 0
    expected = (wt[ev] * deaths[ev] / n_risk[ev]) @ risk[ev]
    vv = ev & (n_risk > 1)
    nr, d = n_risk[vv], deaths[vv]
    tmp = (wt[vv] ** 2 * d)[:, None] * risk[vv] * ((nr - d) / (nr * (nr - 1)))[:, None]
    variance = np.diag(tmp.sum(axis=0)) - (tmp / nr[:, None]).T @ risk[vv]
    return observed, expected, variance


def _statistic(
    observed: FloatArray, expected: FloatArray, variance: FloatArray
) -> tuple[float, int]:
    """Chi-square on the groups with expected events, dropping the first of them (as R)."""
    use = expected > 0
    df = int(use.sum()) - 1
    if df < 1:
        return 0.0, max(df, 0)
    diff = (observed - expected)[use][1:]
    vv = variance[np.ix_(use, use)][1:, 1:]
    try:
        chisq = float(diff @ np.linalg.solve(vv, diff))
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(
            "logrank: variance matrix is singular (no information, e.g. every row is an event "
            "at one time); the test is undefined"
        ) from exc
    return chisq, df
