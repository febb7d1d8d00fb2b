"""Score residuals and the robust (sandwich) variance of a Cox fit, as R's ``coxph``.

The score residual of row i adds its event term, ``x_i - xbar(t_i)``, and subtracts its
share of every hazard increment while at risk, ``r_i dLambda(t) (x_i - xbar(t))``. With
Efron ties each of the d steps of a tied death time has its own mean and increment, and a
row dying then takes only the ``1 - k/d`` part of step k. The robust variance is
``D'D`` with ``D`` the weighted score residuals times the inverse information (R's dfbeta),
summed by cluster first when clusters are given.
"""

from __future__ import annotations

import numpy as np

from allrwe.analyses.survival._cox_fit import Stratum, risk_sums
from allrwe.analyses.survival._inputs import FloatArray

__all__ = ["cluster_score", "sandwich", "score_residuals"]


def score_residuals(groups: list[Stratum], beta: FloatArray, n: int) -> FloatArray:
    """Return the (unweighted) score residuals, one row per input row, on the scaled x.

    Parameters
    ----------
    groups : list of Stratum
        The strata as :func:`~allrwe.analyses.survival._cox_fit.prepare` laid them out.
    beta : numpy.ndarray
        Coefficients on the scaled covariates.
    n : int
        Number of input rows.

    Returns
    -------
    numpy.ndarray
        Array of shape (n, p), in the caller's row order.
    """
    out = np.zeros((n, beta.size))
    for s in groups:
        out[s.rows] = _stratum_residuals(s, beta)
    return out


def _stratum_residuals(s: Stratum, beta: FloatArray) -> FloatArray:
    risk = np.exp(s.x @ beta)
    r = s.w * risk
    rx = r[:, None] * s.x
    dead_r = np.add.reduceat(r * s.dead, s.starts)
    dead_rx = np.add.reduceat(rx * s.dead[:, None], s.starts, axis=0)
    s0, s1 = risk_sums(s, (r, rx))
    b, frac, wt = s.row_block, s.row_frac, s.row_weight
    denom = s0[b] - frac * dead_r[b]
    mean = (s1[b] - frac[:, None] * dead_rx[b]) / denom[:, None]
    hazard = wt / denom
    nb = s0.size
    # per block: total increment H, sum of increment x mean G, Efron's parts F, FG, and M
    h_sum = np.bincount(b, weights=hazard, minlength=nb)
    g_sum = _bincount2(b, hazard[:, None] * mean, nb)
    f_sum = np.bincount(b, weights=frac * hazard, minlength=nb)
    fg_sum = _bincount2(b, (frac * hazard)[:, None] * mean, nb)
    count = np.bincount(b, minlength=nb).astype(np.float64)
    m_sum = _bincount2(b, mean, nb) / np.where(count > 0, count, 1.0)[:, None]
    # cumulative over blocks in time order; a row takes the blocks in (entry, stop]
    block_time = s.time[s.starts]
    cum_h = np.concatenate(([0.0], np.cumsum(h_sum)))
    cum_g = np.concatenate((np.zeros((1, beta.size)), np.cumsum(g_sum, axis=0)))
    hi = np.searchsorted(block_time, s.time, side="right")
    lo = np.zeros(s.time.size, dtype=np.int64)
    if s.entry is not None:
        lo = np.searchsorted(block_time, s.entry, side="right")
    h_i = cum_h[hi] - cum_h[lo]
    g_i = cum_g[hi] - cum_g[lo]
    own = hi - 1
    resid = -risk[:, None] * (s.x * h_i[:, None] - g_i)
    dead = s.dead > 0
    od = own[dead]
    resid[dead] += s.x[dead] - m_sum[od]
    resid[dead] += risk[dead, None] * (s.x[dead] * f_sum[od, None] - fg_sum[od])
    return resid


def _bincount2(index: np.ndarray, values: FloatArray, size: int) -> FloatArray:
    """Column-wise weighted bincount of a 2-D array."""
    return np.stack(
        [np.bincount(index, weights=values[:, j], minlength=size) for j in range(values.shape[1])],
        axis=1,
    ) if values.shape[1] else np.zeros((size, 0))  # fmt: skip


def sandwich(
    resid: FloatArray, weights: FloatArray, bread: FloatArray, cluster: np.ndarray | None
) -> FloatArray:
    """Robust variance ``D'D``, ``D`` = weighted residuals times ``bread``, summed by cluster.

    Parameters
    ----------
    resid : numpy.ndarray
        Score residuals, shape (n, p).
    weights : numpy.ndarray
        Case weights, length n.
    bread : numpy.ndarray
        Naive variance (inverse information), shape (p, p).
    cluster : numpy.ndarray or None
        Cluster code per row (0..k-1), or None for one cluster per row.

    Returns
    -------
    numpy.ndarray
        The (p, p) robust variance.
    """
    d = (weights[:, None] * resid) @ bread
    if cluster is not None:
        d = _bincount2(cluster, d, int(cluster.max()) + 1)
    return np.asarray(d.T @ d, dtype=np.float64)


def cluster_score(resid: FloatArray, weights: FloatArray, cluster: np.ndarray | None) -> FloatArray:
    """Weighted score residuals summed by cluster (R's ``collapse=``), shape (k, p)."""
    d = weights[:, None] * resid
    return d if cluster is None else _bincount2(cluster, d, int(cluster.max()) + 1)
