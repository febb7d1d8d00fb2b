"""Dose, body-surface area and label adherence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pattern_helpers import cohort_frame, day, event_frame

from allrwe.analyses.therapy import (
    DoseInputs,
    bsa,
    dose_adherence,
    dose_records,
    inputs_from_frames,
)
from allrwe.errors import AnalysisError
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

BLIN, INO = 45892531, 794068
INO_VIAL, BLIN_VIAL_MG = 40000001, 40000002


def test_bsa_mosteller_and_dubois() -> None:
    assert round(float(bsa(np.array([175.0]), np.array([70.0]))[0]), 3) == 1.845
    dubois = 0.007184 * 175.0**0.725 * 70.0**0.425
    got = bsa(np.array([175.0]), np.array([70.0]), "dubois")[0]
    assert got == pytest.approx(dubois)
    assert round(float(got), 3) == 1.848
    assert np.isnan(bsa(np.array([np.nan]), np.array([70.0]))[0])
    with pytest.raises(AnalysisError, match="unknown BSA formula"):
        bsa(np.array([1.0]), np.array([1.0]), "haycock")


def rec(pid: int, key: str, concept: int, s: int, e: int, qty: float, supply: int | None) -> dict:
    return {
        "person_id": pid,
        "concept_set": key,
        "concept_id": concept,
        "start_date": day(s),
        "end_date": day(e),
        "quantity": qty,
        "days_supply": supply,
    }


def anthro(pid: int, key: str, s: int, value: float, unit: int) -> dict:
    return {
        "person_id": pid,
        "concept_set": key,
        "start_date": day(s),
        "value_as_number": value,
        "unit_concept_id": unit,
    }


BSA_40_150 = float(np.sqrt(150 * 40 / 3600))
BSA_70_175 = float(np.sqrt(175 * 70 / 3600))

RECORDS = pd.DataFrame(
    [
        # person 1, >= 45 kg: step dose, full dose, an under-dosed bag, cycle 2
        rec(1, "blinatumomab", BLIN, 0, 6, 63.0, 7),
        rec(1, "blinatumomab", BLIN, 7, 13, 196.0, 7),
        rec(1, "blinatumomab", BLIN, 14, 27, 280.0, 14),
        rec(1, "blinatumomab", BLIN, 42, 69, 784.0, 28),
        # person 2, 40 kg and 150 cm: per m2 dosing
        rec(2, "blinatumomab", BLIN, 0, 6, 6.5 * 7, 7),
        rec(2, "blinatumomab", BLIN, 7, 27, 19.4 * 21, None),
        # person 3: no weight recorded
        rec(3, "blinatumomab", BLIN, 0, 6, 63.0, 7),
        # person 4, 70 kg and 175 cm: inotuzumab, one dose 20 % too high, cycle 2 at 0.5
        rec(4, "inotuzumab_ozogamicin", INO, 0, 0, 0.8 * BSA_70_175, 1),
        rec(4, "inotuzumab_ozogamicin", INO, 7, 7, 0.5 * BSA_70_175, 1),
        rec(4, "inotuzumab_ozogamicin", INO, 14, 14, 0.6 * BSA_70_175, 1),
        rec(4, "inotuzumab_ozogamicin", INO, 21, 21, 0.5 * BSA_70_175, 1),
        # person 5: 2 vials of 0.9 mg (drug_strength), 1.8 mg for BSA 2.25 = 0.8 mg/m2
        rec(5, "inotuzumab_ozogamicin", INO_VIAL, 0, 0, 2.0, 1),
        # person 6, consolidation: no step dose; strength in mg converted to micrograms
        rec(6, "blinatumomab", BLIN_VIAL_MG, 0, 0, 1.0, 1),
    ]
)
STRENGTH = pd.DataFrame(
    {
        "drug_concept_id": [INO_VIAL, BLIN_VIAL_MG],
        "ingredient_concept_id": [INO, BLIN],
        "amount_value": [0.9, 0.028],
        "amount_unit_concept_id": [8576, 8576],
        "numerator_value": [np.nan, np.nan],
        "numerator_unit_concept_id": [np.nan, np.nan],
    }
)
ANTHRO = pd.DataFrame(
    [
        anthro(1, "weight", -5, 70.0, 9529),
        anthro(1, "height", -400, 1.75, 9546),  # metres; older than the window
        anthro(2, "weight", -1, 40_000.0, 8504),  # grams
        anthro(2, "height", -1, 150.0, 8582),
        anthro(3, "weight", -100, 70.0, 9529),  # outside the 90-day window
        anthro(4, "weight", 0, 70.0, 9529),
        anthro(4, "height", -30, 175.0, 8582),
        anthro(5, "weight", -2, 81.0, 9529),
        anthro(5, "height", -2, 225.0, 8582),
        anthro(6, "weight", -2, 60.0, 9529),
    ]
)


@pytest.fixture
def doses(spec: StudySpec, vocab: Vocabulary) -> pd.DataFrame:
    events = RECORDS[["person_id", "concept_set", "start_date", "end_date"]]
    cohort = cohort_frame(
        (1, "BLIN", 0), (2, "BLIN", 0), (3, "BLIN", 0), (4, "INO", 0), (5, "INO", 0), (6, "BLIN", 0)
    )
    cohort.loc[cohort["person_id"] == 6, "treatment_setting"] = "consolidation"
    inputs = inputs_from_frames(cohort, events, spec, vocab)
    return dose_records(inputs, DoseInputs(RECORDS, STRENGTH, ANTHRO), vocab)


def by_person(doses: pd.DataFrame, pid: int) -> pd.DataFrame:
    return doses[doses["person_id"] == pid].reset_index(drop=True)


def test_blinatumomab_fixed_dosing(doses: pd.DataFrame) -> None:
    p1 = by_person(doses, 1)
    assert p1["daily_dose"].tolist() == [9.0, 28.0, 20.0, 28.0]
    assert p1["label_dose"].tolist() == [9.0, 28.0, 28.0, 28.0]
    assert p1["cycle"].tolist() == [1, 1, 1, 2]
    assert p1["label_basis"].tolist() == ["fixed"] * 4
    assert p1["within_tolerance"].tolist() == [True, True, False, True]
    assert p1["weight_kg"].tolist() == [70.0] * 4
    assert p1["height_cm"].isna().all()  # the height is 400 days old


def test_blinatumomab_per_m2_dosing(doses: pd.DataFrame) -> None:
    p2 = by_person(doses, 2)
    assert p2["weight_kg"].tolist() == [40.0, 40.0]  # grams converted
    assert p2["bsa_m2"].tolist() == pytest.approx([BSA_40_150] * 2)
    assert p2["label_dose"].tolist() == pytest.approx([5 * BSA_40_150, 15 * BSA_40_150])
    assert p2["daily_dose"].tolist() == pytest.approx([6.5, 19.4])  # days = end - start + 1
    assert p2["label_basis"].tolist() == ["per m2", "per m2"]
    assert p2["within_tolerance"].tolist() == [True, True]


def test_unassessable_without_weight(doses: pd.DataFrame) -> None:
    p3 = by_person(doses, 3)
    assert p3["within_tolerance"].isna().all()
    assert np.isnan(p3["label_dose"][0])


def test_inotuzumab_per_m2_and_cycle_day_1(doses: pd.DataFrame) -> None:
    p4 = by_person(doses, 4)
    assert p4["dose_per_m2"].tolist() == pytest.approx([0.8, 0.5, 0.6, 0.5])
    assert p4["label_dose"].tolist() == [0.8, 0.5, 0.5, 0.8]
    assert p4["dose_in_cycle"].tolist() == [1, 2, 3, 1]
    # 0.6 is 20 % above 0.5; cycle 2's day 1 may be 0.5 (patient in CR)
    assert p4["within_tolerance"].tolist() == [True, True, False, True]


def test_drug_strength_amounts(doses: pd.DataFrame) -> None:
    p5 = by_person(doses, 5)
    assert p5["amount"].tolist() == pytest.approx([1.8])
    assert p5["dose_per_m2"].tolist() == pytest.approx([1.8 / np.sqrt(225 * 81 / 3600)])
    p6 = by_person(doses, 6)
    assert p6["amount"].tolist() == pytest.approx([28.0])  # 0.028 mg in micrograms
    assert p6["unit"].tolist() == ["ug"]
    assert p6["label_dose"].tolist() == [28.0]  # consolidation: no 9-microgram step
    assert p6["within_tolerance"].tolist() == [True]


def test_adherence_summary(doses: pd.DataFrame) -> None:
    summary = dose_adherence(doses).set_index(["group", "concept_set"])
    blin = summary.loc[("BLIN", "blinatumomab")]
    assert (blin["n_doses"], blin["n_assessable"], blin["n_within"]) == (8, 7, 6)
    assert blin["percentage"] == pytest.approx(600 / 7)
    ino = summary.loc[("INO", "inotuzumab_ozogamicin")]
    assert (ino["n_doses"], ino["n_assessable"], ino["n_within"], ino["n_persons"]) == (5, 5, 4, 2)


def test_tolerance_is_a_parameter(spec: StudySpec, vocab: Vocabulary) -> None:
    loose = spec.model_copy(
        update={
            "patterns": spec.patterns.model_copy(
                update={"dose": spec.patterns.dose.model_copy(update={"tolerance": 0.3})}
            )
        }
    )
    events = RECORDS[["person_id", "concept_set", "start_date", "end_date"]]
    inputs = inputs_from_frames(cohort_frame((1, "BLIN", 0)), events, loose, vocab)
    p1 = dose_records(inputs, DoseInputs(RECORDS, STRENGTH, ANTHRO), vocab)
    assert p1["within_tolerance"].tolist() == [True, True, True, True]  # 20 within 28 +- 30 %


def test_no_records(spec: StudySpec, vocab: Vocabulary) -> None:
    inputs = inputs_from_frames(cohort_frame((1, "BLIN", 0)), event_frame(), spec, vocab)
    empty = pd.DataFrame(columns=RECORDS.columns)
    out = dose_records(inputs, DoseInputs(empty, pd.DataFrame(), pd.DataFrame()), vocab)
    assert out.empty
    assert dose_adherence(out).empty


def test_hcpcs_units_are_told_apart_from_mass(spec: StudySpec, vocab: Vocabulary) -> None:
    # claims: the quantity of an HCPCS-coded record counts billing units of the code, even when
    # a drug_strength row exists for its standard concept (person 5's vial)
    records = pd.DataFrame(
        [
            # J9229 = 0.1 mg: 18 units are 1.8 mg, 0.8 mg/m2 at BSA 2.25
            {
                **rec(5, "inotuzumab_ozogamicin", INO_VIAL, 0, 0, 18.0, 1),
                "drug_source_value": "J9229",
            },
            # J9039 = 1 microgram: 196 units over 7 days are 28 micrograms a day
            {**rec(1, "blinatumomab", BLIN, 7, 13, 196.0, 7), "drug_source_value": " j9039 "},
            # a mass in mg, no HCPCS code: left as it is
            {**rec(4, "inotuzumab_ozogamicin", INO, 0, 0, 1.4, 1), "drug_source_value": "1942950"},
        ]
    )
    events = records[["person_id", "concept_set", "start_date", "end_date"]]
    cohort = cohort_frame((1, "BLIN", 0), (4, "INO", 0), (5, "INO", 0))
    inputs = inputs_from_frames(cohort, events, spec, vocab)
    out = dose_records(inputs, DoseInputs(records, STRENGTH, ANTHRO), vocab)
    amounts = dict(zip(out["person_id"], out["amount"], strict=True))
    assert amounts == pytest.approx({1: 196.0, 4: 1.4, 5: 1.8})
    p5 = by_person(out, 5)
    assert p5["dose_per_m2"].tolist() == pytest.approx([0.8])
    assert p5["within_tolerance"].tolist() == [True]
    assert by_person(out, 1)["daily_dose"].tolist() == [28.0]
