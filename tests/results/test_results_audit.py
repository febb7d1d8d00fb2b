"""The output audit: planted small cells and person identifiers are found, clean output passes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from allrwe.errors import UsageError
from allrwe.results import ResultSet, audit_outputs, export, make_records, suppress
from allrwe.results.audit import (
    Finding,
    _csv_rows,
    _line_table,
    is_count_header,
    is_person_identifier,
)
from allrwe.results.audit_rules import scan_columns, table_from_rows

SECRET_ID = 987654321


def _plant(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "table1.csv").write_text(
        "variable,n,mean\nfemale,3,41.5\nmale,12,39.0\nother,0,0.5\n", encoding="utf-8"
    )
    pq.write_table(
        pa.table({"person_id": [SECRET_ID, 11], "count": [1, 7], "rate": [0.5, 1.5]}),
        folder / "persons.parquet",
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "by arm"
    sheet.append(["arm", "subjects", "Year of Birth"])
    sheet.append(["BLIN", 22, 1961])
    sheet.append(["INO", 2, 1958])
    book.save(folder / "sheets.xlsx")
    nested = folder / "nested"
    nested.mkdir()
    (nested / "records.json").write_text(
        json.dumps(
            {
                "summary": [{"group": "BLIN", "n": 4}, {"group": "INO", "n": 30}],
                "patients": [{"person_id": SECRET_ID, "arm": "BLIN"}],
                "results": [
                    {"estimate_name": "count", "estimate_type": "count", "value": 2},
                    {"estimate_name": "count", "estimate_type": "count", "value": 9},
                ],
            }
        ),
        encoding="utf-8",
    )


def _by_file(report_findings: tuple[Finding, ...]) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for f in report_findings:
        out.setdefault(f.file, []).append((f.location, f.rule, f.count))
    return out


def test_audit_finds_planted_cells_and_identifiers(tmp_path: Path):
    _plant(tmp_path)
    report = audit_outputs(tmp_path)
    assert not report.ok
    assert report.files == (
        "nested/records.json",
        "persons.parquet",
        "sheets.xlsx",
        "table1.csv",
    )
    assert _by_file(report.findings) == {
        "nested/records.json": [
            ("$.summary[*].n", "small_cell", 1),
            ("$.patients[*].person_id", "person_identifier", 1),
            ("$.results[*] (estimate_type count)", "small_cell", 1),
        ],
        "persons.parquet": [
            ("column 'person_id'", "person_identifier", 2),
            ("column 'count', rows 1", "small_cell", 1),
        ],
        "sheets.xlsx": [
            ("sheet 'by arm', column 'subjects', rows 3", "small_cell", 1),
            ("sheet 'by arm', column 'Year of Birth'", "person_identifier", 2),
        ],
        "table1.csv": [("column 'n', rows 2", "small_cell", 1)],
    }
    text = json.dumps(report.to_dict())
    assert str(SECRET_ID) not in text  # where, never what


def test_audit_threshold_moves_with_min_cell_count(tmp_path: Path):
    _plant(tmp_path)
    report = audit_outputs(tmp_path / "table1.csv", min_cell_count=13)
    assert report.files == ("table1.csv",)
    assert [(f.location, f.count) for f in report.findings] == [("column 'n', rows 2, 3", 2)]


def test_audit_passes_clean_export(tmp_path: Path):
    records = pd.concat(
        [
            make_records(
                analysis="baseline",
                group="BLIN",
                variable="ph_status",
                variable_level=["negative", "positive", "unknown"],
                estimate_name="count",
                value=[57, 40, 3],
                margin="ph",
            ),
            make_records(
                analysis="attrition",
                variable="step",
                variable_level=["1", "2"],
                estimate_name="count",
                value=[0, 250],
            ),
        ]
    )
    rs = suppress(ResultSet.create(records, spec={"s": 1}, cdm_source="synthetic"))
    export(rs, tmp_path / "out")
    report = audit_outputs(tmp_path / "out")
    assert report.ok
    assert len(report.files) == 5
    assert report.to_dict()["findings"] == []


def test_audit_reads_long_format_from_other_tools_and_html(tmp_path: Path):
    pd.DataFrame(
        {
            "estimate_name": ["count", "percentage", "count"],
            "estimate_type": ["integer", "percentage", "integer"],
            "estimate_value": ["4", "3.5", "120"],
        }
    ).to_csv(tmp_path / "omop_style.csv", index=False)
    (tmp_path / "report.html").write_text(
        "<html><body><script>var n = 3;</script><table>"
        "<tr><th>Characteristic</th><th>n (%)</th><th>Median</th></tr>"
        "<tr><td>Female</td><td>3 (7.5%)</td><td>4</td></tr>"
        "<tr><td>Male</td><td>37 (92.5%)</td><td>2.5</td></tr>"
        "</table></body></html>",
        encoding="utf-8",
    )
    report = audit_outputs(tmp_path)
    assert _by_file(report.findings) == {
        "omop_style.csv": [
            ("column 'estimate_value' (estimate_type count), rows 2", "small_cell", 1)
        ],
        "report.html": [("table 1, column 'n (%)', rows 2", "small_cell", 1)],
    }


def test_audit_reports_unreadable_files(tmp_path: Path):
    (tmp_path / "broken.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "notes.txt").write_text("n = 3", encoding="utf-8")  # not a scanned type
    report = audit_outputs(tmp_path)
    assert report.files == ("broken.parquet",)
    assert [(f.rule, f.count) for f in report.findings] == [("unreadable", 1)]
    assert report.findings[0].location.startswith("could not be read (")


def test_audit_missing_path_and_bad_threshold():
    with pytest.raises(UsageError, match="does not exist"):
        audit_outputs("/nonexistent/allrwe-out")
    with pytest.raises(UsageError, match="at least 1"):
        audit_outputs(".", min_cell_count=0)


@pytest.mark.parametrize(
    ("name", "person", "count"),
    [
        ("person_id", True, False),
        ("Person ID", True, False),
        ("care_site_person_source_value", True, False),
        ("birth_datetime", True, False),
        ("day_of_birth", True, False),
        ("n", False, True),
        ("N (%)", False, True),
        ("n_risk", False, True),
        ("Number at risk", False, True),
        ("freq", False, True),
        ("persons", False, True),
        ("mean", False, False),
        ("min_cell_count", False, False),
        ("suppressed_count_cells", False, False),
    ],
)
def test_name_rules(name: str, person: bool, count: bool):
    assert is_person_identifier(name) is person
    assert is_count_header(name) is count


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_audit_rows_are_file_lines_when_a_cell_spans_lines(tmp_path: Path, newline: str):
    text = newline.join(
        ["analysis,estimate_type,value", "a,count,3", '"b', 'c",count,7', "", "d,count,2", ""]
    )
    (tmp_path / "multi.csv").write_bytes(text.encode("utf-8"))
    (tmp_path / "plain.csv").write_bytes(text.replace('"b' + newline + 'c"', "bc").encode())
    report = audit_outputs(tmp_path)
    # "b\nc" is on lines 3-4 and the blank line 5 is a row of its own.
    assert _by_file(report.findings) == {
        "multi.csv": [("column 'value' (estimate_type count), rows 2, 6", "small_cell", 2)],
        "plain.csv": [("column 'value' (estimate_type count), rows 2, 5", "small_cell", 2)],
    }


def test_scan_columns_reads_mixed_cells_one_by_one():
    nan = float("nan")
    columns = [
        ("n", ["3", None, "12", "2 (10%)", nan]),
        ("count_a", [1.0, None, 2.5, 3.0, 4.0]),  # a fraction: statistics, not counts
        ("persons", [1, True, 7, None, 4]),  # True is no number
        ("person_id", ["1", "", None, " ", "7"]),
        ("estimate_type", ["count", " COUNT ", "integer", None, "numeric"]),
        ("estimate_name", ["x", "x", "n_events", "x", "x"]),
        ("value", ["2", 3.0, "4", "1", "1"]),
    ]
    assert scan_columns(columns, [10, 11, 12, 13, 14], "", 5) == [
        ("column 'n', rows 10, 13", "small_cell", 2),
        ("column 'persons', rows 10, 14", "small_cell", 2),
        ("column 'person_id'", "person_identifier", 2),
        ("column 'value' (estimate_type count), rows 10, 11, 12", "small_cell", 3),
    ]


def test_table_from_rows_pads_short_rows_and_columns_without_cells():
    assert table_from_rows(["a", None, "c"], [["1", "2"], [], ["4", "5", "6", "7"]]) == [
        ("a", ["1", None, "4"]),
        ("", ["2", None, "5"]),
        ("c", [None, None, "6"]),
        ("", [None, None, "7"]),
    ]
    assert table_from_rows(["a", "b"], []) == [("a", []), ("b", [])]


def _by_csv_module(text: str, delimiter: str) -> tuple[list[tuple[str, list[object]]], list[int]]:
    header, rows, lines = _csv_rows(text, delimiter)
    return table_from_rows(header, rows), lines


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_line_by_line_split_equals_the_csv_module_whenever_it_applies(delimiter: str):
    rng = random.Random(20250109)
    pieces = ["a", "bb", "é", " ", delimiter, delimiter, '"', '""', "\n", "\n", "\r\n", "\r"]
    applied = 0
    for _ in range(4000):
        lines = [
            "".join(rng.choices(pieces[:7] if rng.random() < 0.8 else pieces, k=rng.randint(0, 6)))
            for _ in range(rng.randint(1, 5))
        ]
        text = rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n", "\r\n"])
        fast = _line_table(text, delimiter)
        if fast is not None:
            applied += 1
            assert fast == _by_csv_module(text, delimiter), repr(text)
    assert applied > 400


def test_line_by_line_split_reads_quoted_cells_and_crlf():
    text = 'a,b,c\r\n1,"x, y",2\r\n3,"say ""hi""",4\r\n5,6,7'
    assert _line_table(text, ",") == (
        [("a", ["1", "3", "5"]), ("b", ["x, y", 'say "hi"', "6"]), ("c", ["2", "4", "7"])],
        [2, 3, 4],
    )
    # Cells on several lines, blank lines and ragged rows are left to the csv module.
    for text in ('a,b\n"1\n2",3\n', "a,b\n\n1,2\n", "a,b\n1\n", "a\rb\n"):
        assert _line_table(text, ",") is None
