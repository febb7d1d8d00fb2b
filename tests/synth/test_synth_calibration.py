"""Default profiles reproduce the seed-study targets at 20,000 ALL patients.

Counting follows docs/synthetic-data.md ("Calibration"); proportions must lie within 3.5 standard
errors (plus 1 point for approximations of the model), Kaplan-Meier rates within 4 points, and
median overall survival within one month.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allrwe.synth import generate_cdm

ALL_PATIENTS = 20_000
#: little unrelated care: the targets concern the ALL patients only
QUIET = {"population": {"all_patients": ALL_PATIENTS}, "background": {"visits_per_year": 0.05}}

pytestmark = pytest.mark.slow


def km(time: pd.Series, event: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct event time."""
    t = time.to_numpy(float)
    e = event.to_numpy(bool)
    times = np.unique(t[e])
    at_risk = (t[None, :] >= times[:, None]).sum(axis=1)
    deaths = ((t[None, :] == times[:, None]) & e[None, :]).sum(axis=1)
    return times, np.cumprod(1 - deaths / at_risk)


def km_at(frame: pd.DataFrame, kind: str, day: int) -> float:
    times, surv = km(frame[f"{kind}_time_days"], frame[f"{kind}_event"])
    before = surv[times <= day]
    return float(before[-1]) if before.size else 1.0


def km_median_months(frame: pd.DataFrame) -> float:
    times, surv = km(frame.os_time_days, frame.os_event)
    return float(times[np.argmax(surv <= 0.5)]) / 30.4375


def close(value: float, target: float, n: int) -> bool:
    se = np.sqrt(max(target * (1 - target), 1e-4) / n)
    return abs(value - target) <= 3.5 * se + 0.01


@pytest.fixture(scope="module")
def claims(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out: Path = tmp_path_factory.mktemp("calib") / "claims"
    generate_cdm(out, persons=ALL_PATIENTS, seed=2024, profile="claims", params=QUIET)
    p = pd.read_parquet(out / "truth" / "truth_patients")
    return p[p.novel_agent]


@pytest.fixture(scope="module")
def emr(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    out: Path = tmp_path_factory.mktemp("calib") / "emr"
    generate_cdm(out, persons=ALL_PATIENTS, seed=2024, profile="emr", params=QUIET)
    p = pd.read_parquet(out / "truth" / "truth_patients")
    r = pd.read_parquet(out / "truth" / "truth_responses")
    a = pd.read_parquet(out / "truth" / "truth_aes")
    return p[p.novel_agent], r, a


@pytest.mark.parametrize(
    ("drug", "prior_chemo", "subsequent", "sequence", "target_sequence"),
    [
        ("inotuzumab_ozogamicin", 0.814, 0.608, "ino_then_blin", 0.203),
        ("blinatumomab", 0.784, 0.588, "blin_then_ino", 0.105),
    ],
)
def test_claims_treatment_patterns(
    claims: pd.DataFrame,
    drug: str,
    prior_chemo: float,
    subsequent: float,
    sequence: str,
    target_sequence: float,
) -> None:
    group = claims[claims.index_drug == drug]
    n = len(group)
    assert close(n / len(claims), 0.5, len(claims))
    assert close(group.prior_chemo.mean(), prior_chemo, n)
    treated = group[group.subsequent_first_class != "none"]
    assert close(len(treated) / n, subsequent, n)
    # seed 000's sequence shares are 12/59 and 6/57: among patients with subsequent therapy
    assert close(treated[sequence].mean(), target_sequence, len(treated))


@pytest.mark.parametrize("drug", ["inotuzumab_ozogamicin", "blinatumomab"])
def test_claims_relapsed_refractory_survival(claims: pd.DataFrame, drug: str) -> None:
    rr = claims[(claims.index_drug == drug) & (claims.setting == "RR")]
    # TOWER and INO-VATE: median overall survival 7.7 months
    assert abs(km_median_months(rr) - 7.7) <= 1.0


def test_emr_population_and_cycles(emr: tuple[pd.DataFrame, ...]) -> None:
    p = emr[0]
    n = len(p)
    assert close((p.setting == "ND").mean(), 0.552, n)
    assert close((p.ph_status == "positive").mean(), 0.302, n)
    cycles = p.n_cycles.value_counts(normalize=True)
    for k, share in enumerate((0.667, 0.208, 0.073, 0.042, 0.010), start=1):
        assert close(cycles.get(k, 0.0), share, n)


def test_emr_response_and_mrd(emr: tuple[pd.DataFrame, ...]) -> None:
    p, r, _ = emr
    remission = p.best_response.isin(["CR", "CRh", "CRi"])
    nd_ind = p[(p.setting == "ND") & (p.disease_status_at_index == "induction")]
    rr_ind = p[(p.setting == "RR") & (p.disease_status_at_index == "induction")]
    assert remission[nd_ind.index].all()
    assert close(remission[rr_ind.index].mean(), 0.50, len(rr_ind))
    mrd = p[remission & p.mrd_measured]
    early = set(r[(r.cycle <= 2) & r.mrd_negative.fillna(False).astype(bool)].person_id)
    targets = {
        ("ND", None): (0.936, 0.872),
        ("RR", "induction"): (0.642, None),
        ("RR", "consolidation"): (0.909, None),
        ("RR", None): (0.769, 0.73),
    }
    for (setting, status), (overall, within2) in targets.items():
        g = mrd[mrd.setting == setting]
        if status:
            g = g[g.disease_status_at_index == status]
        assert close(g.mrd_negative.mean(), overall, len(g)), (setting, status)
        if within2:
            assert close(g.person_id.isin(early).mean(), within2, len(g)), (setting, "2 cycles")


def test_emr_adverse_events(emr: tuple[pd.DataFrame, ...]) -> None:
    p, _, a = emr
    a = a.merge(p[["person_id", "index_end_date"]], on="person_id")
    during = a[(a.context == "blinatumomab") & (a.onset_date <= a.index_end_date)]
    n = len(p)
    targets = {
        "crs": (0.073, 0.031),
        "infection": (0.062, 0.042),
        "icans": (0.010, 0.010),
        "liver_enzyme_increase": (0.010, 0.010),
        "neutropenia": (0.010, 0.010),
    }
    for term, (any_grade, severe) in targets.items():
        t = during[during.term == term]
        assert close(t.person_id.nunique() / n, any_grade, n), term
        assert close(t[t.grade >= 3].person_id.nunique() / n, severe, n), term
    assert close(during.person_id.nunique() / n, 0.198, n)


def test_emr_event_free_and_overall_survival(emr: tuple[pd.DataFrame, ...]) -> None:
    p = emr[0]
    nd, rr = p[p.setting == "ND"], p[p.setting == "RR"]
    assert abs(km_at(nd, "efs", 365) - 0.908) <= 0.04
    assert abs(km_at(rr, "efs", 365) - 0.551) <= 0.04
    assert abs(km_at(rr, "os", 365) - 0.709) <= 0.04
