"""The network report of allrwe merge: per-site columns, pooled values, HRs and forest plots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from allrwe.report.merged import SiteInfo, forest_svg, render_merged
from allrwe.results.merge import merge_sites
from site_dirs import site_folder as _site


@pytest.fixture
def html(tmp_path: Path) -> str:
    folders = [
        _site(tmp_path, "site_a", cr="30", n="40", hr=(0.5, 0.3, 0.83)),
        _site(tmp_path, "site_b", cr="", n="20", hr=(0.9, 0.5, 1.62)),
        _site(tmp_path, "site_c", cr="50", n="60", hr=(0.4, 0.25, 0.64)),
    ]
    merged = merge_sites(folders)
    sites = [
        SiteInfo.from_provenance(
            name,
            {"cdm": {"cdm_source_name": f"CDM {name}"}, "suppression": {"min_cell_count": 5}},
        )
        for name in merged.attrs["sites"]
    ]
    return render_merged(
        merged,
        sites,
        title="Network demo",
        spec_hash="ab" * 32,
        min_cell_count=5,
        hidden=["pooled: response/BLIN/overall=overall/best_response/CR/count"],
        attack="The attacker found none.",
    )


def _row(html: str, label: str) -> list[str]:
    found = re.search(r"<tr><th>" + re.escape(label) + r"</th>(.*?)</tr>", html)
    assert found, label
    return re.findall(r"<td>(.*?)</td>", found.group(1))


def test_counts_show_each_site_and_the_pooled_sum(html: str) -> None:
    assert _row(html, "BLIN · persons") == ["40", "20", "60", "120"]
    # site b hides CR: a dot there and in the pooled column
    assert _row(html, "BLIN · best_response · CR") == ["30 (75.0 %)", "·", "50 (83.3 %)", "·"]


def test_hazard_ratios_show_sites_and_both_pooled_estimates(html: str) -> None:
    cells = _row(html, "BLIN · setting = overall · os · cox RR vs ND")
    assert cells[:3] == ["0.50 (0.30–0.83)", "0.90 (0.50–1.62)", "0.40 (0.25–0.64)"]
    assert cells[-1] == "3"  # sites pooled
    assert cells[-3].endswith(" %")
    assert float(cells[-3][:-2]) > 0  # the sites disagree
    assert html.count("<svg") == 1  # one forest plot


def test_the_page_says_what_the_merge_hid_and_is_self_contained(html: str) -> None:
    assert "The merge hid 1 more value(s)" in html
    assert "pooled: response/BLIN/overall=overall/best_response/CR/count" in html
    assert "CDM site_b" in html
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_forest_plot_draws_squares_for_sites_and_diamonds_for_pooled() -> None:
    svg = forest_svg(
        ["a", "b", "fixed effect", "random effects"],
        [(0.5, 0.3, 0.83), (float("nan"),) * 3, (0.6, 0.4, 0.9), (0.6, 0.35, 1.0)],
    )
    assert svg.count("<rect") == 1  # site b has no estimate
    assert svg.count("<polygon") == 2
    assert svg.count("<text") == 4 + 3  # labels, ticks 0.5, 1, 2 (axis 0.3 / 1.1 to 2 * 1.1)
