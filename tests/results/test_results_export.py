"""Exports: refusal of unsuppressed results, exact contents, byte-identical reruns, safe writes."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from allrwe.errors import DisclosureError, UsageError
from allrwe.results import ResultSet, export, make_records, suppress
from allrwe.results import exports as export_module

FILES = ["provenance.json", "results.csv", "results.json", "results.parquet", "results.xlsx"]


def _records() -> pd.DataFrame:
    baseline = make_records(
        analysis="baseline",
        group="BLIN",
        variable="ph_status",
        variable_level=["negative", "positive", "unknown"],
        estimate_name="count",
        value=[57, 40, 3],
        margin="ph@BLIN",
    )
    pct = make_records(
        analysis="baseline",
        group="BLIN",
        variable="ph_status",
        variable_level=["negative", "positive", "unknown"],
        estimate_name="percentage",
        value=[57.0, 40.0, 3.0],
    )
    km = make_records(
        analysis="survival_km",
        group="BLIN",
        variable="overall_survival",
        variable_level="365",
        estimate_name=["estimate", "lower", "n_risk"],
        value=[2 / 3, 0.123456789012345, 41],
    )
    return pd.concat([baseline, pct, km])


def _suppressed(created_at: str = "2024-05-01T10:00:00+00:00") -> ResultSet:
    rs = ResultSet.create(
        _records(), spec={"study": "export"}, cdm_source="duckdb:demo", created_at=created_at
    )
    return suppress(rs)


def test_export_refuses_unsuppressed_results(tmp_path: Path):
    rs = ResultSet.create(_records(), spec={"study": "export"}, cdm_source="duckdb:demo")
    with pytest.raises(DisclosureError, match="refusing to export 9 records that have not"):
        export(rs, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_csv_contents_are_exact(tmp_path: Path):
    written = export(_suppressed(), tmp_path / "out", formats=["csv"])
    assert [p.name for p in written] == ["results.csv", "provenance.json"]
    lines = (tmp_path / "out" / "results.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "analysis,group,strata_name,strata_level,variable,variable_level,estimate_name,"
        "estimate_type,value,suppressed,margin",
        "baseline,BLIN,overall,overall,ph_status,negative,count,count,57,FALSE,ph@BLIN",
        "baseline,BLIN,overall,overall,ph_status,negative,percentage,percentage,57,FALSE,",
        "baseline,BLIN,overall,overall,ph_status,positive,count,count,,TRUE,ph@BLIN",
        "baseline,BLIN,overall,overall,ph_status,positive,percentage,percentage,,TRUE,",
        "baseline,BLIN,overall,overall,ph_status,unknown,count,count,,TRUE,ph@BLIN",
        "baseline,BLIN,overall,overall,ph_status,unknown,percentage,percentage,,TRUE,",
        # non-count values rounded to 10 significant digits
        "survival_km,BLIN,overall,overall,overall_survival,365,estimate,numeric,0.6666666667,"
        "FALSE,",
        "survival_km,BLIN,overall,overall,overall_survival,365,lower,numeric,0.123456789,FALSE,",
        "survival_km,BLIN,overall,overall,overall_survival,365,n_risk,count,41,FALSE,",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "provenance.json",
        "results.csv",
    ]


def test_json_parquet_and_xlsx_hold_the_same_records(tmp_path: Path):
    out = tmp_path / "out"
    export(_suppressed(), out)
    assert sorted(p.name for p in out.iterdir()) == FILES
    csv = pd.read_csv(out / "results.csv", keep_default_na=False, na_values={"value": [""]})
    parquet = pq.read_table(out / "results.parquet").to_pandas()
    np.testing.assert_array_equal(parquet["value"].to_numpy(), csv["value"].to_numpy())
    assert parquet["suppressed"].tolist() == csv["suppressed"].tolist()
    assert list(parquet.columns) == list(csv.columns)

    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert "created_at" not in doc["provenance"]
    assert doc["provenance"]["suppression"]["suppressed_count_cells"] == 2
    values = [r["value"] for r in doc["records"]]
    assert values == [57, 57, None, None, None, None, 0.6666666667, 0.123456789, 41]

    book = load_workbook(out / "results.xlsx", read_only=True)
    try:
        assert book.sheetnames == ["baseline", "survival_km", "_provenance"]
        rows = list(book["survival_km"].iter_rows(values_only=True))
        assert rows[1][6:10] == ("estimate", "numeric", 0.6666666667, False)
        hidden = list(book["baseline"].iter_rows(values_only=True))[3]
        assert hidden[5:10] == ("positive", "count", "count", None, True)
    finally:
        book.close()

    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["created_at"] == "2024-05-01T10:00:00+00:00"
    assert provenance["suppression"] == {
        "min_cell_count": 5,
        "policy": "complementary",
        "suppressed_count_cells": 2,
        "suppressed_linked": 2,
    }


def test_exports_are_byte_identical_across_runs(tmp_path: Path):
    first = export(_suppressed("2024-05-01T10:00:00+00:00"), tmp_path / "a")
    second = export(_suppressed("2025-01-31T23:59:59+00:00"), tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        if a.name == "provenance.json":
            one, two = json.loads(a.read_bytes()), json.loads(b.read_bytes())
            assert one.pop("created_at") != two.pop("created_at")
            assert one == two
        else:
            assert a.read_bytes() == b.read_bytes(), a.name


def test_xlsx_carries_fixed_timestamps(tmp_path: Path):
    export(_suppressed(), tmp_path / "out", formats=["xlsx"])
    data = (tmp_path / "out" / "results.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "1980-01-01T00:00:00Z" in core


def test_failure_mid_export_leaves_no_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setitem(export_module._WRITERS, "xlsx", broken)
    with pytest.raises(OSError, match="disk full"):
        export(_suppressed(), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # no out_dir, no staging folder


def test_failure_while_replacing_an_old_export_clears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "out"
    export(_suppressed(), out)
    (out / "report.html").write_text("<html></html>", encoding="utf-8")
    real_replace = os.replace
    calls = []

    def flaky(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("device gone")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(export_module.os, "replace", flaky)
    with pytest.raises(OSError, match="device gone"):
        export(_suppressed(), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["report.html"]


def test_export_into_existing_folder_keeps_other_files_and_drops_stale_ones(tmp_path: Path):
    out = tmp_path / "out"
    export(_suppressed(), out)
    (out / "report.html").write_text("<html></html>", encoding="utf-8")
    export(_suppressed(), out, formats=("csv",))
    assert sorted(p.name for p in out.iterdir()) == [
        "provenance.json",
        "report.html",
        "results.csv",
    ]


def test_export_rejects_bad_formats_and_file_targets(tmp_path: Path):
    with pytest.raises(UsageError, match="unknown export format"):
        export(_suppressed(), tmp_path / "out", formats=["sav"])
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        export(_suppressed(), target)


_HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "@SUM(A1)", "-2+3", "-cmd", "\tx"]


def _hostile_set() -> ResultSet:
    records = make_records(
        analysis="baseline",
        group=_HOSTILE[0],
        variable="ph_status",
        variable_level=[*_HOSTILE[1:], "-30 to 0", "-1"],
        estimate_name="percentage",
        value=[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0],
    )
    return suppress(ResultSet.create(records, spec={"study": "x"}, cdm_source="duckdb:demo"))


def test_text_a_spreadsheet_would_run_is_escaped_in_csv_and_xlsx(tmp_path: Path):
    # issue 17: a group named =HYPERLINK(...) became a live formula in results.xlsx
    export(_hostile_set(), tmp_path, formats=["csv", "xlsx", "json"])
    table = pd.read_csv(tmp_path / "results.csv", dtype=str, keep_default_na=False)
    assert set(table["group"]) == {"'" + _HOSTILE[0]}
    assert sorted(table["variable_level"]) == sorted(
        ["'+1+1", "'@SUM(A1)", "'-2+3", "'-cmd", "'\tx", "-30 to 0", "-1"]
    )
    sheet = load_workbook(tmp_path / "results.xlsx")["baseline"]
    header = [c.value for c in sheet[1]]
    level = header.index("variable_level") + 1
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row[:8]]
    assert all(c.data_type == "s" for c in cells)
    assert sheet.cell(2, header.index("group") + 1).value == "'" + _HOSTILE[0]
    levels = {sheet.cell(r, level).value for r in range(2, 9)}
    assert levels == {"'+1+1", "'@SUM(A1)", "'-2+3", "'-cmd", "'\tx", "-30 to 0", "-1"}
    # JSON is not opened by a spreadsheet: the text stays as it was
    data = json.loads((tmp_path / "results.json").read_text())
    assert {r["group"] for r in data["records"]} == {_HOSTILE[0]}


def test_escape_formula_leaves_other_values_alone():
    assert export_module.escape_formula("BLIN") == "BLIN"
    assert export_module.escape_formula("-") == "-"
    assert export_module.escape_formula("<5") == "<5"
    assert export_module.escape_formula(None) is None
    assert export_module.escape_formula("=1") == "'=1"
