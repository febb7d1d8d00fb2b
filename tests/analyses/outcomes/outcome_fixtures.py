"""Tiny hand-made OMOP CDMs (DuckDB) and cohorts for the outcome tests.

Each helper returns a row dict; :func:`write_cdm` creates every listed table (empty ones too,
unless skipped) with the few CDM columns allrwe reads, and :func:`cohort` builds a
:class:`~allrwe.cohort.Cohort` from hand-made rows, so the tests control index dates and settings
exactly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from allrwe.cohort import Cohort
from allrwe.spec import StudySpec, spec_from_text

BLIN = 45892531
INO = 794068
BLASTS = 2000000301
ANC = 3013650
PLATELETS = 3024929
MRD = 2000000302
RELAPSE = 36712834
REFRACTORY = 36712835
HSCT = 2108456
CAR_T = 2000000202
PCT, PER_L = 8554, 9444

TABLES: dict[str, dict[str, str]] = {
    "person": {"person_id": "BIGINT", "gender_concept_id": "BIGINT", "year_of_birth": "BIGINT"},
    "observation_period": {
        "observation_period_id": "BIGINT",
        "person_id": "BIGINT",
        "observation_period_start_date": "DATE",
        "observation_period_end_date": "DATE",
    },
    "drug_exposure": {
        "drug_exposure_id": "BIGINT",
        "person_id": "BIGINT",
        "drug_concept_id": "BIGINT",
        "drug_exposure_start_date": "DATE",
        "drug_exposure_end_date": "DATE",
        "quantity": "DOUBLE",
        "days_supply": "BIGINT",
    },
    "condition_occurrence": {
        "condition_occurrence_id": "BIGINT",
        "person_id": "BIGINT",
        "condition_concept_id": "BIGINT",
        "condition_start_date": "DATE",
    },
    "procedure_occurrence": {
        "procedure_occurrence_id": "BIGINT",
        "person_id": "BIGINT",
        "procedure_concept_id": "BIGINT",
        "procedure_date": "DATE",
    },
    "measurement": {
        "measurement_id": "BIGINT",
        "person_id": "BIGINT",
        "measurement_concept_id": "BIGINT",
        "measurement_date": "DATE",
        "value_as_number": "DOUBLE",
        "unit_concept_id": "BIGINT",
    },
    "death": {"person_id": "BIGINT", "death_date": "DATE"},
}

INDEX = "2020-01-01"
OBS_END = "2021-01-01"


def day(offset: int, start: str = INDEX) -> str:
    """The ISO date ``offset`` days after ``start``."""
    return (dt.date.fromisoformat(start) + dt.timedelta(days=offset)).isoformat()


def drug(pid: int, concept: int, start: int, end: int | None = None) -> dict[str, Any]:
    """A drug record from day ``start`` to ``end`` (days after the index date)."""
    last = start if end is None else end
    return {
        "person_id": pid,
        "drug_concept_id": concept,
        "drug_exposure_start_date": day(start),
        "drug_exposure_end_date": day(last),
        "days_supply": last - start + 1,
    }


def blin_cycles(pid: int, *starts: int) -> list[dict[str, Any]]:
    """28-day blinatumomab infusions starting on the given days (one 28-day bag each)."""
    return [drug(pid, BLIN, s, s + 27) for s in starts]


def lab(
    pid: int, concept: int, offset: int, value: float, unit: int | None = None
) -> dict[str, Any]:
    """A measurement ``offset`` days after the index date."""
    default = PCT if concept in (BLASTS, MRD) else PER_L
    return {
        "person_id": pid,
        "measurement_concept_id": concept,
        "measurement_date": day(offset),
        "value_as_number": value,
        "unit_concept_id": default if unit is None else unit,
    }


def triple(
    pid: int, offset: int, blasts: float, anc: float, platelets: float
) -> list[dict[str, Any]]:
    """Blasts, ANC and platelets on the same day."""
    return [
        lab(pid, BLASTS, offset, blasts),
        lab(pid, ANC, offset, anc),
        lab(pid, PLATELETS, offset, platelets),
    ]


def cond(pid: int, concept: int, offset: int) -> dict[str, Any]:
    """A condition ``offset`` days after the index date."""
    return {"person_id": pid, "condition_concept_id": concept, "condition_start_date": day(offset)}


def proc(pid: int, concept: int, offset: int) -> dict[str, Any]:
    """A procedure ``offset`` days after the index date."""
    return {"person_id": pid, "procedure_concept_id": concept, "procedure_date": day(offset)}


def death(pid: int, offset: int) -> dict[str, Any]:
    """A death ``offset`` days after the index date."""
    return {"person_id": pid, "death_date": day(offset)}


def write_cdm(
    path: Path,
    persons: list[int],
    rows: dict[str, list[dict[str, Any]]],
    *,
    skip: tuple[str, ...] = (),
) -> Path:
    """Write a DuckDB CDM of ``persons`` (observed 2019-01-01 to OBS_END) with ``rows``."""
    base = {
        "person": [
            {"person_id": p, "gender_concept_id": 8507, "year_of_birth": 1980} for p in persons
        ],
        "observation_period": [
            {"person_id": p, "observation_period_start_date": "2019-01-01",
             "observation_period_end_date": OBS_END}
            for p in persons
        ],
    }  # fmt: skip
    con = duckdb.connect(str(path))
    try:
        for name, cols in TABLES.items():
            if name in skip:
                continue
            con.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in cols.items())})")
            data = [dict(r) for r in base.get(name, []) + rows.get(name, [])]
            pk = next(iter(cols))
            for i, r in enumerate(data, start=1):
                if pk != "person_id":
                    r.setdefault(pk, i)
            if data:
                frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in data]).astype(object)
                con.register("_rows", frame)
                casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in cols.items())
                con.execute(f"INSERT INTO {name} SELECT {casts} FROM _rows")
                con.unregister("_rows")
    finally:
        con.close()
    return path


SPEC_TEXT = """
name: outcomes-test
index_groups:
  BLIN: [blinatumomab]
  INO: [inotuzumab_ozogamicin]
study_period: {start: 2019-01-01, end: 2022-12-31}
"""


def make_spec(extra: str = "") -> StudySpec:
    """The test study spec, with optional extra YAML appended."""
    return spec_from_text(SPEC_TEXT + extra)


def cohort(spec: StudySpec, rows: list[dict[str, Any]]) -> Cohort:
    """A cohort of hand-made rows (defaults: group BLIN, index INDEX, R/R re-induction)."""
    defaults: dict[str, Any] = {
        "group": "BLIN",
        "index_set": "blinatumomab",
        "index_date": INDEX,
        "obs_start": "2019-01-01",
        "obs_end": OBS_END,
        "age_at_index": 40,
        "gender_concept_id": 8507,
        "setting": "RR",
        "treatment_setting": "re-induction",
        "line_at_index": 2,
    }
    frame = pd.DataFrame([{**defaults, **r} for r in rows])
    return Cohort.from_frame(frame, spec=spec)
