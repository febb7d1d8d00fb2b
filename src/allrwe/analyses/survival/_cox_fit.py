"""The Newton–Raphson core of :func:`~allrwe.analyses.survival.cox`, replaying R's ``coxfit6``.

Covariates arrive centred and scaled. Each stratum is laid out once (:func:`prepare`); the
log partial likelihood, score and information are then sums over blocks of tied stop times,
with rows that enter later taken out of the risk set for (start, stop] input. Redundant
covariates are found by R's ``cholesky2`` rule and held at 0, as ``coxph`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from allrwe.analyses.survival._inputs import FloatArray, reverse_cumsum
from allrwe.errors import AnalysisError

__all__ = ["TOLER_CHOL", "Fit", "Stratum", "loglik", "newton", "nonsingular", "prepare"]

#: R's ``coxph.control(toler.chol = .Machine$double.eps^0.75)``
TOLER_CHOL = float(np.finfo(np.float64).eps ** 0.75)


@dataclass(frozen=True)
class Stratum:
    """One stratum sorted by stop time: covariates, deaths, weights and tied-time blocks.

    ``rows`` maps the sorted rows back to the caller's row order; ``entry_order`` and
    ``entry_index`` (None for right-censored input) find the rows that enter at or after
    each block's time.
    """

    rows: np.ndarray
    time: FloatArray
    entry: FloatArray | None
    x: FloatArray
    dead: FloatArray
    w: FloatArray
    starts: np.ndarray
    row_block: np.ndarray
    row_frac: FloatArray
    row_weight: FloatArray
    entry_order: np.ndarray | None
    entry_index: np.ndarray | None


@dataclass(frozen=True)
class Fit:
    """Raw Newton–Raphson output on the scaled covariates (``active`` = not redundant)."""

    beta: FloatArray
    u: FloatArray
    imat: FloatArray
    active: np.ndarray
    loglik_null: float
    loglik: float
    score: float
    iterations: int
    converged: bool


def prepare(
    rows: np.ndarray,
    t: FloatArray,
    e: FloatArray,
    x: FloatArray,
    w: FloatArray,
    ties: str,
    start: FloatArray | None,
) -> Stratum:
    """Sort one stratum and lay out one term per Efron step (one per death time for Breslow).

    With case weights, each of the d Efron terms of a tied death time carries the mean
    weight of the d deaths and Breslow's single term their sum, as in R's ``coxfit6``.
    """
    order = np.argsort(t, kind="stable")
    rows, t, e, x, w = rows[order], t[order], e[order], x[order], w[order]
    starts = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
    deaths = np.add.reduceat(e, starts)
    wdeaths = np.add.reduceat(e * w, starts)
    blocks = np.flatnonzero(deaths > 0)
    d = deaths[blocks].astype(np.int64)
    if ties == "efron":
        row_block = np.repeat(blocks, d)
        offset = np.arange(row_block.size) - np.repeat(np.cumsum(d) - d, d)
        row_frac = offset / np.repeat(d, d).astype(np.float64)
        row_weight = np.repeat(wdeaths[blocks] / d, d)
    else:
        row_block, row_frac, row_weight = blocks, np.zeros(blocks.size), wdeaths[blocks]
    entry_order = entry_index = None
    if start is not None:
        start = start[order]
        entry_order = np.argsort(start, kind="stable")
        entry_index = np.searchsorted(start[entry_order], t[starts], side="left")
    return Stratum(
        rows, t, start, x, e, w, starts, row_block, row_frac, row_weight, entry_order,
        entry_index,
    )  # fmt: skip


def risk_sums(s: Stratum, arrays: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Per block of tied times, the sums of each per-row array over the risk set."""
    out = []
    for a in arrays:
        total = reverse_cumsum(np.add.reduceat(a, s.starts, axis=0))
        if s.entry_order is not None and s.entry_index is not None:
            later = reverse_cumsum(a[s.entry_order])
            later = np.concatenate((later, np.zeros((1, *a.shape[1:]))))
            total = total - later[s.entry_index]
        out.append(total)
    return out


