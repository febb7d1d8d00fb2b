"""Response from labs: classification at every boundary, pairing, cycles, MRD, rates, claims."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from outcome_fixtures import (
    ANC,
    BLASTS,
    INO,
    MRD,
    PLATELETS,
    blin_cycles,
    cohort,
    day,
    drug,
    lab,
    make_spec,
    triple,
    write_cdm,
)

from allrwe.analyses.outcomes import (
    NOT_AVAILABLE,
    assess_response,
    classify_response,
    clopper_pearson,
    response_rates,
    response_records,
)
from allrwe.cohort import Cohort
from allrwe.io import connect
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.results import ResultSet, suppress, validate_records
from allrwe.spec import StudySpec


@pytest.mark.parametrize(
    ("blasts", "anc", "platelets", "expected"),
    [
        (5.0, 1.01, 100.1, "CR"),  # blasts 5 % exactly count as <= 5 %
        (5.0, 1.0, 150.0, "CRh"),  # ANC 1.0 is not > 1.0
        (5.0, 2.0, 100.0, "CRh"),  # platelets 100 is not > 100
        (5.0, 0.5, 150.0, "CRi"),  # ANC 0.5 is not > 0.5
        (5.0, 0.6, 50.0, "CRi"),  # platelets 50 is not > 50
        (0.0, 0.51, 50.1, "CRh"),
        (5.01, 3.0, 300.0, "NR"),
        (4.0, np.nan, 150.0, "CRi"),  # a count not measured cannot confirm recovery
        (90.0, np.nan, np.nan, "NR"),
    ],
)
def test_classify_response_boundaries(
    blasts: float, anc: float, platelets: float, expected: str
) -> None:
    assert classify_response([blasts], [anc], [platelets]).tolist() == [expected]


def test_classify_response_uses_spec_thresholds() -> None:
    spec = make_spec("outcomes: {response: {marrow_blasts_max_pct: 4.0, anc_full: 0.9}}")
    got = classify_response([5.0, 4.0], [1.0, 1.0], [150.0, 150.0], spec.outcomes.response)
    assert got.tolist() == ["NR", "CR"]


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        (14, 28, 0.3064709, 0.6935291),  # binom.test(14, 28) in R
        (0, 10, 0.0, 0.3084971),  # binom.test(0, 10)
        (10, 10, 0.6915029, 1.0),  # binom.test(10, 10)
        (1, 2, 0.01257912, 0.98742088),  # binom.test(1, 2)
    ],
)
def test_clopper_pearson_matches_binom_test(x: int, n: int, lower: float, upper: float) -> None:
    lo, hi = clopper_pearson(x, n)
    np.testing.assert_allclose([float(lo), float(hi)], [lower, upper], atol=5e-8)


def test_clopper_pearson_empty_denominator_is_nan() -> None:
    lo, hi = clopper_pearson(np.array([0, 3]), np.array([0, 6]), conf_level=0.9)
    assert np.isnan(lo[0])
    assert np.isnan(hi[0])
    assert 0 < lo[1] < 0.5 < hi[1] < 1


# ----------------------------------------------------------------------------- CDM scenario


PERSONS = [1, 2, 3, 4, 5, 6]
ROWS = {
    "drug_exposure": [
        *blin_cycles(1, 0, 42),
        *blin_cycles(2, 0, 42, 84),
        *blin_cycles(3, 0),
        *blin_cycles(4, 0),
        *blin_cycles(5, 0),
        *(drug(6, INO, d) for d in (0, 7, 14, 21, 28, 35)),
    ],
    "measurement": [
        # 1: CRh after cycle 1 (ANC exactly 1.0), CR after cycle 2; MRD 0.01 then 0.0099
        *triple(1, 31, 5.0, 1.0, 150.0),
        *triple(1, 72, 2.0, 1.5, 101.0),
        lab(1, MRD, 31, 0.01),
        lab(1, MRD, 72, 0.0099),
        # 2: no response in cycles 1-2, CR after cycle 3
        *triple(2, 31, 40.0, 0.2, 20.0),
        *triple(2, 72, 20.0, 0.4, 30.0),
        *triple(2, 114, 1.0, 2.0, 200.0),
        # 3: nearest ANC is 2 days after (not 3 before); platelets 7 days before still count
        lab(3, BLASTS, 31, 3.0),
        lab(3, ANC, 28, 0.3),
        lab(3, ANC, 33, 1.6),
        lab(3, PLATELETS, 24, 200.0),
        lab(3, PLATELETS, 39, 10.0),
        lab(3, BLASTS, 0, 80.0),  # on the index date: baseline, not an assessment
        lab(3, BLASTS, 200, 60.0),  # long after the treatment: a relapse marrow, not assessed
        # 4: ANC 9 days away and one in a unit ANC has not (percent): counts incomplete -> CRi
        lab(4, BLASTS, 31, 1.0),
        lab(4, ANC, 40, 3.0),
        lab(4, ANC, 31, 25.0, unit=8554),
        lab(4, PLATELETS, 31, 200.0),
        # 5: MRD before index only, no marrow after index
        lab(5, MRD, -5, 0.0),
        # 6 (inotuzumab, doses days 0/7/14 and 21/28/35): NR after cycle 1, CRh after cycle 2
        *triple(6, 20, 10.0, 0.3, 20.0),
        *triple(6, 48, 1.0, 0.8, 60.0),
        lab(6, MRD, 48, 0.3),
    ],
}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def spec() -> StudySpec:
    return make_spec()


@pytest.fixture(scope="module")
def study(spec: StudySpec) -> Cohort:
    rows = [{"person_id": p} for p in (1, 2, 3, 4)]
    rows.append({"person_id": 5, "treatment_setting": "consolidation", "setting": "ND"})
    rows.append({"person_id": 6, "group": "INO", "index_set": "inotuzumab_ozogamicin"})
    return cohort(spec, rows)


@pytest.fixture(scope="module")
def cdm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cdm(tmp_path_factory.mktemp("resp") / "cdm.duckdb", PERSONS, ROWS)


@pytest.fixture(scope="module")
def source(cdm_path: Path) -> Iterator[CdmSource]:
    with connect(cdm_path) as src:
        yield src


@pytest.fixture(scope="module")
def persons(source: CdmSource, vocab: Vocabulary, study: Cohort) -> pd.DataFrame:
    return assess_response(source, vocab, study).persons.set_index("person_id")


def test_assessments_are_classified_and_assigned_to_cycles(
    source: CdmSource, vocab: Vocabulary, study: Cohort
) -> None:
    result = assess_response(source, vocab, study)
    a = result.assessments
    got = list(zip(a["person_id"], a["days_from_index"], a["cycle"], a["response"], strict=True))
    assert got == [
        (1, 31, 1, "CRh"),
        (1, 72, 2, "CR"),
        (2, 31, 1, "NR"),
        (2, 72, 2, "NR"),
        (2, 114, 3, "CR"),
        (3, 31, 1, "CR"),
        (4, 31, 1, "CRi"),
        (6, 20, 1, "NR"),
        (6, 48, 2, "CRh"),
    ]
    p3 = a[a["person_id"] == 3].iloc[0]
    assert (p3["anc"], p3["platelets"]) == (1.6, 200.0)
    assert p3["anc_date"] == pd.Timestamp(day(33))
    assert p3["platelets_date"] == pd.Timestamp(day(24))
    p4 = a[a["person_id"] == 4].iloc[0]
    assert np.isnan(p4["anc"])
    assert p4["platelets"] == 200.0


def test_best_response_and_first_dates(persons: pd.DataFrame) -> None:
    assert persons["best_response"].to_dict() == {
        1: "CR", 2: "CR", 3: "CR", 4: "CRi", 5: "NE", 6: "CRh"
    }  # fmt: skip
    assert persons.loc[1, "best_response_date"] == pd.Timestamp(day(72))
    assert persons.loc[1, "first_response_date"] == pd.Timestamp(day(31))
    assert persons.loc[1, "first_cr_date"] == pd.Timestamp(day(72))
    assert persons.loc[2, "first_response_date"] == pd.Timestamp(day(114))
    assert pd.isna(persons.loc[5, "first_response_date"])
    assert persons["n_assessments"].to_dict() == {1: 2, 2: 3, 3: 1, 4: 1, 5: 0, 6: 2}


def test_within_n_cycles_counts_cycles_not_days(persons: pd.DataFrame) -> None:
    assert persons["response_cycle"].tolist() == [1, 3, 1, 1, pd.NA, 2]
    assert persons["response_within_n"].to_dict() == {
        1: True, 2: False, 3: True, 4: True, 5: False, 6: True
    }  # fmt: skip
    assert persons["best_response_within_n"].tolist()[:2] == ["CR", "NR"]
    assert persons["best_response_first_cycle"].to_dict()[1] == "CRh"
    assert persons["cr_within_n"].to_dict()[6] is False
    assert bool(persons.loc[6, "cr_crh_within_n"]) is True


def test_mrd_threshold_is_strict(persons: pd.DataFrame) -> None:
    assert persons["n_mrd"].to_dict() == {1: 2, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1}
    assert persons.loc[1, "first_mrd_negative_date"] == pd.Timestamp(day(72))
    assert persons.loc[1, "mrd_negative_cycle"] == 2
    assert bool(persons.loc[1, "mrd_negative_within_n"]) is True
    assert bool(persons.loc[6, "mrd_negative"]) is False
    assert bool(persons.loc[5, "mrd_evaluable"]) is False  # pre-index MRD does not count


def test_rates_state_their_denominators(
    source: CdmSource, vocab: Vocabulary, study: Cohort, spec: StudySpec
) -> None:
    rates = response_rates(assess_response(source, vocab, study), spec, by=["treatment_setting"])
    blin = rates[(rates["group"] == "BLIN") & (rates["strata_name"] == "overall")]
    # the CDM holds no transplant: the transplant counts among responders are not available
    hsct = blin[blin["variable"].str.startswith("hsct_")]
    assert hsct["status"].tolist() == [NOT_AVAILABLE, NOT_AVAILABLE]
    assert hsct["numerator"].isna().all()
    got = blin.set_index("variable").drop(hsct["variable"])[["numerator", "denominator"]]
    got = got.astype(int)
    # 5 BLIN persons, 1 of them in remission at index (consolidation): not evaluable for
    # response, so left out of the response denominators (seed 001 reports NA for them)
    assert got.loc["in_cr_at_index"].tolist() == [1, 5]
    assert got.loc["response"].tolist() == [4, 4]
    assert got.loc["cr"].tolist() == [3, 4]
    assert got.loc["response_within_n"].tolist() == [3, 4]
    assert got.loc["mrd_negative"].tolist() == [1, 1]
    assert got.loc["best_response=NE"].tolist() == [0, 4]
    assert got.loc["best_response=CRi"].tolist() == [1, 4]
    row = blin.set_index("variable").loc["response"]
    lo, hi = clopper_pearson(4, 4)
    assert (row["estimate"], row["lower"], row["upper"]) == (1.0, float(lo), float(hi))
    cons = rates[(rates["strata_level"] == "consolidation") & (rates["variable"] == "response")]
    assert cons[["numerator", "denominator"]].astype(int).values.tolist() == [[0, 0]]
    assert cons["estimate"].isna().all()  # 0 of 0: NA, never 0 %
    assert set(rates["group"]) == {"BLIN", "INO"}


def test_crossed_strata_follow_seed_001_table_2(
    source: CdmSource, vocab: Vocabulary, study: Cohort, spec: StudySpec
) -> None:
    result = assess_response(source, vocab, study)
    rates = response_rates(result, spec, by=[("setting", "treatment_setting")])
    crossed = rates[(rates["group"] == "BLIN") & (rates["variable"] == "response")]
    assert crossed["strata_level"].tolist() == [
        "overall", "ND &&& consolidation", "RR &&& re-induction"
    ]  # fmt: skip
    assert crossed["strata_name"].iloc[1] == "setting &&& treatment_setting"


def test_response_records_are_valid_results(
    source: CdmSource, vocab: Vocabulary, study: Cohort, spec: StudySpec
) -> None:
    rates = response_rates(assess_response(source, vocab, study), spec, by=["setting"])
    records = validate_records(response_records(rates))
    pct = records[
        (records["group"] == "BLIN")
        & (records["variable"] == "response")
        & (records["strata_name"] == "overall")
    ].set_index("estimate_name")["value"]
    assert pct["percentage"] == 100.0  # the person in CR at index is not evaluable
    assert pct["count"] == 4.0
    assert pct["denominator"] == 4.0
    suppressed = suppress(ResultSet.create(records, spec={"n": 1}, cdm_source="test")).records
    small = suppressed[(suppressed["estimate_name"] == "percentage") & suppressed["suppressed"]]
    assert len(small) > 0  # 4 of 4 is a small cell: its percentage goes with it


# ----------------------------------------------------------------------------- claims


@pytest.mark.parametrize("labs_of_others", [False, True])
def test_claims_response_is_not_available_never_zero(
    tmp_path: Path, vocab: Vocabulary, study: Cohort, spec: StudySpec, labs_of_others: bool
) -> None:
    # an empty measurement table, or labs of persons outside the cohort only
    rows = {"drug_exposure": ROWS["drug_exposure"]}
    if labs_of_others:
        rows["measurement"] = triple(99, 31, 1.0, 2.0, 200.0)
    path = write_cdm(tmp_path / "claims.duckdb", [*PERSONS, 99], rows)
    with connect(path) as src:
        result = assess_response(src, vocab, study)
    assert result.available is False
    assert (result.persons["status"] == NOT_AVAILABLE).all()
    assert result.persons["best_response"].isna().all()
    rates = response_rates(result, spec)
    assert (rates["status"] == NOT_AVAILABLE).all()
    assert rates["numerator"].isna().all()
    assert rates["estimate"].isna().all()
    records = validate_records(response_records(rates))
    assert "percentage" not in set(records["estimate_name"])
    assert set(records.loc[records["estimate_name"] == "available", "value"]) == {0.0}
    resp = records[(records["variable"] == "response") & (records["group"] == "BLIN")]
    # 5 BLIN persons, 1 in remission at index and so outside the response denominator
    assert resp.set_index("estimate_name")["value"]["denominator"] == 4.0
