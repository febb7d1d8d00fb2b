"""``allrwe merge`` of three synthetic sites (different seeds and profiles), end to end.

The pooled estimates are checked against a meta-analysis written out here from the sites'
own ``results.csv`` files, and the merged outputs against the attacker of ``allrwe audit``.
Each site has 1,200 persons (150 with ALL); ``ALLRWE_NETWORK_PERSONS=5000`` runs larger sites
(one in eight persons with ALL), as docs/network.md reports.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pytest
from study_paths import DEMO_SPEC

from allrwe.cli.app import main
from allrwe.results.attack import attack
from allrwe.results.merge import merge_frames, read_sites
from allrwe.results.merge_attack import merged_records
from allrwe.study import run_study
from allrwe.synth import generate_cdm

pytestmark = pytest.mark.slow

#: (site, seed, profile): two hospital extracts and one claims database
SITES = (("site_a", 11, "emr"), ("site_b", 23, "claims"), ("site_c", 37, "emr"))
_Z = 1.959963984540054
_OS_HR = ("survival_test", "BLIN", "setting", "overall", "os", "cox RR vs ND")
#: persons per site (one in eight with ALL)
PERSONS = int(os.environ.get("ALLRWE_NETWORK_PERSONS", "1200"))


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path, str]:
    root = tmp_path_factory.mktemp("network")
    folders = []
    for name, seed, profile in SITES:
        cdm = generate_cdm(
            root / f"cdm_{name}",
            persons=PERSONS,
            seed=seed,
            profile=profile,
            params={"population": {"all_patients": PERSONS // 8}},
        )
        run_study(DEMO_SPEC, cdm.cdm_url, root / name)
        folders.append(root / name)
    out = root / "merged"
    code = main(["merge", *map(str, folders), "--out", str(out)])
    assert code == 0
    return folders, out, (out / "merged.html").read_text(encoding="utf-8")


def _records(path: Path) -> dict[tuple[str, ...], str]:
    with path.open(newline="", encoding="utf-8") as f:
        return {
            tuple(r[c] for c in list(r)[:7]): r["value"]
            for r in csv.DictReader(f)
            if r["value"] != ""
        }


def _merged(out: Path) -> dict[tuple[str, ...], dict[str, str]]:
    with (out / "merged.csv").open(newline="", encoding="utf-8") as f:
        return {tuple(list(r.values())[:7]): r for r in csv.DictReader(f)}


def _by_hand(estimates: list[tuple[float, float, float]]) -> dict[str, float]:
    """Inverse-variance and DerSimonian-Laird pooling, one site at a time."""
    y = [math.log(hr) for hr, _, _ in estimates]
    v = [((math.log(hi) - math.log(lo)) / (2 * _Z)) ** 2 for _, lo, hi in estimates]
    w = [1 / x for x in v]
    fixed = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sum(w)
    q = sum(wi * (yi - fixed) ** 2 for wi, yi in zip(w, y, strict=True))
    k = len(y)
    tau2 = max(0.0, (q - (k - 1)) / (sum(w) - sum(wi * wi for wi in w) / sum(w)))
    wr = [1 / (x + tau2) for x in v]
    random = sum(wi * yi for wi, yi in zip(wr, y, strict=True)) / sum(wr)
    return {
        "hr_fixed": math.exp(fixed),
        "hr_fixed_lower": math.exp(fixed - _Z / math.sqrt(sum(w))),
        "hr_random": math.exp(random),
        "hr_random_upper": math.exp(random + _Z / math.sqrt(sum(wr))),
        "i2": max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0,
        "tau2": tau2,
        "k": k,
    }


def test_pooled_counts_are_the_sums_of_the_sites(network) -> None:
    folders, out, html = network
    sites = [_records(f / "results.csv") for f in folders]
    merged = _merged(out)
    key = ("cohort", "BLIN", "overall", "overall", "persons", "overall", "count")
    counts = [int(s[key]) for s in sites]
    assert all(c > 0 for c in counts)
    assert int(merged[key]["pooled"]) == sum(counts)
    assert [int(merged[key][name]) for name, _, _ in SITES] == counts
    assert f"<td>{sum(counts):,}</td>" in html


def test_pooled_hazard_ratio_matches_a_meta_analysis_by_hand(network) -> None:
    folders, out, html = network
    sites = [_records(f / "results.csv") for f in folders]
    estimates = [
        tuple(float(s[(*_OS_HR, e)]) for e in ("hr", "hr_lower", "hr_upper")) for s in sites
    ]
    assert len(estimates) == 3  # every site estimates the OS hazard ratio
    expected = _by_hand(estimates)
    merged = _merged(out)
    for name, value in expected.items():
        assert float(merged[(*_OS_HR, name)]["pooled"]) == pytest.approx(value, rel=1e-8), name
    shown = f"{expected['hr_fixed']:.2f} ({expected['hr_fixed_lower']:.2f}–"
    assert shown in html


def test_merged_outputs_give_no_hidden_count_away(network) -> None:
    folders, _, html = network
    names, frames = read_sites(folders)
    merged = merge_frames(names, frames)
    report = attack(merged_records(merged, dict(zip(names, frames, strict=True))), 5)
    assert report.ok, report.leaks[:3]
    assert report.n_hidden > 100  # the small sites hide many counts: the attack is real
    assert report.inconsistent == ()
    assert "none given away" in html
    assert "The merge hid nothing beyond the sites' own suppression." in html


def test_merge_is_deterministic(network, tmp_path: Path) -> None:
    folders, out, _ = network
    assert main(["merge", *map(str, folders), "--out", str(tmp_path / "again")]) == 0
    for name in ("merged.csv", "merged.html"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
