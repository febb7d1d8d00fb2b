"""Structure rules of ``check_cdm``: tables, required columns and column types."""

from __future__ import annotations

import ibis.expr.datatypes as dt
import pyarrow as pa
import pytest

from allrwe.io.check import type_compatibility
from cdm_files import to_arrow
from mini_cdm import base_cdm, only, run_check


def _retype(rows, name: str, column: str, typ: pa.DataType) -> pa.Table:
    table = to_arrow(name, rows)
    i = table.column_names.index(column)
    return table.set_column(i, column, table[column].cast(typ))


@pytest.mark.parametrize("table", ["person", "observation_period"])
def test_missing_required_table(tmp_cdm, table):
    cdm = base_cdm()
    del cdm[table]
    report = run_check(tmp_cdm, cdm)
    f = only(report, "missing_table")
    assert (f.severity, f.table, f.column, f.rows) == ("error", table, None, None)
    assert report.exit_code == 1


def test_missing_required_column_skips_its_rules(tmp_cdm):
    cdm = base_cdm()
    for row in cdm["drug_exposure"]:
        del row["drug_exposure_end_date"]
        row["drug_exposure_start_date"] = "2018-01-01"  # also outside observation
    report = run_check(tmp_cdm, cdm)
    f = only(report, "missing_column")
    assert (f.severity, f.table, f.column) == ("error", "drug_exposure", "drug_exposure_end_date")
    assert report.find("end_before_start") == []
    assert report.find("query_failed") == []
    assert only(report, "outside_observation").rows == 2
    assert report.checks_skipped == 3  # refills, end_before_start, null_required of the column


def test_unknown_tables_and_columns_are_fine(tmp_cdm):
    cdm = base_cdm()
    cdm["my_notes"] = [{"x": 1}]
    for row in cdm["person"]:
        row["site_flag"] = "a"
    assert run_check(tmp_cdm, cdm).findings == ()


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_person_id_as_text_is_an_error(tmp_cdm, kind):
    cdm = base_cdm()
    cdm["person"] = _retype(cdm["person"], "person", "person_id", pa.string())
    report = run_check(tmp_cdm, cdm, kind=kind)
    f = only(report, "column_type")
    assert (f.severity, f.table, f.column) == ("error", "person", "person_id")
    assert "string" in f.message
    assert "integer expected" in f.message
    assert report.find("unknown_person") == []  # skipped: person_id is unusable
    assert report.find("query_failed") == []


def test_date_as_text_is_an_error(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"] = _retype(
        cdm["drug_exposure"], "drug_exposure", "drug_exposure_start_date", pa.string()
    )
    f = only(run_check(tmp_cdm, cdm), "column_type")
    assert (f.severity, f.table, f.column) == ("error", "drug_exposure", "drug_exposure_start_date")


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_timestamp_for_date_is_a_warning_and_rules_still_run(tmp_cdm, kind):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-12-31"
    table = to_arrow("drug_exposure", cdm["drug_exposure"])
    for column in ("drug_exposure_start_date", "drug_exposure_end_date"):
        i = table.column_names.index(column)
        table = table.set_column(i, column, table[column].cast(pa.timestamp("us")))
    cdm["drug_exposure"] = table
    report = run_check(tmp_cdm, cdm, kind=kind)
    types = report.find("column_type")
    assert {(f.severity, f.column) for f in types} == {
        ("warning", "drug_exposure_start_date"),
        ("warning", "drug_exposure_end_date"),
    }
    assert only(report, "end_before_start").rows == 1
    assert report.find("outside_observation") == []


def test_narrow_integers_are_fine_and_floats_warn(tmp_cdm):
    cdm = base_cdm()
    cdm["person"] = _retype(cdm["person"], "person", "person_id", pa.int32())
    cdm["drug_exposure"] = _retype(
        cdm["drug_exposure"], "drug_exposure", "days_supply", pa.float64()
    )
    report = run_check(tmp_cdm, cdm)
    f = only(report, "column_type")
    assert (f.severity, f.table, f.column) == ("warning", "drug_exposure", "days_supply")
    assert report.ok


def test_optional_column_of_wrong_type(tmp_cdm):
    cdm = base_cdm()
    table = to_arrow("drug_exposure", cdm["drug_exposure"])
    table = table.append_column("verbatim_end_date", pa.array([None, None], pa.string()))
    cdm["drug_exposure"] = table.append_column("route_concept_id", pa.array(["oral", None]))
    report = run_check(tmp_cdm, cdm)
    by_column = {f.column: (f.severity, f.rows) for f in report.find("column_type")}
    assert by_column == {"verbatim_end_date": ("info", 0), "route_concept_id": ("error", 1)}
    assert report.find("concept_not_in_vocabulary") == []


@pytest.mark.parametrize(
    ("expected", "dtype", "verdict"),
    [
        ("integer", dt.int64, "ok"),
        ("integer", dt.int16, "ok"),
        ("integer", dt.Decimal(18, 0), "ok"),
        ("integer", dt.Decimal(10, 2), "lenient"),
        ("integer", dt.float64, "lenient"),
        ("integer", dt.string, "bad"),
        ("integer", dt.boolean, "bad"),
        ("float", dt.int64, "ok"),
        ("float", dt.Decimal(10, 2), "ok"),
        ("float", dt.string, "bad"),
        ("date", dt.date, "ok"),
        ("date", dt.timestamp, "lenient"),
        ("date", dt.string, "bad"),
        ("date", dt.int64, "bad"),
        ("datetime", dt.timestamp, "ok"),
        ("datetime", dt.date, "ok"),
        ("datetime", dt.string, "bad"),
        ("string", dt.int64, "ok"),
        ("date", dt.null, "ok"),
    ],
)
def test_type_compatibility(expected, dtype, verdict):
    assert type_compatibility(expected, dtype) == verdict
