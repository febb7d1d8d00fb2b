"""``allrwe audit``: exit codes, table and JSON output, the attacker, non-output folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.results import audit_outputs

HEADER = (
    "analysis,group,strata_name,strata_level,variable,variable_level,estimate_name,"
    "estimate_type,value,suppressed,margin\n"
)


def _results(folder: Path, *rows: str) -> None:
    """Write the results.csv that makes ``folder`` an allrwe output folder."""
    text = HEADER + "".join(f"{row}\n" for row in rows)
    (folder / "results.csv").write_text(text, encoding="utf-8")


def _clean(folder: Path) -> Path:
    folder.mkdir()
    _results(folder, "cohort,BLIN,overall,overall,persons,overall,count,count,88,FALSE,")
    (folder / "table.csv").write_text("arm,n\nBLIN,0\nINO,25\n", encoding="utf-8")
    return folder


def _dirty(folder: Path) -> Path:
    folder.mkdir()
    _results(folder, "cohort,BLIN,overall,overall,persons,overall,count,count,88,FALSE,")
    (folder / "table.csv").write_text(
        "arm,n,person_id\nBLIN,2,4711\nINO,25,4712\n", encoding="utf-8"
    )
    return folder


def test_clean_folder_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["audit", str(_clean(tmp_path / "out"))]) == 0
    out = capsys.readouterr().out
    assert "clean: 2 file(s) scanned" in out
    assert "0 hidden count(s) attacked" in out


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
    attacked = printed.pop("attack")
    assert printed == audit_outputs(folder).to_dict()
    assert attacked["ok"] is True
    assert attacked["leaks"] == []
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


def test_a_folder_that_is_not_an_allrwe_output_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "hosts").write_text("127.0.0.1 localhost\n", encoding="utf-8")
    assert main(["audit", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is not an allrwe output folder" in err
    assert "results.csv" in err


def test_hidden_count_the_attacker_recovers_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "out"
    folder.mkdir()
    step = "attrition,BLIN,overall,overall,step"
    _results(
        folder,
        f"{step},01 index,n_persons,count,366,FALSE,",
        f"{step},02 age,n_excluded,count,,TRUE,",
        f"{step},02 age,n_persons,count,364,FALSE,",
    )
    assert main(["audit", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "attrition/BLIN/overall=overall/step/02 age/n_excluded" in captured.out
    assert "audit recovered 1 hidden count(s) below 5" in captured.err
    assert "n_excluded = 2 (attrition)" in captured.err
