"""Gray's test comparing cumulative incidence between groups, exact to ``cmprsk::cuminc``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.survival._inputs import FloatArray, as_labels, as_time, reverse_cumsum, tally
from allrwe.analyses.survival.competing import as_cause
from allrwe.analyses.survival.distributions import chi2_cdf
from allrwe.errors import AnalysisError

__all__ = ["GrayTestResult", "gray_test"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class GrayTestResult:
    """Gray's K-sample test for one cause.

    Attributes
    ----------
    cause : int
        Cause whose incidence is compared.
    groups : numpy.ndarray
        Group labels, sorted; the scores are for all but the last.
    score : numpy.ndarray
        Score statistics of the first ``len(groups) - 1`` groups.
    variance : numpy.ndarray
        Their variance matrix.
    stat : float
        Chi-square statistic (NaN if the variance matrix is singular; cmprsk reports -1).
    df : int
        Degrees of freedom, groups minus one.
    p : float
        ``1 - pchisq(stat, df)``, as cmprsk computes it.
    rho : float
        Weight exponent.
    """

    cause: int
    groups: np.ndarray
    score: FloatArray
    variance: FloatArray
    stat: float
    df: int
    p: float
    rho: float


def gray_test(
    time: Any,
    cause: Any,
    group: Any,
    *,
    cause_of_interest: int = 1,
    strata: Any = None,
    rho: float = 0.0,
) -> GrayTestResult:
    """Test equality of the cumulative incidence of one cause across groups (Gray 1988).

    Unlike ``survfit``, ``cmprsk`` does not merge near-equal times, so neither does this.
    Rows with a missing group or stratum are dropped and the count is logged.

    Parameters
    ----------
    time : array_like
        Follow-up times (>= 0).
    cause : array_like
        0 = censored, 1..k = cause of the event.
    group : array_like
        Group label per row (two or more groups).
    cause_of_interest : int, default 1
        Cause whose incidence is compared; every other cause competes.
    strata : array_like, optional
        Stratum label per row; scores and variances add up over strata.
    rho : float, default 0
        Exponent of the weight ``(1 - F(t-))**rho``.

    Returns
    -------
    GrayTestResult
        Statistic, degrees of freedom and p-value.

    Raises
    ------
    AnalysisError
        If the inputs are invalid or fewer than two groups remain.

    References
    ----------
    Gray RJ (1988). A class of K-sample tests for comparing the cumulative incidence of a
    competing risk. Annals of Statistics 16:1141–1154.
    """
    t = as_time(time)
    c = as_cause(cause, t.size)
    g = as_labels(group, t.size, name="group")
    s = np.zeros(t.size) if strata is None else as_labels(strata, t.size, name="strata")
    keep = ~(pd.isna(g) | pd.isna(s))
    if not keep.all():
        log.info("gray_test: dropped %d row(s) with a missing group or stratum", (~keep).sum())
    t, c, g, s = t[keep], c[keep], g[keep], s[keep]
    groups, gidx = np.unique(g, return_inverse=True)
    k = groups.size
    if k < 2:
        raise AnalysisError(f"gray_test needs at least 2 groups; got {k}")
    # cmprsk's coding: 1 = cause of interest, 2 = any other cause, 0 = censored
    m = np.where(c == cause_of_interest, 1, np.where(c > 0, 2, 0))
    score, var = np.zeros(k - 1), np.zeros((k - 1, k - 1))
    for stratum in np.unique(s):
        rows = s == stratum
        sc, vv = _stratum_score(t[rows], m[rows], gidx[rows], k, float(rho))
        score += sc
        var += vv
    try:
        stat = float(score @ np.linalg.solve(var, score))
    except np.linalg.LinAlgError:
        stat = float("nan")
    if np.linalg.matrix_rank(var) < k - 1:
        stat = float("nan")
    p = float(1.0 - chi2_cdf(stat, k - 1))
    return GrayTestResult(int(cause_of_interest), groups, score, var, stat, k - 1, p, float(rho))


def _stratum_score(
    t: FloatArray, m: np.ndarray, gidx: np.ndarray, k: int, rho: float
) -> tuple[FloatArray, FloatArray]:
    """Score and variance of one stratum (cmprsk's ``crst``), vectorised over times."""
    order = np.argsort(t, kind="stable")
    t, m, gidx = t[order], m[order], gidx[order]
    new = np.concatenate(([True], t[1:] != t[:-1]))
    inv = np.cumsum(new) - 1
    nt = int(inv[-1]) + 1
    cnt = tally((inv * k + gidx) * 3 + m, minlength=nt * k * 3).reshape(nt, k, 3)
    cnt = cnt.astype(np.float64)
    d1, d2 = cnt[:, :, 1], cnt[:, :, 2]
    rs = reverse_cumsum(cnt.sum(axis=2))
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    ev = (nd1 + nd2) > 0
    up = ev[:, None] & (rs > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skm = np.cumprod(np.where(up, (rs - d1 - d2) / rs, 1.0), axis=0)
        skmm = np.vstack((np.ones((1, k)), skm[:-1]))
        f1 = np.cumsum(np.where(up, skmm * d1 / rs, 0.0), axis=0)
        f1m = np.vstack((np.zeros((1, k)), f1[:-1]))
        t1 = np.where(rs > 0, rs / skmm, 0.0)
        tr = t1.sum(axis=1)
        tq = np.where(rs > 0, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        f = np.cumsum(np.where(ev, nd1 / tr, 0.0))
        fm = np.concatenate(([0.0], f[:-1]))
        fb = (1 - fm) ** rho
        a = fb[:, None, None] * (
            np.einsum("ti,ij->tij", t1, np.eye(k))
            - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
        )
        a = np.where(ev[:, None, None], a, 0.0)
        c = np.cumsum(np.where(ev, nd1 / (tr * (1 - fm)), 0.0)[:, None, None] * a, axis=0)
        sc = np.where(
            up, fb[:, None] * (d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None])), 0.0
        )
        # cause-of-interest events
        own = (nd1 > 0)[:, None] & (rs > 0)
        t4 = np.where(skm > 0, 1 - (1 - f[:, None]) / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(own, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        # competing-cause events
        oth = (skm > 0) & (d2 > 0)
        t4b = np.where(oth, (1 - f[:, None]) / skm, 0.0)
        t5b = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3b = np.where(oth, t5b * skmm**2 * d2 / rs**2, 0.0)
    v3 = (t4**2 * t3 + t4b**2 * t3b).sum(axis=0)
    e1 = a - t4[:, None, :] * c  # (time, i, k)
    e2 = t4b[:, None, :] * c
    v2 = np.einsum("tik,tk->ik", e1, t4 * t3) - np.einsum("tik,tk->ik", e2, t4b * t3b)
    v = np.einsum("tik,tjk,tk->ij", e1, e1, t3) + np.einsum("tik,tjk,tk->ij", e2, e2, t3b)
    cf = c[-1]
    v += np.einsum("ik,jk,k->ij", cf, cf, v3) + cf @ v2.T + v2 @ cf.T
    return sc.sum(axis=0)[: k - 1], v[: k - 1, : k - 1]
