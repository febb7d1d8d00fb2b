"""Tiny OMOP CDMs for the safety tests: rows by day offset from one index date.

Every table the event helpers read is created with all its CDM v5.4 columns (absent values are
NULL); primary keys are numbered when a row does not give one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from offset_cdm import TABLES, cid, write_cdm

__all__ = ["D0", "TABLES", "cid", "day", "write_cdm"]

D0 = dt.date(2021, 3, 1)


def day(n: int) -> dt.date:
    """The date ``n`` days after the index date ``D0``."""
    return D0 + dt.timedelta(days=n)


def drug(pid: int, concept: int, start: int, end: int | None = None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "drug_concept_id": concept,
        "drug_exposure_start_date": day(start),
        "drug_exposure_end_date": day(start if end is None else end),
        "drug_type_concept_id": 32818,
    }


def obs(pid: int, concept: int, n: int, grade: float | None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "observation_concept_id": concept,
        "observation_date": day(n),
        "observation_type_concept_id": 32817,
        "value_as_number": grade,
    }


def cond(pid: int, concept: int, n: int, code: str | None) -> dict[str, Any]:
    """A condition row as a claims ETL writes it: the ICD-10-CM code in the source value."""
    return {
        "person_id": pid,
        "condition_concept_id": concept,
        "condition_start_date": day(n),
        "condition_type_concept_id": 32810,
        "condition_source_value": code,
    }


def death(pid: int, n: int, cause: int | None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "death_date": day(n),
        "death_type_concept_id": 32817,
        "cause_concept_id": cause,
    }
