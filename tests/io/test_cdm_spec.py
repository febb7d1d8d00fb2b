"""The bundled OMOP CDM v5.4 specification."""

from __future__ import annotations

import pytest

from allrwe.errors import CdmSchemaError
from allrwe.io.cdm_spec import REQUIRED_TABLES, load_cdm_spec


def test_every_table_of_cdm_54():
    spec = load_cdm_spec()
    assert spec.version == "5.4"
    assert len(spec.tables) == 39
    assert sum(len(t.fields) for t in spec.tables.values()) == 432
    assert {t.name for t in spec.by_group("vocabulary")} == {
        "concept",
        "vocabulary",
        "domain",
        "concept_class",
        "concept_relationship",
        "relationship",
        "concept_synonym",
        "concept_ancestor",
        "source_to_concept_map",
        "drug_strength",
    }
    assert [t.name for t in spec.by_group("results")] == ["cohort", "cohort_definition"]
    assert "OMOP_CDMv5.4_Field_Level.csv" in spec.source


def test_clinical_tables_match_the_reference_counts():
    spec = load_cdm_spec()
    counts = {
        "person": 18,
        "observation_period": 5,
        "visit_occurrence": 17,
        "condition_occurrence": 16,
        "drug_exposure": 23,
        "procedure_occurrence": 16,
        "measurement": 23,
        "observation": 21,
        "death": 7,
    }
    assert {name: len(spec.table(name).fields) for name in counts} == counts
    assert sum(counts.values()) == 146


def test_fields_types_and_keys():
    spec = load_cdm_spec()
    drug = spec.table("DRUG_EXPOSURE")
    assert [f.name for f in drug.required_fields] == [
        "drug_exposure_id",
        "person_id",
        "drug_concept_id",
        "drug_exposure_start_date",
        "drug_exposure_end_date",
        "drug_type_concept_id",
    ]
    assert drug.primary_key == "drug_exposure_id"
    assert drug.field("quantity").type == "float"
    assert drug.field("drug_exposure_start_datetime").type == "datetime"
    assert spec.table("death").primary_key is None
    assert spec.table("episode").field("episode_end_date").required is False
    assert spec.table("note_nlp").field("offset").type == "string"
    assert spec.table("concept").field("concept_code").required is True
    assert REQUIRED_TABLES == ("person", "observation_period")
    assert "cost" in spec
    assert "costs" not in spec


def test_unknown_table_and_field_raise():
    spec = load_cdm_spec()
    with pytest.raises(CdmSchemaError, match="no table 'drugs'"):
        spec.table("drugs")
    with pytest.raises(CdmSchemaError, match="'person' has no field 'age'"):
        spec.table("person").field("age")
