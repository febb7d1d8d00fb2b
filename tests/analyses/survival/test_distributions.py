"""The ``scipy.special`` wrappers give exactly ``scipy.stats``' values."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from allrwe.analyses.survival.distributions import beta_ppf, chi2_cdf, chi2_sf, norm_ppf

RNG = np.random.default_rng(20261122)
STATISTICS = np.concatenate(
    [
        [-1e-12, -3.0, 0.0, 1e-300, np.inf, np.nan],
        RNG.uniform(0, 60, 20_000),
        RNG.exponential(2, 5_000),
    ]
)


@pytest.mark.parametrize("df", [1, 2, 3, 7, 12])
def test_chi2_matches_scipy_stats(df: int) -> None:
    with np.errstate(invalid="ignore"):
        assert np.array_equal(
            chi2_sf(STATISTICS, df), stats.chi2.sf(STATISTICS, df), equal_nan=True
        )
        assert np.array_equal(
            chi2_cdf(STATISTICS, df), stats.chi2.cdf(STATISTICS, df), equal_nan=True
        )
    assert chi2_sf(-1e-12, 1) == 1.0  # a likelihood-ratio statistic rounded below 0
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-15)


def test_norm_ppf_matches_scipy_stats() -> None:
    q = np.concatenate([[0.0, 1.0, 0.5, 0.975, 0.995, np.nan], RNG.uniform(0, 1, 20_000)])
    assert np.array_equal(norm_ppf(q), stats.norm.ppf(q), equal_nan=True)
    assert norm_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-15)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_beta_ppf_matches_scipy_stats_on_clopper_pearson_shapes(alpha: float) -> None:
    n = np.concatenate([np.arange(0, 300), RNG.integers(300, 100_000, 200)])
    x = np.concatenate([RNG.integers(0, k + 1, 40) for k in n])
    n_rep = np.repeat(n, 40)
    for q, a, b in ((alpha / 2, x, n_rep - x + 1), (1 - alpha / 2, x + 1, n_rep - x)):
        with np.errstate(invalid="ignore"):
            expected = stats.beta.ppf(q, a, b)
        got = beta_ppf(q, a, b)
        assert np.array_equal(got, expected, equal_nan=True)
    # shapes that are not positive: NaN, as scipy.stats
    assert np.isnan(beta_ppf(0.025, 0, 5))
    assert np.isnan(beta_ppf(0.975, 3, 0))
    assert float(beta_ppf(0.025, 14, 15)) == pytest.approx(0.3064709, abs=1e-7)


def test_estimators_do_not_import_scipy_stats() -> None:
    code = (
        "import sys, allrwe.analyses.survival, allrwe.analyses.outcomes; "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
