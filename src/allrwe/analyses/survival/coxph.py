"""Cox proportional-hazards regression, exact to R ``survival::coxph`` 3.5.

The Newton–Raphson iteration reproduces R's ``coxfit6``: covariates centred and scaled, start
at beta = 0, stop when the relative change of the log partial likelihood is at most ``eps``
(1e-9), halve the step when the likelihood drops, at most 20 iterations. The iterates are
therefore R's own, and coefficients agree to rounding, not only to R's tolerance.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg

from allrwe.analyses.survival._inputs import (
    FloatArray,
    as_entry,
    as_event,
    as_time,
    reverse_cumsum,
    timefix,
    timefix_counting,
)
from allrwe.analyses.survival.distributions import chi2_sf, norm_ppf
from allrwe.errors import AnalysisError, StudyWarning

__all__ = ["ChiSquareTest", "CoxResult", "cox"]

log = logging.getLogger(__name__)

Ties = Literal["efron", "breslow"]


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test: statistic, degrees of freedom and upper-tail p-value."""

    statistic: float
    df: int
    p: float


@dataclass(frozen=True, eq=False)
class CoxResult:
    """A fitted Cox model.

    Attributes
    ----------
    terms : tuple of str
        Covariate names.
    coef, se, hazard_ratio, lower, upper, z, p : numpy.ndarray
        Per term: log hazard ratio, its standard error, ``exp(coef)``, confidence limits of the
        hazard ratio, Wald z and two-sided p-value.
    variance : numpy.ndarray
        Variance matrix of ``coef`` (inverse information).
    loglik_null, loglik : float
        Log partial likelihood at beta = 0 and at the estimate.
    likelihood_ratio, wald, score : ChiSquareTest
        Global tests (score test at beta = 0, as R).
    n, n_event : int
        Rows used and events.
    iterations : int
        Newton–Raphson iterations.
    converged : bool
        Whether the iteration met the tolerance.
    ties : str
        Tie handling.
    conf_level : float
        Coverage of the hazard-ratio intervals.
    """

    terms: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    lower: FloatArray
    upper: FloatArray
    z: FloatArray
    p: FloatArray
    variance: FloatArray
    loglik_null: float
    loglik: float
    likelihood_ratio: ChiSquareTest
    wald: ChiSquareTest
    score: ChiSquareTest
    n: int
    n_event: int
    iterations: int
    converged: bool
    ties: str
    conf_level: float

    @property
    def table(self) -> pd.DataFrame:
        """Coefficients as a DataFrame, one row per term."""
        return pd.DataFrame(
            {
                "term": list(self.terms),
                "coef": self.coef,
                "se": self.se,
                "hazard_ratio": self.hazard_ratio,
                "lower": self.lower,
                "upper": self.upper,
                "z": self.z,
                "p": self.p,
            }
        )


@dataclass(frozen=True)
class _Stratum:
    """One stratum sorted by time: covariates, deaths, and the blocks of tied times."""

    x: FloatArray
    dead: FloatArray
    starts: np.ndarray
    block_deaths: FloatArray
    row_block: np.ndarray
    row_frac: FloatArray
    row_weight: FloatArray
    entry_order: np.ndarray | None
    entry_index: np.ndarray | None


@dataclass(frozen=True)
class _Fit:
    """Raw Newton–Raphson output on the scaled covariates."""

    beta: FloatArray
    u: FloatArray
    imat: FloatArray
    loglik_null: float
    loglik: float
    score: float
    iterations: int
    converged: bool


