"""Build tiny OMOP CDM DuckDB files for the cohort and pattern tests.

Rows are given as short tuples per table; the builder fills the remaining CDM columns with
NULL, creates every table (empty ones too) and returns the path.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

#: The columns (and DuckDB types) the fixtures carry, per table.
TABLES: dict[str, dict[str, str]] = {
    "person": {
        "person_id": "BIGINT",
        "gender_concept_id": "BIGINT",
        "year_of_birth": "BIGINT",
        "month_of_birth": "BIGINT",
        "day_of_birth": "BIGINT",
        "race_concept_id": "BIGINT",
        "ethnicity_concept_id": "BIGINT",
    },
    "observation_period": {
        "observation_period_id": "BIGINT",
        "person_id": "BIGINT",
        "observation_period_start_date": "DATE",
        "observation_period_end_date": "DATE",
        "period_type_concept_id": "BIGINT",
    },
    "drug_exposure": {
        "drug_exposure_id": "BIGINT",
        "person_id": "BIGINT",
        "drug_concept_id": "BIGINT",
        "drug_exposure_start_date": "DATE",
        "drug_exposure_end_date": "DATE",
        "drug_type_concept_id": "BIGINT",
        "quantity": "DOUBLE",
        "days_supply": "BIGINT",
        "drug_source_concept_id": "BIGINT",
    },
    "condition_occurrence": {
        "condition_occurrence_id": "BIGINT",
        "person_id": "BIGINT",
        "condition_concept_id": "BIGINT",
        "condition_start_date": "DATE",
        "condition_end_date": "DATE",
        "condition_type_concept_id": "BIGINT",
        "condition_source_concept_id": "BIGINT",
    },
    "procedure_occurrence": {
        "procedure_occurrence_id": "BIGINT",
        "person_id": "BIGINT",
        "procedure_concept_id": "BIGINT",
        "procedure_date": "DATE",
        "procedure_end_date": "DATE",
        "procedure_type_concept_id": "BIGINT",
        "procedure_source_concept_id": "BIGINT",
    },
    "measurement": {
        "measurement_id": "BIGINT",
        "person_id": "BIGINT",
        "measurement_concept_id": "BIGINT",
        "measurement_date": "DATE",
        "measurement_type_concept_id": "BIGINT",
        "value_as_number": "DOUBLE",
        "value_as_concept_id": "BIGINT",
        "unit_concept_id": "BIGINT",
        "measurement_source_concept_id": "BIGINT",
    },
    "observation": {
        "observation_id": "BIGINT",
        "person_id": "BIGINT",
        "observation_concept_id": "BIGINT",
        "observation_date": "DATE",
        "observation_type_concept_id": "BIGINT",
        "value_as_number": "DOUBLE",
        "value_as_concept_id": "BIGINT",
        "unit_concept_id": "BIGINT",
        "observation_source_concept_id": "BIGINT",
    },
    "death": {
        "person_id": "BIGINT",
        "death_date": "DATE",
        "death_type_concept_id": "BIGINT",
        "cause_concept_id": "BIGINT",
    },
    "concept_ancestor": {
        "ancestor_concept_id": "BIGINT",
        "descendant_concept_id": "BIGINT",
        "min_levels_of_separation": "BIGINT",
        "max_levels_of_separation": "BIGINT",
    },
    "drug_strength": {
        "drug_concept_id": "BIGINT",
        "ingredient_concept_id": "BIGINT",
        "amount_value": "DOUBLE",
        "amount_unit_concept_id": "BIGINT",
        "numerator_value": "DOUBLE",
        "numerator_unit_concept_id": "BIGINT",
        "denominator_value": "DOUBLE",
        "denominator_unit_concept_id": "BIGINT",
    },
}

# Ids of the bundled vocabulary used by the fixtures.
BLIN = 45892531
INO = 794068
TISA = 792737
VINCRISTINE = 1308290
CYTARABINE = 1311078
CYCLOPHOSPHAMIDE = 1310317
FLUDARABINE = 1395557
MERCAPTOPURINE = 1436650
DASATINIB = 1358436
DEXAMETHASONE = 1518254
ALL_ICD10 = 45537873
ALL_SNOMED = 134305
T_ALL = 4082462
RELAPSE = 36712834
REFRACTORY = 36712835
REMISSION = 141816
HSCT = 2108456
CAR_T_INFUSION = 2000000202
MRD = 2000000302
HEIGHT = 3036277
WEIGHT = 3025315


def d(text: str) -> dt.date:
    """Parse an ISO date."""
    return dt.date.fromisoformat(text)


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = TABLES[name]
    frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=list(cols))
    return frame.astype(object)


def make_cdm(
    path: Path, tables: dict[str, list[dict[str, Any]]], *, skip: tuple[str, ...] = ()
) -> Path:
    """Write a DuckDB CDM at ``path`` holding ``tables`` (missing tables are created empty).

    Row ids (``*_id`` primary keys) are numbered automatically when absent.
    """
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown fixture tables {sorted(unknown)}")
    con = duckdb.connect(str(path))
    try:
        for name, cols in TABLES.items():
            if name in skip:
                continue
            ddl = ", ".join(f"{c} {t}" for c, t in cols.items())
            con.execute(f"CREATE TABLE {name} ({ddl})")
            rows = [dict(r) for r in tables.get(name, [])]
            pk = next(iter(cols))
            if pk.endswith("_id") and pk != "person_id" and name not in ("concept_ancestor",):
                for i, r in enumerate(rows, start=1):
                    r.setdefault(pk, i)
            if rows:
                frame = _frame(name, rows)
                con.register("_rows", frame)
                casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in cols.items())
                con.execute(f"INSERT INTO {name} SELECT {casts} FROM _rows")
                con.unregister("_rows")
    finally:
        con.close()
    return path


def person(
    pid: int, year: int, gender: int = 8507, month: int | None = None, day: int | None = None
) -> dict[str, Any]:
    """A person row."""
    return {
        "person_id": pid,
        "gender_concept_id": gender,
        "year_of_birth": year,
        "month_of_birth": month,
        "day_of_birth": day,
        "race_concept_id": 0,
        "ethnicity_concept_id": 0,
    }


def obs(pid: int, start: str, end: str) -> dict[str, Any]:
    """An observation-period row."""
    return {
        "person_id": pid,
        "observation_period_start_date": d(start),
        "observation_period_end_date": d(end),
        "period_type_concept_id": 32810,
    }


def drug(
    pid: int,
    concept: int,
    start: str,
    end: str | None = None,
    *,
    quantity: float | None = None,
    days_supply: int | None = None,
    source: int | None = None,
) -> dict[str, Any]:
    """A drug-exposure row (end defaults to start)."""
    return {
        "person_id": pid,
        "drug_concept_id": concept,
        "drug_exposure_start_date": d(start),
        "drug_exposure_end_date": d(end or start),
        "drug_type_concept_id": 32810,
        "quantity": quantity,
        "days_supply": days_supply,
        "drug_source_concept_id": source,
    }


def cond(pid: int, concept: int, start: str, *, source: int | None = None) -> dict[str, Any]:
    """A condition row."""
    return {
        "person_id": pid,
        "condition_concept_id": concept,
        "condition_start_date": d(start),
        "condition_type_concept_id": 32810,
        "condition_source_concept_id": source,
    }


def proc(pid: int, concept: int, start: str) -> dict[str, Any]:
    """A procedure row."""
    return {
        "person_id": pid,
        "procedure_concept_id": concept,
        "procedure_date": d(start),
        "procedure_type_concept_id": 32810,
    }


def meas(
    pid: int, concept: int, date: str, value: float | None, unit: int | None = None
) -> dict[str, Any]:
    """A measurement row."""
    return {
        "person_id": pid,
        "measurement_concept_id": concept,
        "measurement_date": d(date),
        "measurement_type_concept_id": 32817,
        "value_as_number": value,
        "unit_concept_id": unit,
    }
