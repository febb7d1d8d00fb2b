"""A five-person CDM for PhenotypeLibrary cohort 213 (tests/cohort/circe/), as a DuckDB file.

Persons 1 and 4 enter (neutropenia 2020-03-01, agranulocytosis 2022-01-15), person 2 is
excluded by the definition's congenital-neutropenia rule (9 days before the event), persons 3
and 5 have no event. The file also holds the vocabulary tables Circe's SQL reads.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from cdm_files import write_cdm

DEFINITION = Path(__file__).parent / "cohort" / "circe" / "phenotype_library_213.json"

#: Concepts of the definition's concept sets (ids, names, domains as PhenotypeLibrary lists them)
NEUTROPENIA = 320073  # Neutropenia, set 0 (with descendants)
AGRANULOCYTOSIS = 440689  # Agranulocytosis, set 0
CONGENITAL = 434895  # Congenital neutropenia, set 1: the inclusion rule excludes it

#: (person_id, cohort_start_date, cohort_end_date) the definition gives on this CDM: each entry
#: ends 21 days after its event (the definition's end strategy)
EXPECTED = [
    (1, date(2020, 3, 1), date(2020, 3, 22)),
    (4, date(2022, 1, 15), date(2022, 2, 5)),
]

MEASUREMENT = (
    "measurement_id bigint, person_id bigint, measurement_concept_id bigint, "
    "measurement_date date, measurement_datetime timestamp, measurement_time varchar, "
    "measurement_type_concept_id bigint, operator_concept_id bigint, value_as_number double, "
    "value_as_concept_id bigint, unit_concept_id bigint, range_low double, range_high double, "
    "provider_id bigint, visit_occurrence_id bigint, visit_detail_id bigint, "
    "measurement_source_value varchar, measurement_source_concept_id bigint, "
    "unit_source_value varchar, unit_source_concept_id bigint, value_source_value varchar, "
    "measurement_event_id bigint, meas_event_field_concept_id bigint"
)


def _condition(k: int, person: int, concept: int, day: str) -> dict[str, object]:
    return {
        "condition_occurrence_id": k,
        "person_id": person,
        "condition_concept_id": concept,
        "condition_start_date": day,
        "condition_end_date": day,
        "condition_type_concept_id": 32817,
        "condition_status_concept_id": 0,
        "condition_source_concept_id": 0,
        "visit_occurrence_id": None,
        "visit_detail_id": None,
        "provider_id": None,
    }


def write_circe_cdm(folder: Path) -> Path:
    """Write the five-person CDM into ``folder``; return the DuckDB file's path."""
    people = range(1, 6)
    tables = {
        "person": [
            {
                "person_id": i,
                "gender_concept_id": 8507,
                "year_of_birth": 1980,
                "race_concept_id": 0,
                "ethnicity_concept_id": 0,
            }
            for i in people
        ],
        "observation_period": [
            {
                "observation_period_id": i,
                "person_id": i,
                "observation_period_start_date": "2015-01-01",
                "observation_period_end_date": "2023-12-31",
                "period_type_concept_id": 32817,
            }
            for i in people
        ],
        "condition_occurrence": [
            _condition(1, 1, NEUTROPENIA, "2020-03-01"),
            _condition(2, 2, NEUTROPENIA, "2021-05-10"),
            _condition(3, 2, CONGENITAL, "2021-05-01"),  # 9 days before: excluded
            _condition(4, 4, AGRANULOCYTOSIS, "2022-01-15"),
        ],
    }
    url = write_cdm(folder, tables, "duckdb")
    path = Path(url.split("://", 1)[1])
    with duckdb.connect(str(path)) as con:
        con.execute(f"create table measurement ({MEASUREMENT})")
        con.execute(
            "create table concept (concept_id bigint, concept_name varchar, domain_id varchar, "
            "vocabulary_id varchar, concept_class_id varchar, standard_concept varchar, "
            "concept_code varchar, valid_start_date date, valid_end_date date, "
            "invalid_reason varchar)"
        )
        con.execute(
            "create table concept_ancestor (ancestor_concept_id bigint, "
            "descendant_concept_id bigint, min_levels_of_separation int, "
            "max_levels_of_separation int)"
        )
        con.execute(
            "create table concept_relationship (concept_id_1 bigint, concept_id_2 bigint, "
            "relationship_id varchar, valid_start_date date, valid_end_date date, "
            "invalid_reason varchar)"
        )
        for concept in (NEUTROPENIA, AGRANULOCYTOSIS, CONGENITAL):
            con.execute(
                "insert into concept values (?, '', 'Condition', 'SNOMED', 'Clinical Finding', "
                "'S', '', '1970-01-01', '2099-12-31', null)",
                [concept],
            )
            con.execute("insert into concept_ancestor values (?, ?, 0, 0)", [concept, concept])
    return path
