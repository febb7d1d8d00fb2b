"""Summary statistics and standardised mean differences of baseline variables (pure NumPy).

Conventions: the standard deviation is the sample SD (``ddof=1``); quartiles are NumPy's default
linear interpolation (R's ``quantile`` type 7, as in R's ``summary`` and tableone).

The published range is the **k-th range** (:func:`kth_range`): the k-th lowest and the k-th
highest value, k the minimum cell count, never the minimum and maximum (one person's value
each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ContinuousSummary",
    "kth_range",
    "proportions",
    "smd_binary",
    "smd_categorical",
    "smd_continuous",
    "summarise_continuous",
]

FloatArray = npt.NDArray[np.float64]

# Round-off allowed when deciding whether a difference lies outside the covariance's range.
_TOL = 1e-9


@dataclass(frozen=True)
class ContinuousSummary:
    """Summary of one continuous variable; statistics are NaN when not estimable.

    Attributes
    ----------
    n : int
        Non-missing values.
    n_missing : int
        Missing values.
    mean, sd, median, q25, q75, min, max : float
        The statistics of the non-missing values (``sd`` needs two values).
    """

    n: int
    n_missing: int
    mean: float
    sd: float
    median: float
    q25: float
    q75: float
    min: float
    max: float

    def estimates(self) -> dict[str, float]:
        """Return the statistics by estimate name (``mean`` ... ``max``)."""
        return {
            "mean": self.mean,
            "sd": self.sd,
            "median": self.median,
            "q25": self.q25,
            "q75": self.q75,
            "min": self.min,
            "max": self.max,
        }


def summarise_continuous(values: npt.ArrayLike) -> ContinuousSummary:
    """Return n, mean, SD, median, quartiles and range of the non-missing values.

    Parameters
    ----------
    values : array_like of float
        Values; NaN means missing.

    Returns
    -------
    ContinuousSummary

    Examples
    --------
    >>> s = summarise_continuous([1.0, 2.0, 3.0, 4.0, float("nan")])
    >>> s.n, s.n_missing, s.mean, round(s.sd, 4), s.median, s.q25, s.q75
    (4, 1, 2.5, 1.291, 2.5, 1.75, 3.25)
    """
    x = np.asarray(values, dtype="float64")
    ok = x[~np.isnan(x)]
    n = int(ok.size)
    if n == 0:
        nan = float("nan")
        return ContinuousSummary(0, int(x.size), nan, nan, nan, nan, nan, nan, nan)
    q25, median, q75 = (float(v) for v in np.quantile(ok, [0.25, 0.5, 0.75]))
    return ContinuousSummary(
        n=n,
        n_missing=int(x.size - n),
        mean=float(ok.mean()),
        sd=float(ok.std(ddof=1)) if n >= 2 else float("nan"),
        median=median,
        q25=q25,
        q75=q75,
        min=float(ok.min()),
        max=float(ok.max()),
    )


def kth_range(values: npt.ArrayLike, k: int) -> tuple[float, float] | None:
    """Return the k-th lowest and the k-th highest non-missing value, or None below 2k values.

    The disclosure-safe range of a published table (k = the minimum cell count): at least k
    persons have a value at or below the lower bound and at least k at or above the upper
    one, so neither bound is the value of one person who stands apart, as a minimum or a
    maximum can be. What it tells of a count is only whether fewer than k persons lie beyond
    a value, which suppression already says of every count it hides ("< k").

    Parameters
    ----------
    values : array_like
        The values; NaN is missing.
    k : int
        The rank from each end (``>= 1``; 1 gives the minimum and maximum).

    Returns
    -------
    tuple of float or None
        ``(low, high)``; None when fewer than ``2 * k`` values are present (the two bounds
        would then share persons).

    Examples
    --------
    >>> kth_range([19, 70, 23, 44, 31, 52, 38, 61, 27, 48], 3)
    (27.0, 52.0)
    >>> kth_range([19, 70, 23, 44, 31], 3) is None
    True
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    x = np.asarray(values, dtype="float64")
    x = np.sort(x[~np.isnan(x)])
    if x.size < 2 * k:
        return None
    return float(x[k - 1]), float(x[x.size - k])


