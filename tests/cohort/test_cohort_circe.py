"""A Circe cohort (PhenotypeLibrary 213) generated in the engine through duckcdm (allrwe[circe])."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from allrwe.cohort.external import circe_rows, cohort_rows
from allrwe.errors import BackendUnavailableError, CdmDataError
from allrwe.io import CdmSource
from allrwe.io.source import connect
from allrwe.spec import CohortRef
from cdm_files import write_cdm

DEFINITION = Path(__file__).parent / "circe" / "phenotype_library_213.json"

#: Concepts of the definition's concept sets (ids, names, domains as PhenotypeLibrary lists them)
NEUTROPENIA = 320073  # Neutropenia, set 0 (with descendants)
AGRANULOCYTOSIS = 440689  # Agranulocytosis, set 0
CONGENITAL = 434895  # Congenital neutropenia, set 1: the inclusion rule excludes it

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


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CdmSource]:
    pytest.importorskip("duckcdm")
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
    url = write_cdm(tmp_path_factory.mktemp("circe"), tables, "duckdb")
    path = url.split("://", 1)[1]
    with duckdb.connect(path) as con:
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
    with connect(path) as src:  # read-only: the cohort goes to session temporary tables
        yield src


def _days(column: pd.Series) -> list[date]:
    return pd.to_datetime(column).dt.date.tolist()


def test_phenotype_library_213_runs_on_a_read_only_duckdb(source: CdmSource) -> None:
    rows = source.execute(circe_rows(source, DEFINITION, 213)).sort_values("person_id")
    assert rows["person_id"].tolist() == [1, 4]  # person 2 has congenital neutropenia
    assert _days(rows["start_date"]) == [date(2020, 3, 1), date(2022, 1, 15)]
    # the definition's end: 21 days of persistence after the last event
    assert _days(rows["end_date"]) == [date(2020, 3, 22), date(2022, 2, 5)]
    again = source.execute(cohort_rows(source, CohortRef(id=213, circe=DEFINITION)))
    assert sorted(again["person_id"]) == [1, 4]


def test_a_broken_definition_is_one_clear_error(source: CdmSource, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CdmDataError, match=r"bad\.json cannot be turned into SQL"):
        circe_rows(source, bad, 1)


def test_without_duckcdm_the_message_names_the_extra(
    source: CdmSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckcdm.circe", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'allrwe\[circe\]'"):
        circe_rows(source, DEFINITION, 213)
