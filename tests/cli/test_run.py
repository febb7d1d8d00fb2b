"""``allrwe run``: exit codes and messages of the failure paths (a full run is in test_demo)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from allrwe.cli.app import main

DEMO_SPEC = Path(str(resources.files("allrwe.data") / "studies" / "demo.yaml"))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_help_lists_the_options(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for option in ("--cdm", "--out", "--min-cell-count", "--patient-level"):
        assert option in out


def test_spec_with_an_unknown_field_exits_1_naming_it(tmp_path, capsys):
    spec = tmp_path / "bad.yaml"
    spec.write_text(DEMO_SPEC.read_text(encoding="utf-8") + "\nmin_cel_count: 5\n")
    code, _, err = run(capsys, str(spec), "--cdm", str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 1
    message = " ".join(err.split())
    assert "unknown field 'min_cel_count'" in message
    assert "did you mean 'min_cell_count'?" in message
    assert not (tmp_path / "o").exists()


def test_missing_spec_file_exits_2(tmp_path, capsys):
    # A missing file is a usage error (exit 2), like a missing CDM path.
    code, _, err = run(capsys, str(tmp_path / "none.yaml"), "--cdm", "x", "--out", "o")
    assert code == 2
    assert "does not exist" in err


def test_missing_cdm_exits_2(tmp_path, capsys):
    missing = tmp_path / "nowhere.duckdb"
    code, _, err = run(
        capsys, str(DEMO_SPEC), "--cdm", f"duckdb://{missing}", "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "does not exist" in " ".join(err.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_unknown_url_scheme_exits_2(tmp_path, capsys):
    code, _, err = run(capsys, str(DEMO_SPEC), "--cdm", "mysql://db", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "unknown URL scheme 'mysql'" in err


def test_missing_required_option_exits_2(capsys):
    code, _, err = run(capsys, str(DEMO_SPEC), "--out", "o")
    assert code == 2
    assert "--cdm" in err
