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

from allrwe.analyses.survival._cox_fit import Fit, newton, nonsingular, prepare
from allrwe.analyses.survival._cox_robust import cluster_score, sandwich, score_residuals
from allrwe.analyses.survival._inputs import (
    FloatArray,
    as_entry,
    as_event,
    as_time,
    as_weights,
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
        hazard ratio, Wald z and two-sided p-value. NaN for an aliased term.
    variance : numpy.ndarray
        Variance matrix of ``coef``: the robust (sandwich) variance when ``robust`` is True,
        else the inverse information. Rows and columns of aliased terms are 0, as in R.
    naive_variance : numpy.ndarray
        Inverse information (equal to ``variance`` unless robust).
    aliased : numpy.ndarray
        Per term, True when the covariate is redundant (a linear combination of the others,
        within R's ``toler.chol``): set aside with an NA coefficient, as ``coxph`` does.
    infinite : numpy.ndarray
        Per term, True when the likelihood converged before the coefficient did (R's
        "coefficient may be infinite"): the estimate is a point on a monotone likelihood.
    robust : bool
        Whether ``variance`` is the robust one.
    robust_score : ChiSquareTest or None
        R's robust score test (``fit$rscore``) when robust, else None.
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
    naive_variance: FloatArray
    aliased: np.ndarray
    infinite: np.ndarray
    robust: bool
    robust_score: ChiSquareTest | None
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
                "aliased": self.aliased,
                "infinite": self.infinite,
            }
        )


