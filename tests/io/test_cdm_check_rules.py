"""Each data-quality rule of ``check_cdm`` on the mini CDM, broken one way at a time."""

from __future__ import annotations

import pyarrow as pa
import pytest

from mini_cdm import base_cdm, death, only, run_check


def test_mini_cdm_has_no_finding(tmp_cdm):
    report = run_check(tmp_cdm, base_cdm())
    assert report.findings == ()
    assert report.ok
    assert report.checks_run == 86  # 80, and NaN/infinite and absurd values of 3 number fields
    assert report.checks_skipped == 1  # drug_exposure has no refills column


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_end_before_start_counts_rows(tmp_cdm, kind):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-12-30"
    cdm["drug_exposure"][1]["drug_exposure_end_date"] = "2020-01-31"
    cdm["observation_period"][2]["observation_period_end_date"] = "2018-12-31"
    report = run_check(tmp_cdm, cdm, kind=kind)
    drug = report.find("end_before_start", table="drug_exposure")
    assert [(f.severity, f.column, f.rows) for f in drug] == [
        ("error", "drug_exposure_end_date", 2)
    ]
    op = report.find("end_before_start", table="observation_period")
    assert [(f.column, f.rows) for f in op] == [("observation_period_end_date", 1)]
    assert not report.ok


def test_null_condition_end_is_not_end_before_start(tmp_cdm):
    cdm = base_cdm()
    cdm["condition_occurrence"].append(
        dict(
            cdm["condition_occurrence"][0],
            condition_occurrence_id=2,
            condition_end_date="2019-05-01",
        )
    )
    f = only(run_check(tmp_cdm, cdm), "end_before_start")
    assert (f.table, f.column, f.rows) == ("condition_occurrence", "condition_end_date", 1)


