"""``allrwe audit``: exit codes, table and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.results import audit_outputs


def _clean(folder: Path) -> Path:
    folder.mkdir()
    (folder / "table.csv").write_text("arm,n\nBLIN,0\nINO,25\n", encoding="utf-8")
    return folder


def _dirty(folder: Path) -> Path:
    folder.mkdir()
    (folder / "table.csv").write_text(
        "arm,n,person_id\nBLIN,2,4711\nINO,25,4712\n", encoding="utf-8"
    )
    return folder


def test_clean_folder_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["audit", str(_clean(tmp_path / "out"))]) == 0
    assert "clean: 1 file(s) scanned" in capsys.readouterr().out


def test_findings_exit_1_with_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = _dirty(tmp_path / "out")
    assert main(["audit", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "column 'n', rows 2" in captured.out
    assert "person_identifier" in captured.out
    assert "4711" not in captured.out + captured.err
    assert "audit found 2 finding(s) in 1 file(s)" in captured.err


def test_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["audit", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_json_output_is_the_library_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = _dirty(tmp_path / "out")
    assert main(["audit", str(folder), "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == audit_outputs(folder).to_dict()
    assert [(f["rule"], f["count"]) for f in printed["findings"]] == [
        ("small_cell", 1),
        ("person_identifier", 2),
    ]


def test_min_cell_count_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = _clean(tmp_path / "out")
    assert main(["audit", str(folder), "--min-cell-count", "30", "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["min_cell_count"] == 30
    assert [f["location"] for f in printed["findings"]] == ["column 'n', rows 3"]
    assert main(["audit", str(folder), "--min-cell-count", "0"]) == 2
