"""A small valid CDM the check-rule tests break one rule at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

from allrwe.io.check import CheckReport, Finding, check_cdm
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
