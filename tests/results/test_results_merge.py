"""Merging sites: identical specs, per-site columns, pooled counts, proportions and HRs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from allrwe.errors import UsageError
from allrwe.results.merge import merge_sites, meta_analysis, write_merged
from site_dirs import site_folder as _site


def _hand_meta(hr, lo, hi):
    y = np.log(hr)
    se = (np.log(hi) - np.log(lo)) / (2 * 1.959963984540054)
    w = 1 / se**2
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    tau2 = max(0.0, (q - 2) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    wr = 1 / (se**2 + tau2)
    return np.exp(fixed), np.exp(np.sum(wr * y) / np.sum(wr)), max(0.0, (q - 2) / q) * 100, tau2


@pytest.fixture
def sites(tmp_path: Path) -> list[Path]:
    return [
        _site(tmp_path, "site_a", cr="30", n="40", hr=(0.5, 0.3, 0.83)),
        _site(tmp_path, "site_b", cr="12", n="20", hr=(0.9, 0.5, 1.62)),
        _site(tmp_path, "site_c", cr="50", n="60", hr=(0.4, 0.25, 0.64)),
    ]


def _value(merged, analysis, estimate, column="pooled"):
    row = merged[(merged["analysis"] == analysis) & (merged["estimate_name"] == estimate)]
    assert len(row) == 1
    return row[column].iloc[0]


def test_counts_and_proportions_pool_over_sites(sites) -> None:
    merged = merge_sites(sites)
    assert merged.attrs["sites"] == ["site_a", "site_b", "site_c"]
    assert _value(merged, "cohort", "count") == 120
    assert _value(merged, "cohort", "count", "site_b") == 20
    assert _value(merged, "response", "count") == 92
    assert _value(merged, "response", "percentage") == pytest.approx(100 * 92 / 120)


def test_hazard_ratios_match_a_meta_analysis_by_hand(sites) -> None:
    merged = merge_sites(sites)
    hr = np.array([0.5, 0.9, 0.4])
    lo = np.array([0.3, 0.5, 0.25])
    hi = np.array([0.83, 1.62, 0.64])
    fixed, random, i2, tau2 = _hand_meta(hr, lo, hi)
    assert _value(merged, "survival_test", "hr_fixed") == pytest.approx(fixed)
    assert _value(merged, "survival_test", "hr_random") == pytest.approx(random)
    assert _value(merged, "survival_test", "i2") == pytest.approx(i2)
    assert _value(merged, "survival_test", "tau2") == pytest.approx(tau2)
    assert _value(merged, "survival_test", "k") == 3
    assert i2 > 0  # the three sites disagree


def test_meta_analysis_of_equal_sites_has_no_heterogeneity() -> None:
    m = meta_analysis(np.array([2.0, 2.0, 2.0]), np.full(3, 1.0), np.full(3, 4.0))
    assert (m.hr_fixed, m.hr_random, m.i2, m.tau2) == pytest.approx((2.0, 2.0, 0.0, 0.0))
    assert m.hr_fixed_upper - m.hr_fixed_lower < 4.0 - 1.0  # narrower than one site's


def test_a_count_suppressed_at_one_site_stays_suppressed(tmp_path: Path) -> None:
    folders = [
        _site(tmp_path, "a", cr="30", n="40", hr=(0.5, 0.3, 0.83)),
        _site(tmp_path, "b", cr="", n="20", hr=(0.9, 0.5, 1.62)),
    ]
    merged = merge_sites(folders)
    assert np.isnan(_value(merged, "response", "count"))
    assert np.isnan(_value(merged, "response", "percentage"))
    assert _value(merged, "cohort", "count") == 60


def test_sites_with_different_specs_are_refused(tmp_path: Path) -> None:
    folders = [
        _site(tmp_path, "a", cr="30", n="40", hr=(0.5, 0.3, 0.83)),
        _site(tmp_path, "b", cr="12", n="20", hr=(0.9, 0.5, 1.62), spec="b"),
    ]
    with pytest.raises(UsageError, match="did not run the same study spec"):
        merge_sites(folders)
    with pytest.raises(UsageError, match="at least two"):
        merge_sites(folders[:1])


def test_merged_file_passes_the_audit(sites, tmp_path: Path) -> None:
    from allrwe.results import audit_outputs

    path = write_merged(sites, tmp_path / "merged")
    assert path.name == "merged.csv"
    assert audit_outputs(tmp_path / "merged", min_cell_count=5).ok