def cox(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    ties: Ties = "efron",
    strata: str | None = None,
    entry: str | None = None,
    weights: str | None = None,
    robust: bool | None = None,
    cluster: str | None = None,
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
    weights : str, optional
        Column of non-negative case weights (R's ``weights=``): each row counts that many
        times in the risk sets and the likelihood.
    robust : bool, optional
        Report the robust (sandwich) variance, as ``coxph(..., robust = TRUE)``; the naive
        one stays in ``naive_variance``. By default (None) robust when a cluster is given or
        a weight is not a whole number, which is R's default.
    cluster : str, optional
        Column of cluster ids (e.g. the person of split rows): the robust variance sums the
        residuals by cluster first, as ``coxph(..., cluster = id)``. Implies ``robust``.
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
        If a column is missing or not numeric, no event remains, or every covariate is
        constant or redundant.

    Warns
    -----
    StudyWarning
        If the iteration does not converge, a coefficient may be infinite, or a covariate is
        redundant (aliased) and set aside.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. JRSS B 34:187–220. Efron B (1977). The
    efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
    """
    if ties not in ("efron", "breslow"):
        raise AnalysisError(f"ties {ties!r} is not one of efron, breslow")
    terms = tuple([covariates] if isinstance(covariates, str) else covariates)
    frame = _select(data, time, event, terms, (strata, entry, weights, cluster))
    t = as_time(frame[time].to_numpy(), name=time)
    if entry is None:
        t, start = timefix(t), None
    else:
        start, t = timefix_counting(as_entry(frame[entry].to_numpy(), t, name=entry), t)
    e = as_event(frame[event].to_numpy(), t.size, name=event).astype(np.float64)
    if e.sum() == 0:
        raise AnalysisError(f"cox: no events in column {event!r} ({t.size} rows)")
    w = as_weights(None if weights is None else frame[weights].to_numpy(), t.size, name=weights
                   or "weights")  # fmt: skip
    x, scale = _centre_scale(frame[list(terms)].to_numpy(dtype=np.float64), w)
    labels = np.zeros(t.size) if strata is None else frame[strata].to_numpy()
    groups = [
        prepare(rows, t[rows], e[rows], x[rows], w[rows], ties,
                None if start is None else start[rows])
        for rows in _strata_rows(labels)
    ]  # fmt: skip
    fit = newton(groups, x.shape[1], max_iter, eps)
    if not fit.active.any():
        raise AnalysisError(f"cox: every covariate of {list(terms)} is constant or redundant")
    robust_parts = None
    if robust is None:
        robust = cluster is not None or bool(np.any(w != np.floor(w)))
    if robust or cluster is not None:
        codes = None if cluster is None else np.unique(frame[cluster], return_inverse=True)[1]
        robust_parts = (groups, w, codes)
    meta = (terms, ties, conf_level, t.size, int(e.sum()), eps)
    return _result(fit, scale, meta, robust_parts)


def _centre_scale(x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Centre on the weighted means and scale by 1 / weighted mean |x|, as R's coxfit6."""
    total = w.sum()
    x = x - (w @ x) / total
    spread = (w @ np.abs(x)) / total
    scale = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 1.0)
    return x * scale, scale


def _select(
    data: pd.DataFrame,
    time: str,
    event: str,
    terms: tuple[str, ...],
    extra: tuple[str | None, ...],
) -> pd.DataFrame:
    cols = [time, event, *terms] + [c for c in extra if c is not None]
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
    frame = data[list(dict.fromkeys(cols))]
    incomplete = frame.isna().any(axis=1)
    if incomplete.any():
        log.info("cox: dropped %d of %d row(s) with missing values", incomplete.sum(), len(frame))
        frame = frame[~incomplete]
    return frame


def _strata_rows(labels: np.ndarray) -> list[np.ndarray]:
    _, codes = np.unique(labels, return_inverse=True)
    return [np.flatnonzero(codes == k) for k in range(int(codes.max()) + 1)]


def _inverse(imat: FloatArray, active: np.ndarray) -> FloatArray:
    """Inverse on the kept columns, zeros for the aliased ones (R's chinv2)."""
    var = np.zeros_like(imat)
    sub = imat[np.ix_(active, active)]
    var[np.ix_(active, active)] = linalg.cho_solve(linalg.cho_factor(sub), np.eye(sub.shape[0]))
    return var


def _quad(vec: FloatArray, var: FloatArray) -> float:
    """``vec' var^-1 vec`` on the columns R's cholesky2 keeps (R's coxph.wtest)."""
    keep = nonsingular(var)
    if not keep.any():
        return 0.0
    return float(vec[keep] @ np.linalg.solve(var[np.ix_(keep, keep)], vec[keep]))


def _warn(
    fit: Fit,
    beta: FloatArray,
    u: FloatArray,
    var: FloatArray,
    terms: tuple[str, ...],
    eps: float,
) -> np.ndarray:
    """Emit R's warnings; return the per-term "may be infinite" flags."""
    infinite = np.zeros(beta.size, dtype=bool)
    if not fit.converged:
        warnings.warn(f"cox: no convergence in {fit.iterations} iterations", StudyWarning,
                      stacklevel=4)  # fmt: skip
    else:
        infs = np.abs(u @ var)
        infinite = fit.active & (~np.isfinite(u) | ((infs > eps) &
                                 (infs > np.sqrt(eps) * np.abs(beta))))  # fmt: skip
        if infinite.any():
            names = ", ".join(t for t, s in zip(terms, infinite, strict=True) if s)
            warnings.warn(f"cox: the likelihood converged before the coefficient of {names}; "
                          "it may be infinite (monotone likelihood)", StudyWarning,
                          stacklevel=4)  # fmt: skip
    if not fit.active.all():
        names = ", ".join(t for t, a in zip(terms, fit.active, strict=True) if not a)
        warnings.warn(f"cox: {names} redundant (aliased with the other covariates); set aside "
                      "with an NA coefficient, as R's coxph", StudyWarning,
                      stacklevel=4)  # fmt: skip
    return infinite


def _result(fit: Fit, scale: FloatArray, meta: tuple, robust_parts: tuple | None) -> CoxResult:
    terms, ties, conf_level, n, n_event, eps = meta
    active = fit.active
    outer = np.outer(scale, scale)
    beta = np.where(active, fit.beta * scale, np.nan)
    naive = _inverse(fit.imat, active) * outer
    u = fit.u / scale
    infinite = _warn(fit, np.where(active, beta, 0.0), u, naive, terms, eps)
    var, rscore = naive, None
    if robust_parts is not None:
        groups, w, codes = robust_parts
        bread = _inverse(fit.imat, active)
        resid = score_residuals(groups, fit.beta, n)
        var = sandwich(resid, w, bread, codes) * outer
        resid0 = cluster_score(score_residuals(groups, np.zeros(fit.beta.size), n), w, codes)
        u0 = resid0.sum(axis=0)
        stat = _quad(u0, resid0.T @ resid0)
        df0 = int(nonsingular(resid0.T @ resid0).sum())
        rscore = ChiSquareTest(stat, df0, float(chi2_sf(stat, df0)))
    se = np.where(active, np.sqrt(np.diag(var)), np.nan)
    z = beta / se
    zq = float(norm_ppf((1 + conf_level) / 2))
    df = int(active.sum())
    lr = -2 * (fit.loglik_null - fit.loglik)
    wald = _quad(np.where(active, beta, 0.0)[active], var[np.ix_(active, active)])
    return CoxResult(
        terms=terms, coef=beta, se=se, hazard_ratio=np.exp(beta),
        lower=np.exp(beta - zq * se), upper=np.exp(beta + zq * se), z=z,
        p=chi2_sf(z**2, 1), variance=var, naive_variance=naive, aliased=~active,
        infinite=infinite, robust=robust_parts is not None, robust_score=rscore,
        loglik_null=fit.loglik_null, loglik=fit.loglik,
        likelihood_ratio=ChiSquareTest(lr, df, float(chi2_sf(lr, df))),
        wald=ChiSquareTest(wald, df, float(chi2_sf(wald, df))),
        score=ChiSquareTest(fit.score, df, float(chi2_sf(fit.score, df))),
        n=n, n_event=n_event, iterations=fit.iterations, converged=fit.converged, ties=ties,
        conf_level=float(conf_level),
    )  # fmt: skip
