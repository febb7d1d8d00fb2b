"""``allrwe synth``: ``--out`` names what it writes."""

from __future__ import annotations

import json
from pathlib import Path

from allrwe.cli.app import main
from allrwe.cli.synth import truth_folder
from allrwe.io import connect

ARGS = ["synth", "--persons", "300", "--all-patients", "7", "--profile", "emr", "--json"]


def _synth(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main([*ARGS, *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_duckdb_out_ending_in_duckdb_is_the_file_itself(tmp_path: Path, capsys) -> None:
    db = tmp_path / "sites" / "cdm.duckdb"
    code, result, err = _synth(capsys, "--out", str(db), "--format", "duckdb")
    assert code == 0, err
    assert db.is_file()
    assert sorted(p.name for p in db.parent.iterdir()) == ["cdm-truth", "cdm.duckdb"]
    truth = truth_folder(db)
    assert (truth / "synth.json").is_file()
    assert (truth / "params.yaml").is_file()
    assert result["out"] == str(db)
    with connect(result["cdm_url"]) as cdm:
        assert cdm.execute(cdm.table("person").count()) == 300


def test_duckdb_file_is_replaced_only_with_overwrite(tmp_path: Path, capsys) -> None:
    db = tmp_path / "cdm.duckdb"
    assert _synth(capsys, "--out", str(db), "--format", "duckdb")[0] == 0
    code, _, err = _synth(capsys, "--out", str(db), "--format", "duckdb", "--seed", "2")
    assert code == 2
    assert "--overwrite" in err
    code, result, _ = _synth(
        capsys, "--out", str(db), "--format", "duckdb", "--seed", "2", "--overwrite"
    )
    assert code == 0
    assert result["seed"] == 2


def test_a_foreign_duckdb_file_is_never_overwritten(tmp_path: Path, capsys) -> None:
    db = tmp_path / "mine.duckdb"
    db.write_bytes(b"precious")
    code, _, err = _synth(capsys, "--out", str(db), "--format", "duckdb", "--overwrite")
    assert code == 2
    assert "not written by allrwe synth" in err
    assert db.read_bytes() == b"precious"


def test_duckdb_out_naming_a_folder_keeps_the_folder_layout(tmp_path: Path, capsys) -> None:
    code, result, _ = _synth(capsys, "--out", str(tmp_path / "cdm"), "--format", "duckdb")
    assert code == 0
    assert (tmp_path / "cdm" / "cdm.duckdb").is_file()
    assert result["cdm_url"].endswith(f"{tmp_path}/cdm/cdm.duckdb")