def test_null_required_field(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_concept_id"] = None
    cdm["drug_exposure"][1]["drug_concept_id"] = None
    f = only(run_check(tmp_cdm, cdm), "null_required")
    assert (f.severity, f.table, f.column, f.rows) == (
        "error",
        "drug_exposure",
        "drug_concept_id",
        2,
    )


def test_duplicate_primary_key_counts_every_row_of_a_shared_key(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][1]["drug_exposure_id"] = 1
    cdm["drug_exposure"].append(dict(cdm["drug_exposure"][1], drug_exposure_id=7))
    cdm["drug_exposure"].append(dict(cdm["drug_exposure"][1], drug_exposure_id=7))
    f = only(run_check(tmp_cdm, cdm), "duplicate_primary_key")
    assert (f.severity, f.table, f.column, f.rows) == (
        "error",
        "drug_exposure",
        "drug_exposure_id",
        4,
    )


def test_future_dates_against_today(tmp_cdm):
    cdm = base_cdm()
    cdm["measurement"][0]["measurement_date"] = "2024-03-01"
    cdm["observation_period"][0]["observation_period_end_date"] = "2024-06-30"
    report = run_check(tmp_cdm, cdm)
    f = only(report, "future_date")
    assert (f.severity, f.table, f.column, f.rows) == (
        "warning",
        "measurement",
        "measurement_date",
        1,
    )
    assert "2024-01-01" in f.message
    assert report.ok


def test_unknown_person_is_an_error_without_the_id(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][1]["person_id"] = 987654
    report = run_check(tmp_cdm, cdm)
    f = only(report, "unknown_person")
    assert (f.severity, f.table, f.column, f.rows) == ("error", "drug_exposure", "person_id", 1)
    assert "987654" not in report.to_json()


def test_outside_observation(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_start_date"] = "2018-06-01"
    cdm["measurement"][0]["measurement_date"] = "2023-02-01"
    report = run_check(tmp_cdm, cdm)
    found = {(f.table, f.column, f.rows) for f in report.find("outside_observation")}
    assert found == {
        ("drug_exposure", "drug_exposure_start_date", 1),
        ("measurement", "measurement_date", 1),
    }
    assert all(f.severity == "warning" for f in report.find("outside_observation"))


def test_second_period_covers_an_event(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_start_date"] = "2023-02-01"
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2023-02-01"
    cdm["observation_period"].append(
        {
            "observation_period_id": 9,
            "person_id": 1,
            "observation_period_start_date": "2023-01-01",
            "observation_period_end_date": "2023-06-30",
            "period_type_concept_id": 32817,
        }
    )
    assert run_check(tmp_cdm, cdm).findings == ()


def test_person_without_and_overlapping_periods(tmp_cdm):
    cdm = base_cdm()
    cdm["person"].append(dict(cdm["person"][2], person_id=4))
    cdm["observation_period"].append(
        {
            "observation_period_id": 10,
            "person_id": 2,
            "observation_period_start_date": "2022-06-01",
            "observation_period_end_date": "2023-06-30",
            "period_type_concept_id": 32817,
        }
    )
    report = run_check(tmp_cdm, cdm)
    f = only(report, "person_without_observation")
    assert (f.table, f.rows) == ("person", 1)
    f = only(report, "overlapping_observation_periods")
    assert (f.severity, f.table, f.rows) == ("warning", "observation_period", 2)


def test_ages_and_year_of_birth(tmp_cdm):
    cdm = base_cdm()
    cdm["person"][0]["year_of_birth"] = 1890
    cdm["person"][1]["year_of_birth"] = 2021
    cdm["person"][2]["year_of_birth"] = 2025
    report = run_check(tmp_cdm, cdm)
    old = report.find("implausible_age")
    assert {(f.table, f.rows) for f in old} == {
        ("drug_exposure", 1),
        ("condition_occurrence", 1),
        ("measurement", 1),
        ("observation", 1),
    }
    f = only(report, "before_birth")
    assert (f.table, f.column, f.rows) == ("drug_exposure", "drug_exposure_start_date", 1)
    f = only(report, "year_of_birth_future")
    assert (f.severity, f.table, f.column, f.rows) == ("warning", "person", "year_of_birth", 1)


def test_death_rules(tmp_cdm):
    cdm = base_cdm()
    cdm["person"][2]["year_of_birth"] = 2021
    cdm["death"] = [
        death(1, "2020-01-03"),  # 34 days after the end of observation
        death(2, "2019-03-01"),  # a drug on 2020-02-01, 337 days later
        death(3, "2019-05-01"),  # before birth
        death(3, "2019-05-02"),
    ]
    cdm["observation_period"][0]["observation_period_end_date"] = "2019-11-30"
    cdm["drug_exposure"][0]["drug_exposure_start_date"] = "2019-11-01"
    cdm["condition_occurrence"][0]["condition_start_date"] = "2019-06-01"
    cdm["measurement"][0]["measurement_date"] = "2019-11-15"
    cdm["observation"][0]["observation_date"] = "2019-11-20"
    report = run_check(tmp_cdm, cdm)
    f = only(report, "death_before_birth")
    assert (f.severity, f.table, f.column, f.rows) == ("error", "death", "death_date", 2)
    f = only(report, "death_after_observation")
    assert (f.severity, f.rows) == ("warning", 1)
    f = only(report, "after_death")
    assert (f.table, f.rows) == ("drug_exposure", 1)
    f = only(report, "duplicate_death")
    assert (f.table, f.column, f.rows) == ("death", "person_id", 2)


def test_concepts_missing_from_concept_table(tmp_cdm):
    cdm = base_cdm()
    used = {8507, 8532, 32817, 32818, 45892531, 794068, 4082461, 3013650, 9444, 320073}
    used.discard(794068)
    cdm["concept"] = [
        {
            "concept_id": cid,
            "concept_name": f"c{cid}",
            "domain_id": "x",
            "vocabulary_id": "x",
            "concept_class_id": "x",
            "concept_code": str(cid),
            "valid_start_date": "1970-01-01",
            "valid_end_date": "2099-12-31",
        }
        for cid in sorted(used)
    ]
    cdm["drug_exposure"][0]["drug_source_concept_id"] = 0
    report = run_check(tmp_cdm, cdm)
    f = only(report, "concept_not_in_vocabulary")
    assert (f.severity, f.table, f.column, f.rows) == (
        "warning",
        "drug_exposure",
        "drug_concept_id",
        1,
    )


def test_without_concept_table_no_concept_rule_runs(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_concept_id"] = 123456789
    assert run_check(tmp_cdm, cdm).find("concept_not_in_vocabulary") == []


def test_negative_quantity_and_days_supply(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["quantity"] = -63.0
    cdm["drug_exposure"][1]["quantity"] = -1.0
    cdm["drug_exposure"][1]["days_supply"] = -1
    report = run_check(tmp_cdm, cdm)
    f = only(report, "negative_quantity")
    assert (f.severity, f.table, f.column, f.rows) == ("warning", "drug_exposure", "quantity", 2)
    f = only(report, "negative_days_supply")
    assert (f.table, f.column, f.rows) == ("drug_exposure", "days_supply", 1)


def test_lab_values(tmp_cdm):
    cdm = base_cdm()
    row = cdm["measurement"][0]
    cdm["measurement"] = [
        dict(row, measurement_id=1, value_as_number=-0.5),  # ANC negative
        dict(row, measurement_id=2, unit_concept_id=8713),  # ANC in g/dL: not an ANC unit
        dict(row, measurement_id=5, unit_concept_id=8848),  # 10^3/uL: converted, not flagged
        dict(row, measurement_id=6, unit_concept_id=0),  # no unit: the set's, not flagged
        dict(
            row,
            measurement_id=3,
            measurement_concept_id=2000000301,
            value_as_number=120.0,
            unit_concept_id=8554,
        ),  # blasts over 100 %
        dict(
            row,
            measurement_id=4,
            measurement_concept_id=999,
            value_as_number=-3.0,
            unit_concept_id=None,
        ),  # not a lab set: ignored
    ]
    report = run_check(tmp_cdm, cdm)
    f = only(report, "negative_lab_value")
    assert (f.table, f.column, f.rows) == ("measurement", "value_as_number", 1)
    f = only(report, "percent_over_100")
    assert (f.table, f.column, f.rows) == ("measurement", "value_as_number", 1)
    f = only(report, "unexpected_unit")
    assert (f.column, f.rows) == ("unit_concept_id", 1)
    assert "'anc'" in f.message
    assert "9444" in f.message


def test_adverse_event_grades(tmp_cdm):
    cdm = base_cdm()
    row = cdm["observation"][0]
    cdm["observation"] = [
        dict(row, observation_id=1, value_as_number=0.0),
        dict(row, observation_id=2, value_as_number=2.5),
        dict(row, observation_id=3, value_as_number=6.0),
        dict(row, observation_id=4, value_as_number=5.0),
        dict(row, observation_id=5, value_as_number=None),
        dict(row, observation_id=6, observation_concept_id=999, value_as_number=9.0),
    ]
    f = only(run_check(tmp_cdm, cdm), "ae_grade_out_of_range")
    assert (f.severity, f.table, f.column, f.rows) == (
        "warning",
        "observation",
        "value_as_number",
        3,
    )


def test_empty_person_table(tmp_cdm):
    cdm = base_cdm()
    columns = ["person_id", "gender_concept_id", "year_of_birth", "race_concept_id"]
    schema = pa.schema([(c, pa.int64()) for c in [*columns, "ethnicity_concept_id"]])
    cdm["person"] = schema.empty_table()
    report = run_check(tmp_cdm, cdm)
    f = only(report, "empty_table")
    assert (f.severity, f.table) == ("warning", "person")
    assert {f.table for f in report.find("unknown_person")} == {
        "observation_period",
        "drug_exposure",
        "condition_occurrence",
        "measurement",
        "observation",
    }
