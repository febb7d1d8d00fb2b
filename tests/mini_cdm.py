"""A small valid CDM the check-rule tests break one rule at a time, or in many tables at once."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

from allrwe.io.check import CheckReport, Finding, check_cdm
from allrwe.io.kept import KeptRows
from allrwe.io.source import connect

TODAY = date(2024, 1, 1)

_BASE: dict[str, list[dict[str, Any]]] = {
    "person": [
        {"person_id": 1, "gender_concept_id": 8507, "year_of_birth": 1970},
        {"person_id": 2, "gender_concept_id": 8532, "year_of_birth": 1980},
        {"person_id": 3, "gender_concept_id": 8507, "year_of_birth": 1990},
    ],
    "observation_period": [
        {
            "observation_period_id": i,
            "person_id": i,
            "observation_period_start_date": "2019-01-01",
            "observation_period_end_date": "2022-12-31",
            "period_type_concept_id": 32817,
        }
        for i in (1, 2, 3)
    ],
    "drug_exposure": [
        {
            "drug_exposure_id": 1,
            "person_id": 1,
            "drug_concept_id": 45892531,
            "drug_exposure_start_date": "2020-01-01",
            "drug_exposure_end_date": "2020-01-07",
            "drug_type_concept_id": 32818,
            "quantity": 63.0,
            "days_supply": 7,
        },
        {
            "drug_exposure_id": 2,
            "person_id": 2,
            "drug_concept_id": 794068,
            "drug_exposure_start_date": "2020-02-01",
            "drug_exposure_end_date": "2020-02-01",
            "drug_type_concept_id": 32818,
            "quantity": 1.2,
            "days_supply": 1,
        },
    ],
    "condition_occurrence": [
        {
            "condition_occurrence_id": 1,
            "person_id": 1,
            "condition_concept_id": 4082461,
            "condition_start_date": "2019-06-01",
            "condition_end_date": None,
            "condition_type_concept_id": 32817,
        }
    ],
    "measurement": [
        {
            "measurement_id": 1,
            "person_id": 1,
            "measurement_concept_id": 3013650,
            "measurement_date": "2020-02-01",
            "measurement_type_concept_id": 32817,
            "value_as_number": 1.5,
            "unit_concept_id": 9444,
        }
    ],
    "observation": [
        {
            "observation_id": 1,
            "person_id": 1,
            "observation_concept_id": 320073,
            "observation_date": "2020-01-05",
            "observation_type_concept_id": 32817,
            "value_as_number": 3.0,
        }
    ],
}

for _row in _BASE["person"]:
    _row.update(race_concept_id=0, ethnicity_concept_id=0)


def base_cdm() -> dict[str, list[dict[str, Any]]]:
    """A fresh copy of the valid mini CDM (3 persons, every rule satisfied)."""
    return copy.deepcopy(_BASE)


def death(person_id: int, death_date: str) -> dict[str, Any]:
    """A death row."""
    return {"person_id": person_id, "death_date": death_date, "death_type_concept_id": 32817}


_DRUG_COLUMNS = [
    "drug_exposure_id",
    "person_id",
    "drug_concept_id",
    "drug_exposure_start_date",
    "drug_exposure_end_date",
    "drug_type_concept_id",
    "quantity",
    "days_supply",
]
_CONDITION_COLUMNS = [
    "condition_occurrence_id",
    "person_id",
    "condition_concept_id",
    "condition_start_date",
    "condition_end_date",
    "condition_type_concept_id",
]
_MEASUREMENT_COLUMNS = ["measurement_id", "person_id", "measurement_concept_id", "measurement_date"]


def broken_cdm() -> dict[str, list[dict[str, Any]]]:
    """The mini CDM broken in seven tables; :func:`keep_study_rows` keeps most of the defects."""
    cdm = base_cdm()
    blin, ino = cdm["drug_exposure"]
    blin["drug_exposure_end_date"] = "2019-12-30"  # ends before it starts
    ino["person_id"] = 987654  # nobody, and so outside every observation period
    cdm["drug_exposure"].append(dict(blin, drug_exposure_end_date="2020-01-07"))  # same id
    cdm["condition_occurrence"][0]["condition_start_date"] = "2030-05-01"  # in the future
    cdm["person"][2]["year_of_birth"] = 2050  # a person without records: not kept
    cdm["observation_period"].append(
        dict(cdm["observation_period"][0], observation_period_id=4)  # overlaps period 1
    )
    cdm["death"] = [death(1, "2019-03-01")]  # before person 1's drug records
    cdm["measurement"][0]["value_as_number"] = -2.0  # outside the kept rows (none are kept)
    return cdm


def keep_study_rows(source: KeptRows) -> None:
    """Keep every drug, condition and observation row, no measurement row, and their persons."""
    source.cache_rows(
        "drug_exposure", match=["drug_concept_id"], ids=[45892531, 794068], columns=_DRUG_COLUMNS
    )
    source.cache_rows(
        "condition_occurrence",
        match=["condition_concept_id"],
        ids=[4082461],
        columns=_CONDITION_COLUMNS,
    )
    source.cache_rows(
        "observation",
        match=["observation_concept_id"],
        ids=[320073],
        columns=["observation_id", "person_id", "observation_concept_id", "observation_date"],
    )
    kept = source.cache_rows(
        "measurement", match=["measurement_concept_id"], ids=[1], columns=_MEASUREMENT_COLUMNS
    )
    assert kept.rows == 0
    assert source.cache_kept_persons_rows() == ["person", "observation_period", "death"]


def summary(report: CheckReport) -> list[tuple[str, str, str, str | None, int | None]]:
    """Severity, rule, table, column and rows of each finding, in report order."""
    return [(f.severity, f.rule, f.table, f.column, f.rows) for f in report.findings]


#: the findings of the rows kept by keep_study_rows, in report order
SCOPED = [
    ("error", "end_before_start", "drug_exposure", "drug_exposure_end_date", 1),
    ("error", "duplicate_primary_key", "drug_exposure", "drug_exposure_id", 2),
    ("error", "unknown_person", "drug_exposure", "person_id", 1),
    ("warning", "after_death", "condition_occurrence", "condition_start_date", 1),
    ("warning", "future_date", "condition_occurrence", "condition_start_date", 1),
    ("warning", "outside_observation", "condition_occurrence", "condition_start_date", 1),
    ("warning", "after_death", "drug_exposure", "drug_exposure_start_date", 2),
    ("warning", "outside_observation", "drug_exposure", "drug_exposure_start_date", 1),
    ("warning", "after_death", "observation", "observation_date", 1),
    (
        "warning",
        "overlapping_observation_periods",
        "observation_period",
        "observation_period_start_date",
        2,
    ),
]
#: and those of the whole tables: the measurement row and person 3 are not kept
FULL = [
    *SCOPED[:8],
    ("warning", "after_death", "measurement", "measurement_date", 1),
    ("warning", "negative_lab_value", "measurement", "value_as_number", 1),
    *SCOPED[8:],
    ("warning", "year_of_birth_future", "person", "year_of_birth", 1),
]


def run_check(
    make: Callable[..., str], tables: dict[str, Any], *, kind: str = "duckdb"
) -> CheckReport:
    """Write ``tables`` with the ``tmp_cdm`` factory and check them with ``TODAY``."""
    with connect(make(tables, kind=kind)) as cdm:
        return check_cdm(cdm, today=TODAY)


def only(report: CheckReport, rule: str) -> Finding:
    """The one finding of ``rule`` (fails when there are none or several)."""
    found = report.find(rule)
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]
