"""``allrwe report``: folders that are not an allrwe output and targets it must not replace."""

from __future__ import annotations

from pathlib import Path

import pytest

from allrwe.cli.app import main


def test_a_folder_without_the_run_files_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "results.csv").write_text("analysis\n", encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0  # one line, no traceback
    assert "is not the output folder of allrwe run" in err
    assert "provenance.json" in err
    assert "study.yaml" in err
    assert not (tmp_path / "report-rebuilt.html").exists()


def test_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_file_allrwe_did_not_write_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    mine = tmp_path / "notes.html"
    mine.write_text("<html><head><title>my notes</title></head></html>\n", encoding="utf-8")
    assert main(["report", str(tmp_path), "--out", str(mine)]) == 2
    assert "exists and is not an allrwe report" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8").startswith("<html><head><title>my notes")


def test_a_bad_provenance_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    for name, text in ((".allrwe-output", "x\n"), ("study.yaml", "name: x\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "provenance.json").write_text('{"spec_hash": "ab"}', encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "provenance.json cannot be read" in err
    assert "cdm_source" in err
