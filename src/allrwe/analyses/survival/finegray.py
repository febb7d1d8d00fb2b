"""Fine–Gray regression of the subdistribution hazard, as ``cmprsk::crr`` 2.2.

Persons who failed from another cause stay in the risk set after their failure with weight
``G(t-) / G(T_i-)``, G being the Kaplan–Meier estimate of the censoring distribution; the
weighted Breslow partial likelihood is maximised by ``crr``'s Newton–Raphson (start at 0,
step halving on an Armijo rule, stop when the scaled score is below ``gtol``). The variance
is Fine and Gray's sandwich, including the term for the estimated censoring distribution.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.survival._inputs import FloatArray, as_time, reverse_cumsum
from allrwe.analyses.survival.distributions import chi2_sf, norm_ppf
from allrwe.errors import AnalysisError

__all__ = ["FineGrayResult", "fine_gray"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class FineGrayResult:
    """A fitted Fine–Gray model.

    Attributes
    ----------
    terms : tuple of str
        Covariate names.
    coef, se, hazard_ratio, lower, upper, z, p : numpy.ndarray
        Per term: log subdistribution hazard ratio, its (sandwich) standard error, the ratio,
        its confidence limits, Wald z and two-sided p-value.
    variance : numpy.ndarray
        Sandwich variance of ``coef`` (``crr``'s ``var``).
    loglik, loglik_null : float
        Log pseudo-likelihood at the estimate and at 0.
    event_times, baseline_jumps : numpy.ndarray
        Distinct failure times of the cause of interest and the jumps of the baseline
        cumulative subdistribution hazard there (``crr``'s ``uftime`` and ``bfitj``).
    n, n_event : int
        Rows used and failures of the cause of interest.
    iterations : int
        Newton–Raphson iterations.
    converged : bool
        Whether the score met ``gtol``.
    conf_level : float
        Coverage of the intervals.
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
    loglik: float
    loglik_null: float
    event_times: FloatArray
    baseline_jumps: FloatArray
    n: int
    n_event: int
    iterations: int
    converged: bool
    conf_level: float

    @property
    def table(self) -> pd.DataFrame:
        """Coefficients as a DataFrame, one row per term."""
        return pd.DataFrame({
            "term": list(self.terms), "coef": self.coef, "se": self.se,
            "hazard_ratio": self.hazard_ratio, "lower": self.lower, "upper": self.upper,
            "z": self.z, "p": self.p,
        })  # fmt: skip

    def predict(self, covariates: Sequence[float]) -> pd.DataFrame:
        """Cumulative incidence of the cause for one covariate vector (``predict.crr``).

        Parameters
        ----------
        covariates : sequence of float
            One value per term, in the order of ``terms``.

        Returns
        -------
        pandas.DataFrame
            Columns ``time`` (the failure times) and ``cif`` = 1 - exp(-exp(x'b) H0(t)).

        Raises
        ------
        AnalysisError
            If the number of values differs from the number of terms.
        """
        x = np.asarray(covariates, dtype=np.float64)
        if x.shape != self.coef.shape:
            raise AnalysisError(f"predict needs {self.coef.size} covariate value(s); got {x.size}")
        cumhaz = np.cumsum(np.exp(x @ self.coef) * self.baseline_jumps)
        return pd.DataFrame({"time": self.event_times, "cif": 1 - np.exp(-cumhaz)})


@dataclass(frozen=True)
class _Data:
    """Rows sorted by time: codes 1 = cause of interest, 2 = other cause, 0 = censored."""

    time: FloatArray
    code: np.ndarray
    x: FloatArray
    group: np.ndarray  # censoring group code 0..k-1
    g: FloatArray  # KM of censoring of the row's group, just before the row's time
    g_fail: FloatArray  # (k, failures): KM of censoring of each group just before each failure
    fail: np.ndarray  # row indices of failures of the cause, in time order


def fine_gray(
    data: pd.DataFrame,
    *,
    time: str,
    cause: str,
    covariates: Sequence[str],
    cause_of_interest: int = 1,
    censor_code: int = 0,
    censoring_groups: str | None = None,
    conf_level: float = 0.95,
    gtol: float = 1e-6,
    max_iter: int = 10,
) -> FineGrayResult:
    """Fit a Fine–Gray proportional subdistribution hazards model, as ``cmprsk::crr``.

    Rows with a missing value in a used column are dropped (``na.omit``) and counted in
    the log.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person.
    time : str
        Column with the time of failure or censoring (>= 0).
    cause : str
        Column with the cause code: ``censor_code`` = censored, ``cause_of_interest`` = the
        failure modelled, anything else = a competing failure.
    covariates : sequence of str
        Numeric or boolean columns.
    cause_of_interest : int, default 1
        ``crr``'s ``failcode``.
    censor_code : int, default 0
        ``crr``'s ``cencode``.
    censoring_groups : str, optional
        Column whose values have separate censoring distributions (``crr``'s ``cengroup``).
    conf_level : float, default 0.95
        Coverage of the intervals.
    gtol : float, default 1e-6
        ``crr``'s convergence tolerance on the score.
    max_iter : int, default 10
        ``crr``'s ``maxiter``.

    Returns
    -------
    FineGrayResult
        Coefficients, sandwich variance, likelihoods and the baseline for predictions.

    Raises
    ------
    AnalysisError
        If a column is missing or not numeric, or no failure of the cause remains.

    References
    ----------
    Fine JP, Gray RJ (1999). A proportional hazards model for the subdistribution of a
    competing risk. JASA 94:496–509.
    """
    terms = tuple([covariates] if isinstance(covariates, str) else covariates)
    d = _prepare(data, (time, cause, censoring_groups), terms, cause_of_interest, censor_code)
    beta, lik, iterations, converged = _newton(d, gtol, max_iter)
    lik0 = _sums(d, np.zeros(len(terms)))[0]
    _, _, info, s0 = _sums(d, beta)
    bread = np.linalg.inv(info)
    var = bread @ _meat(d, beta) @ bread
    se = np.sqrt(np.diag(var))
    zq = float(norm_ppf((1 + conf_level) / 2))
    utime, first = np.unique(d.time[d.fail], return_index=True)
    deaths = np.diff(np.append(first, d.fail.size))
    return FineGrayResult(
        terms=terms, coef=beta, se=se, hazard_ratio=np.exp(beta),
        lower=np.exp(beta - zq * se), upper=np.exp(beta + zq * se), z=beta / se,
        p=chi2_sf((beta / se) ** 2, 1), variance=var, loglik=-lik, loglik_null=-lik0,
        event_times=utime, baseline_jumps=deaths / s0[first], n=int(d.time.size),
        n_event=int(d.fail.size), iterations=iterations, converged=converged,
        conf_level=float(conf_level),
    )  # fmt: skip


def _prepare(
    data: pd.DataFrame,
    columns: tuple[str, str, str | None],
    terms: tuple[str, ...],
    fail: int,
    cens: int,
) -> _Data:
    time, cause, groups = columns
    cols = [time, cause, *terms] + ([groups] if groups is not None else [])
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise AnalysisError(f"fine_gray: column(s) {missing} not in data (columns: {list(data)})")
    if not terms:
        raise AnalysisError("fine_gray: at least one covariate is needed")
    frame = data[cols]
    incomplete = frame.isna().any(axis=1)
    if incomplete.any():
        log.info("fine_gray: dropped %d of %d row(s) with missing values",
                 incomplete.sum(), len(frame))  # fmt: skip
        frame = frame[~incomplete]
    for c in terms:
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])):
            raise AnalysisError(f"fine_gray: covariate {c!r} has dtype {frame[c].dtype}")
    t = as_time(frame[time].to_numpy(), name=time)
    order = np.argsort(t, kind="stable")
    raw = frame[cause].to_numpy()[order]
    code = np.where(raw == fail, 1, np.where(raw == cens, 0, 2))
    if not (code == 1).any():
        raise AnalysisError(f"fine_gray: no failure with {cause} = {fail} ({t.size} rows)")
    t = t[order]
    x = frame[list(terms)].to_numpy(dtype=np.float64)[order]
    group = np.zeros(t.size, dtype=np.int64)
    if groups is not None:
        group = np.unique(frame[groups].to_numpy()[order], return_inverse=True)[1]
    fails = np.flatnonzero(code == 1)
    km = [_censoring_km(t[group == k], code[group == k] == 0) for k in range(group.max() + 1)]
    g = np.empty(t.size)
    for k, curve in enumerate(km):
        g[group == k] = _before(curve, t[group == k])
    g_fail = np.array([_before(curve, t[fails]) for curve in km])
    return _Data(t, code, x, group, g, g_fail, fails)