def loglik(groups: list[Stratum], beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Log partial likelihood, score and information at ``beta`` (covariates scaled)."""
    p = beta.size
    total, u, imat = 0.0, np.zeros(p), np.zeros((p, p))
    for s in groups:
        eta = s.x @ beta
        with np.errstate(over="ignore"):
            r = s.w * np.exp(eta)
        rx = r[:, None] * s.x
        rxx = rx[:, :, None] * s.x[:, None, :]
        dsums = [np.add.reduceat(a * s.dead.reshape((-1,) + (1,) * (a.ndim - 1)), s.starts,
                                 axis=0) for a in (r, rx, rxx)]  # fmt: skip
        s0, s1, s2 = risk_sums(s, (r, rx, rxx))
        b, frac, wt = s.row_block, s.row_frac, s.row_weight
        denom = s0[b] - frac * dsums[0][b]
        mean = (s1[b] - frac[:, None] * dsums[1][b]) / denom[:, None]
        alpha = np.bincount(b, weights=wt / denom, minlength=s0.size)
        beta_w = np.bincount(b, weights=wt * frac / denom, minlength=s0.size)
        total += float((s.dead * s.w) @ eta - wt @ np.log(denom))
        u += (s.dead * s.w) @ s.x - wt @ mean
        imat += np.einsum("b,bij->ij", alpha, s2) - np.einsum("b,bij->ij", beta_w, dsums[2])
        imat -= np.einsum("r,ri,rj->ij", wt, mean, mean)
    return total, u, imat


def nonsingular(imat: FloatArray, toler: float = TOLER_CHOL) -> np.ndarray:
    """Columns R's ``cholesky2`` keeps: a pivot below ``toler`` times the largest is redundant.

    Parameters
    ----------
    imat : numpy.ndarray
        Symmetric information matrix.
    toler : float, default ``TOLER_CHOL``
        Relative pivot tolerance.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True for the columns that are kept.
    """
    m = np.array(imat, dtype=np.float64)
    n = m.shape[0]
    diag = np.diag(m)
    largest = float(np.max(diag, initial=0.0))
    eps = largest * toler if largest > 0 else toler  # no positive diagonal: R uses toler
    keep = np.zeros(n, dtype=bool)
    for i in range(n):
        pivot = m[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            continue
        keep[i] = True
        temp = m[i + 1 :, i] / pivot
        m[i + 1 :, i + 1 :] -= np.outer(temp, m[i + 1 :, i])
    return keep


def _step(imat: FloatArray, u: FloatArray) -> FloatArray:
    """Newton step on the non-redundant columns; redundant ones stay put (step 0)."""
    active = nonsingular(imat)
    step = np.zeros(u.size)
    if active.any():
        sub = imat[np.ix_(active, active)]
        try:
            step[active] = linalg.cho_solve(linalg.cho_factor(sub), u[active])
        except (linalg.LinAlgError, ValueError) as exc:
            raise AnalysisError(
                "cox: information matrix is not positive definite on the kept covariates"
            ) from exc
    return step


def newton(groups: list[Stratum], p: int, max_iter: int, eps: float) -> Fit:
    """R's coxfit6 iteration: Newton steps from 0, step halving when the likelihood drops."""
    beta = np.zeros(p)
    loglik0, u, imat = loglik(groups, beta)
    step = _step(imat, u)
    score = float(u @ step)
    best, new_beta, halving = loglik0, beta + step, 0
    for it in range(1, max_iter + 1):
        new_lk, u, imat = loglik(groups, new_beta)
        finite = np.isfinite(new_lk) and np.isfinite(u).all() and np.isfinite(imat).all()
        if finite and abs(1 - best / new_lk) <= eps:
            return Fit(new_beta, u, imat, nonsingular(imat), loglik0, new_lk, score, it, True)
        if not finite or new_lk < best:
            halving += 1
            new_beta = (new_beta + halving * beta) / (halving + 1.0)
        else:
            halving, best, beta = 0, new_lk, new_beta
            new_beta = new_beta + _step(imat, u)
    last_lk, u, imat = loglik(groups, beta)
    return Fit(beta, u, imat, nonsingular(imat), loglik0, last_lk, score, max_iter, False)
