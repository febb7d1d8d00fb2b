"""The whole pattern pipeline on a DuckDB CDM: engine inputs, drug_strength, anthropometry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pattern_helpers import load_cdm_builder

from allrwe.analyses.therapy import TherapyPatterns, summarise_therapy
from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import spec_from_text

cb = load_cdm_builder()
INO_VIAL = 40000001

SPEC = """\
name: engine
index_groups:
  INO: [inotuzumab_ozogamicin]
  BLIN: [blinatumomab]
study_period: {start: 2020-01-01, end: 2020-12-31}
"""


def tables() -> dict[str, list[dict]]:
    bsa = (175 * 70 / 3600) ** 0.5
    return {
        "person": [cb.person(1, 1970), cb.person(2, 1985)],
        "observation_period": [
            cb.obs(1, "2015-01-01", "2022-12-31"),
            cb.obs(2, "2015-01-01", "2022-12-31"),
        ],
        "condition_occurrence": [
            cb.cond(1, cb.ALL_SNOMED, "2019-12-01"),
            cb.cond(2, cb.ALL_SNOMED, "2020-02-01"),
        ],
        "drug_exposure": [
            cb.drug(1, cb.VINCRISTINE, "2019-12-05"),
            # inotuzumab as vials of 0.9 mg (drug_strength): 0.8 and 0.5 mg/m2 for BSA 1.845
            cb.drug(1, INO_VIAL, "2020-01-01", quantity=round(0.8 * bsa / 0.9, 6)),
            cb.drug(1, INO_VIAL, "2020-01-08", quantity=round(0.5 * bsa / 0.9, 6)),
            cb.drug(1, INO_VIAL, "2020-01-15", quantity=round(0.5 * bsa / 0.9, 6)),
            cb.drug(1, cb.BLIN, "2020-03-01", "2020-03-28", quantity=28 * 28, days_supply=28),
            cb.drug(2, cb.BLIN, "2020-03-01", "2020-03-07", quantity=63, days_supply=7),
            cb.drug(2, cb.BLIN, "2020-03-08", "2020-03-28", quantity=28 * 21, days_supply=21),
            cb.drug(2, cb.CYTARABINE, "2020-05-01", "2020-05-04"),
        ],
        "procedure_occurrence": [cb.proc(1, cb.HSCT, "2020-06-01")],
        "measurement": [
            cb.meas(1, cb.HEIGHT, "2019-12-20", 175.0, 8582),
            cb.meas(1, cb.WEIGHT, "2019-12-20", 70.0, 9529),
            cb.meas(2, cb.WEIGHT, "2020-02-20", 80.0, 9529),
        ],
        "drug_strength": [
            {
                "drug_concept_id": INO_VIAL,
                "ingredient_concept_id": cb.INO,
                "amount_value": 0.9,
                "amount_unit_concept_id": 8576,
            }
        ],
        "concept_ancestor": [
            {"ancestor_concept_id": cb.INO, "descendant_concept_id": INO_VIAL},
        ],
    }


@pytest.fixture(scope="module")
def patterns(tmp_path_factory: pytest.TempPathFactory, vocab: Vocabulary) -> TherapyPatterns:
    path: Path = cb.make_cdm(tmp_path_factory.mktemp("eng") / "cdm.duckdb", tables())
    with connect(path) as source:
        cohort = build_cohort(source, spec_from_text(SPEC), vocab)
        return summarise_therapy(source, vocab, cohort)


def level(frame: pd.DataFrame, group: str, name: str) -> tuple[int, int]:
    row = frame[(frame["group"] == group) & (frame["level"] == name)].iloc[0]
    return int(row["n"]), int(row["denominator"])


def test_result_tables(patterns: TherapyPatterns) -> None:
    assert set(patterns.as_dict()) == {
        "index_treatments",
        "prior_therapy",
        "subsequent_therapy",
        "destinations",
        "sequences",
        "cycles",
        "duration_summary",
        "duration_buckets",
        "line_at_index",
        "line_regimens",
        "doses",
        "dose_adherence",
        "unrecorded_classes",
        "completion",
        "prior_chemo_course",
        "cr_by_course",
    }
    # without patterns.completion, no completion is counted; nor courses without their option
    assert patterns.completion.empty
    assert patterns.prior_chemo_course.empty
    assert patterns.cr_by_course.empty
    assert "completion" not in patterns.index_treatments
    # no TKI and no CAR-T record in this CDM: those classes are "not available", never 0 %
    got = patterns.unrecorded_classes
    assert sorted(set(got["level"])) == ["car_t", "tki"]
    assert set(got["variable"]) == {"prior_therapy", "subsequent_therapy", "destination"}
    assert "tki" not in set(patterns.prior_therapy["level"])
    assert level(patterns.prior_therapy, "INO", "chemotherapy") == (1, 1)
    assert level(patterns.prior_therapy, "BLIN", "inotuzumab") == (1, 2)
    assert level(patterns.subsequent_therapy, "INO", "blinatumomab") == (1, 1)
    assert level(patterns.subsequent_therapy, "BLIN", "hsct") == (1, 2)
    assert level(patterns.subsequent_therapy, "BLIN", "chemotherapy") == (1, 2)
    assert level(patterns.cycles, "INO", "1") == (1, 1)
    assert level(patterns.cycles, "BLIN", "1") == (2, 2)
    tr = patterns.index_treatments.set_index(["group", "person_id"])
    assert tr["duration_days"].to_dict() == {("INO", 1): 15, ("BLIN", 1): 28, ("BLIN", 2): 28}


def test_doses_from_drug_strength_and_anthropometry(patterns: TherapyPatterns) -> None:
    doses = patterns.doses
    ino = doses[doses["concept_set"] == "inotuzumab_ozogamicin"]
    assert ino["dose_per_m2"].round(3).tolist() == [0.8, 0.5, 0.5]
    assert ino["within_tolerance"].tolist() == [True, True, True]
    blin = doses[doses["concept_set"] == "blinatumomab"].sort_values(["person_id", "start_date"])
    assert blin["daily_dose"].tolist() == [28.0, 9.0, 28.0]
    # person 1's single 28-microgram bag on days 1-28 misses cycle 1's 9-microgram step
    assert blin["within_tolerance"].tolist() == [False, True, True]
    adh = patterns.dose_adherence.set_index("concept_set")
    assert adh.loc["blinatumomab", "n_within"] == 2
    assert adh.loc["inotuzumab_ozogamicin", "percentage"] == 100.0