def cox(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    ties: Ties = "efron",
    strata: str | None = None,
    entry: str | None = None,
    conf_level: float = 0.95,
    max_iter: int = 20,
    eps: float = 1e-9,
) -> CoxResult:
    """Fit a Cox proportional-hazards model by Newton–Raphson, as R's ``coxph``.

    Rows with a missing value in any used column are dropped (R's ``na.omit``); the count is
    logged.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person.
    time, event : str
        Columns with follow-up time (>= 0) and event indicator (1 = event).
    covariates : sequence of str
        Numeric or boolean columns (encode categories as 0/1 indicators first).
    ties : {"efron", "breslow"}, default "efron"
        Approximation for tied event times (R's default is Efron).
    strata : str, optional
        Column whose values define strata with separate baseline hazards.
    entry : str, optional
        Column with the start of (start, stop] rows, ``time`` being the stop; a row is at
        risk at t when entry < t <= time, as R's ``Surv(start, stop, event)``. Gives left
        truncation, and time-dependent covariates from rows split where they change.
    conf_level : float, default 0.95
        Coverage of the hazard-ratio intervals.
    max_iter : int, default 20
        Maximum Newton–Raphson iterations (R's ``iter.max``).
    eps : float, default 1e-9
        Convergence tolerance on the relative change of the log likelihood (R's ``eps``).

    Returns
    -------
    CoxResult
        Coefficients, hazard ratios, likelihoods and global tests.

    Raises
    ------
    AnalysisError
        If a column is missing or not numeric, no event remains, or the covariates are
        collinear.

    Warns
    -----
    StudyWarning
        If the iteration does not converge or a coefficient may be infinite.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. JRSS B 34:187–220. Efron B (1977). The
    efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
    """
    if ties not in ("efron", "breslow"):
        raise AnalysisError(f"ties {ties!r} is not one of efron, breslow")
    terms = tuple([covariates] if isinstance(covariates, str) else covariates)
    frame = _select(data, time, event, terms, strata, entry)
    t = as_time(frame[time].to_numpy(), name=time)
    if entry is None:
        t, start = timefix(t), None
    else:
        start, t = timefix_counting(as_entry(frame[entry].to_numpy(), t, name=entry), t)
    e = as_event(frame[event].to_numpy(), t.size, name=event).astype(np.float64)
    if e.sum() == 0:
        raise AnalysisError(f"cox: no events in column {event!r} ({t.size} rows)")
    x = frame[list(terms)].to_numpy(dtype=np.float64)
    means = x.mean(axis=0)
    x = x - means
    spread = np.abs(x).mean(axis=0)
    scale = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 1.0)
    x = x * scale
    labels = np.zeros(t.size) if strata is None else frame[strata].to_numpy()
    groups = [
        _prepare(t[rows], e[rows], x[rows], ties, None if start is None else start[rows])
        for rows in _strata_rows(labels)
    ]
    fit = _newton(groups, x.shape[1], max_iter, eps)
    return _result(fit, scale, terms, ties, conf_level, t.size, int(e.sum()), eps)


def _select(
    data: pd.DataFrame,
    time: str,
    event: str,
    terms: tuple[str, ...],
    strata: str | None,
    entry: str | None,
) -> pd.DataFrame:
    cols = [time, event, *terms] + [c for c in (strata, entry) if c is not None]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise AnalysisError(f"cox: column(s) {missing} not in data (columns: {list(data)})")
    if not terms:
        raise AnalysisError("cox: at least one covariate is needed")
    for c in terms:
        if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])):
            raise AnalysisError(
                f"cox: covariate {c!r} has dtype {data[c].dtype}; encode it as 0/1 columns"
            )
    frame = data[cols]
    incomplete = frame.isna().any(axis=1)
    if incomplete.any():
        log.info("cox: dropped %d of %d row(s) with missing values", incomplete.sum(), len(frame))
        frame = frame[~incomplete]
    return frame


def _strata_rows(labels: np.ndarray) -> list[np.ndarray]:
    _, codes = np.unique(labels, return_inverse=True)
    return [np.flatnonzero(codes == k) for k in range(int(codes.max()) + 1)]


def _prepare(
    t: FloatArray, e: FloatArray, x: FloatArray, ties: str, start: FloatArray | None
) -> _Stratum:
    """Sort one stratum and lay out one row per Efron term (one per death-time for Breslow)."""
    order = np.argsort(t, kind="stable")
    t, e, x = t[order], e[order], x[order]
    entry_order = entry_index = None
    if start is not None:
        # rows that enter at or after a time are not at risk then: found by the sorted starts
        start = start[order]
        entry_order = np.argsort(start, kind="stable")
        entry_index = np.searchsorted(start[entry_order], t[_block_starts(t)], side="left")
    new = np.concatenate(([True], t[1:] != t[:-1]))
    starts = np.flatnonzero(new)
    deaths = np.add.reduceat(e, starts)
    blocks = np.flatnonzero(deaths > 0)
    d = deaths[blocks].astype(np.int64)
    if ties == "efron":
        row_block = np.repeat(blocks, d)
        offset = np.arange(row_block.size) - np.repeat(np.cumsum(d) - d, d)
        row_frac = offset / np.repeat(d, d).astype(np.float64)
        row_weight = np.ones(row_block.size)
    else:
        row_block, row_frac, row_weight = blocks, np.zeros(blocks.size), d.astype(np.float64)
    return _Stratum(x, e, starts, deaths, row_block, row_frac, row_weight, entry_order, entry_index)


def _block_starts(t: FloatArray) -> np.ndarray:
    """Index of the first row of each run of equal (sorted) times."""
    return np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))


def _risk_sums(s: _Stratum, arrays: tuple[FloatArray, ...]) -> list[FloatArray]:
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


