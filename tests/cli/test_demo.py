"""``allrwe demo``: a small synthetic CDM, the built-in study, report and exports, end to end."""

from __future__ import annotations

from allrwe.cli.app import main
from allrwe.results import audit_outputs


def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--persons", "800", "--all-patients", "100",
                 "--seed", "3", "--cdm-out", str(tmp_path / "cdm")])  # fmt: skip
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "Traceback" not in stdout + stderr
    text = " ".join(stdout.split())
    assert "Audit OK" in text
    assert f"Open the report: {out / 'report.html'}" in text
    assert "Cohort (persons per group): BLIN:" in text
    for label in ("Synthetic CDM", "Build the cohort", "Write the report", "Audit the outputs"):
        assert label in stderr
    assert 50_000 < (out / "report.html").stat().st_size < 1_500_000  # figures as inline SVG
    assert (out / "results.csv").is_file()
    assert (out / "figures" / "km-os.svg").is_file()
    assert audit_outputs(out, min_cell_count=5).ok
    assert (tmp_path / "cdm" / "person").is_dir()  # kept where --cdm-out said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdm", "demo"]


def test_demo_refuses_an_unknown_profile(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "d"), "--profile", "registry"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "unknown --profile 'registry'" in err
    assert list(tmp_path.iterdir()) == []


def test_demo_refuses_more_all_patients_than_persons(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "d"), "--persons", "50", "--all-patients", "60"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "--all-patients 60 is more than --persons 50" in " ".join(err.split())