def smd_continuous(mean1: float, sd1: float, mean2: float, sd2: float) -> float:
    """Standardised mean difference of a continuous variable (Cohen's d with the pooled SD).

    ``(mean1 - mean2) / sqrt((sd1**2 + sd2**2) / 2)``; signed, NaN when an input is NaN,
    0 when both SDs and the means are equal, and ±inf when only the means differ.

    References
    ----------
    Austin PC. Balance diagnostics for comparing the distribution of baseline covariates
    between treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-3107.

    Examples
    --------
    >>> smd_continuous(10.0, 2.0, 8.0, 4.0)  # 2 / sqrt(10)
    0.6324555320336759
    """
    values = np.array([mean1, sd1, mean2, sd2], dtype="float64")
    if np.isnan(values).any():
        return float("nan")
    diff = mean1 - mean2
    pooled = np.sqrt((sd1**2 + sd2**2) / 2.0)
    if pooled == 0:
        return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
    return float(diff / pooled)


def smd_binary(p1: float, p2: float) -> float:
    """Standardised difference of a proportion: ``(p1 - p2) / sqrt((p1 q1 + p2 q2) / 2)``.

    Signed; equals :func:`smd_categorical` of ``[1 - p, p]`` up to the sign.

    Examples
    --------
    >>> round(smd_binary(0.5, 0.25), 6)  # 0.25 / sqrt(0.21875)
    0.534522
    """
    if np.isnan(p1) or np.isnan(p2):
        return float("nan")
    var = (p1 * (1 - p1) + p2 * (1 - p2)) / 2.0
    diff = p1 - p2
    if var == 0:
        return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
    return float(diff / np.sqrt(var))


def proportions(counts: npt.ArrayLike) -> FloatArray:
    """Return counts divided by their sum (NaN when the sum is 0)."""
    c = np.asarray(counts, dtype="float64")
    total = c.sum()
    if total <= 0:
        return np.full(c.shape, np.nan)
    return np.asarray(c / total, dtype="float64")


def smd_categorical(p1: npt.ArrayLike, p2: npt.ArrayLike) -> float:
    """Standardised difference of a categorical variable (Yang & Dalton's multinomial formula).

    With ``T = p1 - p2`` and ``S = (S1 + S2) / 2``, where ``S_i`` is the covariance matrix of
    one draw from the multinomial ``p_i`` (``p_k (1 - p_k)`` on the diagonal, ``-p_k p_l`` off
    it), both restricted to the categories after the first, the SMD is ``sqrt(T' S^-1 T)``.
    Categories empty in both groups drop out (a generalised inverse is used); a difference
    that ``S`` cannot explain (e.g. all of one group in a category none of the other has)
    gives ``inf``. Two categories reduce to ``|smd_binary|``.

    Parameters
    ----------
    p1, p2 : array_like of float
        Proportions of each category in the two groups (each summing to 1), same order.

    Returns
    -------
    float
        Non-negative SMD; NaN when a group has no persons (NaN proportions).

    References
    ----------
    Yang D, Dalton JE. A unified approach to measuring the effect size between two groups using
    SAS. SAS Global Forum 2012, paper 335-2012.

    Examples
    --------
    >>> round(smd_categorical([0.5, 0.5], [0.75, 0.25]), 6)
    0.534522
    """
    a = np.asarray(p1, dtype="float64")
    b = np.asarray(p2, dtype="float64")
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"proportions must be two vectors of one length, got {a.shape}, {b.shape}")
    if np.isnan(a).any() or np.isnan(b).any():
        return float("nan")
    if a.size < 2:
        return 0.0
    t = (a - b)[1:]
    s = (_multinomial_cov(a[1:]) + _multinomial_cov(b[1:])) / 2.0
    inv = np.linalg.pinv(s)
    explained = s @ inv @ t
    if np.abs(t - explained).max() > _TOL:
        return float("inf")
    d2 = float(t @ inv @ t)
    return float(np.sqrt(max(d2, 0.0)))


def _multinomial_cov(p: FloatArray) -> FloatArray:
    cov = -np.outer(p, p)
    np.fill_diagonal(cov, p * (1.0 - p))
    return np.asarray(cov, dtype="float64")