def _loglik(groups: list[_Stratum], beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Log partial likelihood, score and information at ``beta`` (covariates scaled)."""
    p = beta.size
    loglik, u, imat = 0.0, np.zeros(p), np.zeros((p, p))
    for s in groups:
        eta = s.x @ beta
        r = np.exp(eta)
        rx = r[:, None] * s.x
        rxx = rx[:, :, None] * s.x[:, None, :]
        dsums = [np.add.reduceat(a * s.dead.reshape((-1,) + (1,) * (a.ndim - 1)), s.starts,
                                 axis=0) for a in (r, rx, rxx)]  # fmt: skip
        s0, s1, s2 = _risk_sums(s, (r, rx, rxx))
        b, frac, wt = s.row_block, s.row_frac, s.row_weight
        denom = s0[b] - frac * dsums[0][b]
        mean = (s1[b] - frac[:, None] * dsums[1][b]) / denom[:, None]
        alpha = np.bincount(b, weights=wt / denom, minlength=s0.size)
        beta_w = np.bincount(b, weights=wt * frac / denom, minlength=s0.size)
        loglik += float(s.dead @ eta - wt @ np.log(denom))
        u += s.dead @ s.x - wt @ mean
        imat += np.einsum("b,bij->ij", alpha, s2) - np.einsum("b,bij->ij", beta_w, dsums[2])
        imat -= np.einsum("r,ri,rj->ij", wt, mean, mean)
    return loglik, u, imat


def _solve(imat: FloatArray, rhs: FloatArray) -> FloatArray:
    try:
        return np.asarray(linalg.cho_solve(linalg.cho_factor(imat), rhs), dtype=np.float64)
    except (linalg.LinAlgError, ValueError) as exc:
        raise AnalysisError("cox: information matrix is singular; covariates collinear?") from exc


def _newton(groups: list[_Stratum], p: int, max_iter: int, eps: float) -> _Fit:
    """R's coxfit6 iteration: Newton steps from 0, step halving when the likelihood drops."""
    beta = np.zeros(p)
    loglik0, u, imat = _loglik(groups, beta)
    step = _solve(imat, u)
    score = float(u @ step)
    best, new_beta, halving = loglik0, beta + step, 0
    for it in range(1, max_iter + 1):
        new_lk, u, imat = _loglik(groups, new_beta)
        finite = np.isfinite(new_lk) and np.isfinite(u).all() and np.isfinite(imat).all()
        if finite and abs(1 - best / new_lk) <= eps:
            return _Fit(new_beta, u, imat, loglik0, new_lk, score, it, True)
        if not finite or new_lk < best:
            halving += 1
            new_beta = (new_beta + halving * beta) / (halving + 1.0)
        else:
            halving, best, beta = 0, new_lk, new_beta
            new_beta = new_beta + _solve(imat, u)
    last_lk, u, imat = _loglik(groups, beta)
    return _Fit(beta, u, imat, loglik0, last_lk, score, max_iter, False)


def _result(
    fit: _Fit,
    scale: FloatArray,
    terms: tuple[str, ...],
    ties: str,
    conf_level: float,
    n: int,
    n_event: int,
    eps: float,
) -> CoxResult:
    beta = fit.beta * scale
    var = np.linalg.inv(fit.imat) * np.outer(scale, scale)
    u = fit.u / scale
    if not fit.converged:
        warnings.warn(f"cox: no convergence in {fit.iterations} iterations", StudyWarning,
                      stacklevel=3)  # fmt: skip
    else:
        infs = np.abs(u @ var)
        suspect = ~np.isfinite(u) | ((infs > eps) & (infs > np.sqrt(eps) * np.abs(beta)))
        if suspect.any():
            names = ", ".join(t for t, s in zip(terms, suspect, strict=True) if s)
            warnings.warn(f"cox: coefficient(s) of {names} may be infinite", StudyWarning,
                          stacklevel=3)  # fmt: skip
    se = np.sqrt(np.diag(var))
    z = beta / se
    zq = float(norm_ppf((1 + conf_level) / 2))
    df = len(terms)
    lr = -2 * (fit.loglik_null - fit.loglik)
    wald = float(beta @ np.linalg.solve(var, beta))
    return CoxResult(
        terms=terms, coef=beta, se=se, hazard_ratio=np.exp(beta),
        lower=np.exp(beta - zq * se), upper=np.exp(beta + zq * se), z=z,
        p=chi2_sf(z**2, 1), variance=var, loglik_null=fit.loglik_null, loglik=fit.loglik,
        likelihood_ratio=ChiSquareTest(lr, df, float(chi2_sf(lr, df))),
        wald=ChiSquareTest(wald, df, float(chi2_sf(wald, df))),
        score=ChiSquareTest(fit.score, df, float(chi2_sf(fit.score, df))),
        n=n, n_event=n_event, iterations=fit.iterations, converged=fit.converged, ties=ties,
        conf_level=float(conf_level),
    )  # fmt: skip