def _censoring_km(t: FloatArray, censored: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Kaplan–Meier of the censoring times (sorted input): distinct times and estimate."""
    utime, first, inv = np.unique(t, return_index=True, return_inverse=True)
    lost = np.bincount(inv, weights=censored.astype(np.float64), minlength=utime.size)
    return utime, np.cumprod(1 - lost / (t.size - first), dtype=np.float64)


def _before(curve: tuple[FloatArray, FloatArray], at: FloatArray) -> FloatArray:
    """Return a step function's value just before each time (1 before its first time)."""
    utime, km = curve
    idx = np.searchsorted(utime, at, side="left") - 1
    return np.asarray(np.where(idx >= 0, km[np.maximum(idx, 0)], 1.0), dtype=np.float64)


def _risk(d: _Data, beta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Weighted risk-set sums S0, S1, S2 at each failure, and exp(x'b) per row."""
    r = np.exp(d.x @ beta)
    rx = r[:, None] * d.x
    rxx = rx[:, :, None] * d.x[:, None, :]
    first = np.searchsorted(d.time, d.time[d.fail], side="left")
    other = (d.code == 2) / d.g
    sums = []
    for a in (r, rx, rxx):
        shape = (1, *a.shape[1:])
        total = np.concatenate((reverse_cumsum(a), np.zeros(shape)))[first]
        for k, gf in enumerate(d.g_fail):
            wk = np.where(d.group == k, other, 0.0).reshape((-1,) + (1,) * (a.ndim - 1))
            lagged = np.concatenate((np.zeros(shape), np.cumsum(a * wk, axis=0)))[first]
            total = total + gf.reshape((-1,) + (1,) * (a.ndim - 1)) * lagged
        sums.append(total)
    return sums[0], sums[1], sums[2], r


def _sums(d: _Data, beta: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Negative log pseudo-likelihood, its gradient, the information, and S0 per failure."""
    s0, s1, s2, _ = _risk(d, beta)
    xf = d.x[d.fail]
    mean = s1 / s0[:, None]
    lik = float(np.sum(np.log(s0)) - np.sum(xf @ beta))
    grad = mean.sum(axis=0) - xf.sum(axis=0)
    info = (s2 / s0[:, None, None]).sum(axis=0) - mean.T @ mean
    return lik, grad, info, s0


def _newton(d: _Data, gtol: float, max_iter: int) -> tuple[FloatArray, float, int, bool]:
    """Iterate as ``crr``: Newton steps, halved until the Armijo rule holds (20 times at most)."""
    beta = np.zeros(d.x.shape[1])
    for it in range(max_iter + 1):
        lik, grad, info, _ = _sums(d, beta)
        if np.max(np.abs(grad) * np.maximum(np.abs(beta), 1)) < max(abs(lik), 1) * gtol:
            return beta, lik, it, True
        if it == max_iter:
            break
        step = -np.linalg.solve(info, grad)
        for _ in range(21):
            new_lik = _sums(d, beta + step)[0]
            if np.isfinite(new_lik) and new_lik <= lik + 1e-4 * float(step @ grad):
                break
            step = step * 0.5
        else:
            return beta, lik, it, False
        beta = beta + step
    return beta, lik, max_iter, False


def _meat(d: _Data, beta: FloatArray) -> FloatArray:
    """Sum over persons of (eta_i + psi_i)(eta_i + psi_i)' (Fine and Gray 1999, sec. 3)."""
    s0, s1, _, r = _risk(d, beta)
    mean = s1 / s0[:, None]
    tf = d.time[d.fail]
    n, p = d.x.shape
    # eta: the event term, minus the share of each failure's hazard while in the risk set
    eta = np.zeros((n, p))
    eta[d.fail] += d.x[d.fail] - mean
    upto = np.searchsorted(tf, d.time, side="right")
    c_h = np.concatenate(([0.0], np.cumsum(1 / s0)))
    c_m = np.concatenate((np.zeros((1, p)), np.cumsum(mean / s0[:, None], axis=0)))
    eta -= r[:, None] * (d.x * c_h[upto][:, None] - c_m[upto])
    k0, k1 = _failure_sums(d, s0, mean)
    other = d.code == 2
    after, after_m = k0[d.group, upto], k1[d.group, upto]
    eta[other] -= (r / d.g)[other, None] * (d.x[other] * after[other, None] - after_m[other])
    return _with_psi(d, eta, r, s0, mean)


def _failure_sums(
    d: _Data, s0: FloatArray, mean: FloatArray, own_group: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Per group, sums over failures from index j on of G_f / S0_f (and times xbar_f).

    With ``own_group`` only the failures of that censoring group count, as ``crr``'s q(u).
    """
    p = mean.shape[1]
    gf = d.g_fail
    if own_group:
        gf = np.where(d.group[d.fail][None, :] == np.arange(gf.shape[0])[:, None], gf, 0.0)
    k0 = np.stack([np.concatenate((reverse_cumsum(g / s0), [0.0])) for g in gf])
    k1 = np.stack([np.concatenate((reverse_cumsum(g[:, None] * mean / s0[:, None]),
                                   np.zeros((1, p)))) for g in gf])  # fmt: skip
    return k0, k1


def _with_psi(
    d: _Data, eta: FloatArray, r: FloatArray, s0: FloatArray, mean: FloatArray
) -> FloatArray:
    """Add psi, the censoring-martingale term, to eta and return the summed outer products.

    Per censoring group k (as ``crr`` 2.2-11): q_k(u) = sum over the group's failures at or
    after u of G_f / S0_f (A1(u) - xbar_f A0(u)), A being sums over the group's competing
    failures before u of exp(x'b) / G (times x for A1).
    """
    n, p = d.x.shape
    utime, first, inv = np.unique(d.time, return_index=True, return_inverse=True)
    from_u = np.searchsorted(d.time[d.fail], utime, side="left")
    k0, k1 = _failure_sums(d, s0, mean, own_group=True)
    psi = np.zeros((n, p))
    for k in range(d.g_fail.shape[0]):
        w = np.where((d.code == 2) & (d.group == k), r / d.g, 0.0)
        a0 = np.concatenate(([0.0], np.cumsum(w)))[first]
        a1 = np.concatenate((np.zeros((1, p)), np.cumsum(w[:, None] * d.x, axis=0)))[first]
        q = a1 * k0[k, from_u][:, None] - a0[:, None] * k1[k, from_u]
        member = d.group == k
        ahead = reverse_cumsum(np.bincount(inv[member], minlength=utime.size).astype(np.float64))
        lost = np.bincount(inv[member & (d.code == 0)], minlength=utime.size).astype(np.float64)
        rate = np.divide(lost, ahead**2, out=np.zeros(utime.size), where=ahead > 0)
        drift = np.cumsum(q * rate[:, None], axis=0)
        psi[member] = -drift[inv[member]]
        cens = member & (d.code == 0)
        psi[cens] += q[inv[cens]] / ahead[inv[cens], None]
    total = eta + psi
    return np.asarray(total.T @ total, dtype=np.float64)
