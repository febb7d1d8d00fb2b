"""``allrwe demo``: a small synthetic CDM, the built-in study, report and exports, end to end."""

from __future__ import annotations

from allrwe.cli.app import main
from allrwe.cli.demo import DEMO_INDEX_MIX, demo_params
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


def test_demo_populates_both_compared_groups(tmp_path, capsys):
    # issue 19: the demo compares INO with BLIN, but the emr profile simulated blinatumomab
    # only ("INO: <5") while the report printed a Cox HR against INO.
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--seed", "1"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    text = " ".join(stdout.split())
    sizes = text.split("Cohort (persons per group): ")[1].split(" Output")[0]
    counts = dict(part.split(": ") for part in sizes.split(", "))
    assert set(counts) == {"BLIN", "INO"}
    assert all(v.isdigit() and int(v) >= 5 for v in counts.values()), counts


def test_demo_params_borrow_inotuzumab_for_the_emr_profile():
    emr = demo_params("emr", 300)
    assert emr["population"] == {"all_patients": 300}
    assert emr["patients"]["index_drug_mix"] == DEMO_INDEX_MIX
    assert emr["index_drugs"]["inotuzumab_ozogamicin"]["cycles"] == [
        0.15, 0.30, 0.25, 0.12, 0.08, 0.10,
    ]  # fmt: skip
    assert "index_drugs" not in demo_params("claims", 300)  # claims simulates both drugs
