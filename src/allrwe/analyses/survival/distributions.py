"""The few distribution functions the estimators need, straight from ``scipy.special``.

``scipy.stats`` computes ``norm.ppf``, ``chi2.sf``, ``chi2.cdf`` and ``beta.ppf`` with these same
special functions, so the values are bit-for-bit those of ``scipy.stats`` (tests compare
them). Importing ``scipy.stats`` costs about half a second at every start-up of ``allrwe``;
these wrappers only need ``scipy.special``. Arguments outside a distribution's support get
``scipy.stats``' answers: a survival function of 1 and a distribution function of 0 below 0,
and NaN for shape parameters that are not positive.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

__all__ = ["beta_ppf", "chi2_cdf", "chi2_sf", "norm_ppf"]


def norm_ppf(q: Any) -> Any:
    """Quantile function of the standard normal distribution (``scipy.stats.norm.ppf``)."""
    return special.ndtri(q)


def chi2_sf(x: Any, df: Any) -> Any:
    """Upper tail of the chi-square distribution with ``df`` degrees of freedom.

    Parameters
    ----------
    x : float or array_like
        The statistic; values below 0 (rounding in a likelihood-ratio statistic) give 1.
    df : float or array_like
        Degrees of freedom, positive.

    Returns
    -------
    float or ndarray
        ``P(X > x)``, as ``scipy.stats.chi2.sf(x, df)``.
    """
    return special.chdtrc(df, np.maximum(x, 0.0))


def chi2_cdf(x: Any, df: Any) -> Any:
    """Distribution function of the chi-square distribution (``scipy.stats.chi2.cdf``)."""
    return special.chdtr(df, np.maximum(x, 0.0))


def beta_ppf(q: Any, a: Any, b: Any) -> Any:
    """Quantile function of the beta distribution (``scipy.stats.beta.ppf(q, a, b)``).

    Parameters
    ----------
    q : float or array_like
        Probabilities.
    a, b : float or array_like
        Shape parameters; where either is not positive the result is NaN.

    Returns
    -------
    float or ndarray
    """
    a_arr, b_arr = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    valid = (a_arr > 0) & (b_arr > 0)
    # Shapes that are not positive get a stand-in of 1 so that the special function never
    # sees them; their result is then replaced by NaN.
    safe_a, safe_b = np.where(valid, a_arr, 1.0), np.where(valid, b_arr, 1.0)
    return np.where(valid, special.betaincinv(safe_a, safe_b, q), np.nan)
