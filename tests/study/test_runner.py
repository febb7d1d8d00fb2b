"""run_study: stages, outputs, audit, person-level tables, determinism and failure paths."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from study_paths import DEMO_SPEC

from allrwe.errors import CdmDataError, UsageError
from allrwe.results import audit_outputs
from allrwe.study import STAGES, run_study
from allrwe.study.output import MARKER, PATIENT_LEVEL_DIR
from mini_cdm import base_cdm

MIN = 5


def _shareable(out: Path) -> list[Path]:
    return [p for p in sorted(out.rglob("*")) if p.is_file() and PATIENT_LEVEL_DIR not in p.parts]


def test_every_stage_starts_and_ends_in_order(demo_run):
    _, events = demo_run
    names = [name for name, _ in STAGES]
    assert [e.stage for e in events if e.status == "start"] == names
    ends = [(e.stage, e.status) for e in events if e.status != "start"]
    assert [s for s, _ in ends] == names
    assert all(status == "done" for _, status in ends)
    assert {(e.index, e.total) for e in events if e.stage == "audit"} == {(14, 14)}


def test_outputs_are_listed_and_present(demo_run):
    summary, _ = demo_run
    out = summary.out_dir
    assert summary.report == out / "report.html"
    for name in ("report.html", "results.csv", "results.parquet", "results.json",
                 "provenance.json", "study.yaml", MARKER, "figures/km-os.png",
                 "figures/km-os.svg", "figures/cycles.svg"):  # fmt: skip
        assert name in summary.files, name
        assert (out / name).is_file()
    assert "results.xlsx" not in summary.files  # demo.yaml asks for html and json only
    assert summary.files == sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
    )
    assert summary.group_sizes["BLIN"].isdigit()
    assert int(summary.group_sizes["BLIN"]) >= MIN
    assert summary.unavailable == {}
    assert summary.suppression["min_cell_count"] == MIN
    assert not list(out.parent.glob(f".{out.name}.*"))  # no staging folder left behind
    # what each set resolved to: the synthetic CDM has no concept table to resolve codes in
    sets = json.loads((out / "provenance.json").read_text(encoding="utf-8"))["concept_sets"]
    assert sets["allo_hsct"]["resolved"] == []
    assert 2108456 in sets["allo_hsct"]["listed"]
    assert {s["present"] for s in sets.values()} == {None}


def test_shareable_outputs_pass_the_audit(demo_run):
    summary, _ = demo_run
    assert summary.audit.ok
    assert "patient_level/cohort.parquet" not in summary.audit.files
    for path in _shareable(summary.out_dir):
        report = audit_outputs(path, min_cell_count=MIN)
        assert report.ok, (path, report.findings)


def test_no_exported_count_is_small_and_no_person_id(demo_run):
    summary, _ = demo_run
    out = summary.out_dir
    with (out / "results.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert "person_id" not in rows[0]
    counts = [float(r["value"]) for r in rows if r["estimate_type"] == "count" and r["value"]]
    assert counts
    assert not [c for c in counts if 1 <= c < MIN]
    assert any(r["suppressed"] == "TRUE" for r in rows)
    table = pq.read_table(out / "results.parquet")
    assert "person_id" not in table.column_names
    for path in _shareable(out):
        if path.suffix in (".csv", ".json", ".html", ".yaml", ".svg"):
            assert "person_id" not in path.read_text(encoding="utf-8"), path


def test_patient_level_tables_hold_persons_and_fail_the_audit(demo_run):
    summary, _ = demo_run
    folder = summary.patient_level
    assert folder == summary.out_dir / PATIENT_LEVEL_DIR
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "README.txt",
        "cohort.parquet",
        "endpoints.parquet",
        "index_treatments.parquet",
        "pathways.parquet",
        "response.parquet",
    ]
    cohort = pq.read_table(folder / "cohort.parquet")
    assert "person_id" in cohort.column_names
    assert cohort.num_rows >= int(summary.group_sizes["BLIN"])
    report = audit_outputs(folder, min_cell_count=MIN)
    assert "person_identifier" in {f.rule for f in report.findings}


def test_two_runs_give_identical_files_with_or_without_the_figure_worker(
    demo_run, emr_cdm, tmp_path, monkeypatch
):
    from allrwe.report.worker import FigureWorker

    summary, _ = demo_run  # drawn by the figure worker; the second run draws them itself
    monkeypatch.setattr(FigureWorker, "start", lambda self: False)
    again = run_study(DEMO_SPEC, emr_cdm, tmp_path / "again", patient_level=True)
    assert again.files == summary.files
    for name in summary.files:
        first, second = (summary.out_dir / name).read_bytes(), (again.out_dir / name).read_bytes()
        if name == "provenance.json":
            a, b = json.loads(first), json.loads(second)
            a.pop("created_at"), b.pop("created_at")
            assert a == b
        elif name == "report.html":
            # the report carries no date of the run (only provenance.json does)
            assert first == second
            assert b"Time of the run</th><td>in provenance.json" in first
        else:
            assert first == second, name


def _spec_text(**changes: object) -> str:
    data = yaml.safe_load(DEMO_SPEC.read_text(encoding="utf-8"))
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)


def test_empty_cohort_writes_its_attrition_and_zero_group_sizes(demo_run, emr_cdm, tmp_path):
    spec = tmp_path / "empty.yaml"
    spec.write_text(_spec_text(study_period={"start": "1990-01-01", "end": "1990-12-31"}))
    summary = run_study(spec, emr_cdm, tmp_path / "out")
    assert summary.group_sizes == dict.fromkeys(summary.group_sizes, "0")
    assert len(summary.group_sizes) == 2
    assert any("is empty" in w for w in summary.warnings)
    assert summary.audit.ok
    with (summary.out_dir / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["analysis"] for r in rows} == {"attrition", "cohort"}
    last = [r for r in rows if r["analysis"] == "attrition" and r["estimate_name"] == "n_persons"]
    assert last[0]["value"] != "0"
    assert last[-1]["value"] == "0"
    assert (summary.out_dir / "summarised_result.csv").is_file()


def test_cdm_with_check_errors_stops_the_run(tmp_cdm, tmp_path):
    cdm = base_cdm()
    del cdm["person"]
    with pytest.raises(CdmDataError, match="fails the check") as info:
        run_study(DEMO_SPEC, tmp_cdm(cdm), tmp_path / "out")
    assert info.value.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_folder_of_other_files_is_refused(emr_cdm, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not written by allrwe run") as info:
        run_study(DEMO_SPEC, emr_cdm, out)
    assert info.value.exit_code == 2
    assert (out / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def _with_defect(url: str, target: Path, table: str, key: str, where: str, change: str) -> str:
    """Copy a Parquet CDM to ``target``; apply ``change`` to the first row of ``where``."""
    import shutil

    import duckdb

    shutil.copytree(url.split("://", 1)[1], target)
    parts = target / table
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE d AS SELECT * FROM read_parquet('{parts}/*.parquet')")
        (row,) = con.execute(f"SELECT min({key}) FROM d WHERE {where}").fetchone()
        assert row is not None
        con.execute(f"UPDATE d SET {change} WHERE {key} = {row}")
        shutil.rmtree(parts)
        parts.mkdir()
        con.execute(f"COPY d TO '{parts}/part-0.parquet' (FORMAT parquet)")
    return f"parquet://{target}"


def _drug_defect(url: str, target: Path, concepts: list[int], *, inside: bool) -> str:
    """One drug_exposure row of (or outside) ``concepts`` ends before it starts."""
    ids = ", ".join(map(str, concepts))
    where = (
        f"drug_concept_id IN ({ids})"
        if inside
        else f"drug_concept_id NOT IN ({ids}) "
        f"AND coalesce(drug_source_concept_id, 0) NOT IN ({ids})"
    )
    change = "drug_exposure_end_date = drug_exposure_start_date - 5"
    return _with_defect(url, target, "drug_exposure", "drug_exposure_id", where, change)


def test_run_checks_the_records_it_reads(emr_cdm, tmp_path):
    from allrwe.io import connect
    from allrwe.io.check import check_cdm
    from allrwe.io.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    every = sorted({i for cs in vocab.sets.values() for i in cs.concept_ids})
    inside = _drug_defect(emr_cdm, tmp_path / "in", vocab.concept_ids("blinatumomab"), inside=True)
    with pytest.raises(CdmDataError, match=r"1 drug_exposure rows end .* before they start"):
        run_study(DEMO_SPEC, inside, tmp_path / "out-in")
    assert not (tmp_path / "out-in").exists()
    # A row no concept set of the study names is never read by the run, so it does not stop
    # it; allrwe check, which reads every row, still reports it.
    outside = _drug_defect(emr_cdm, tmp_path / "out", every, inside=False)
    summary = run_study(DEMO_SPEC, outside, tmp_path / "out-out")
    assert summary.audit.ok
    with connect(outside) as cdm:
        report = check_cdm(cdm)
    assert [(f.table, f.rows) for f in report.find("end_before_start")] == [("drug_exposure", 1)]


def test_run_checks_the_persons_it_reads(emr_cdm, tmp_path):
    """person is checked on the persons with a record of the study's concept sets."""
    import duckdb

    from allrwe.io.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    every = ", ".join(str(i) for cs in vocab.sets.values() for i in cs.concept_ids)
    folder = emr_cdm.split("://", 1)[1]
    with duckdb.connect() as con:
        read = con.execute(
            f"SELECT min(person_id) FROM read_parquet('{folder}/drug_exposure/*.parquet') "
            f"WHERE drug_concept_id IN ({every})"
        ).fetchone()
    assert read is not None
    assert read[0] is not None
    no_gender = "gender_concept_id = NULL"
    inside = _with_defect(
        emr_cdm, tmp_path / "in", "person", "person_id", f"person_id = {read[0]}", no_gender
    )
    with pytest.raises(CdmDataError, match="1 person rows have no gender_concept_id"):
        run_study(DEMO_SPEC, inside, tmp_path / "out-in")
    # a person without any event record at all, so none the study reads
    events = ("drug_exposure", "condition_occurrence", "procedure_occurrence", "measurement")
    events += ("observation",)
    unread = " AND ".join(
        f"person_id NOT IN (SELECT person_id FROM read_parquet('{folder}/{t}/*.parquet'))"
        for t in events
    )
    outside = _with_defect(emr_cdm, tmp_path / "out", "person", "person_id", unread, no_gender)
    assert run_study(DEMO_SPEC, outside, tmp_path / "out-out").audit.ok


def test_outcomes_split_by_ph_status_as_recorded(emr_ino_cdm, tmp_path):
    """``strata: [ph_status]`` splits response and survival by the patients' Ph status."""
    from study_paths import EXAMPLES

    from allrwe.spec import SuppressionSpec, load_spec

    out = tmp_path / "out"
    spec = load_spec(EXAMPLES / "seed003_inotuzumab_outcomes.yaml")
    opted_out = spec.model_copy(update={"suppression": SuppressionSpec(policy="none")})
    run_study(opted_out, emr_ino_cdm, out, patient_level=True)
    truth = pq.read_table(Path(emr_ino_cdm.split("://", 1)[1]) / "truth" / "truth_patients")
    status = dict(
        zip(
            truth.column("person_id").to_pylist(),
            truth.column("ph_status").to_pylist(),
            strict=True,
        )
    )
    cohort = pq.read_table(out / "patient_level" / "cohort.parquet").to_pylist()
    want: dict[tuple[str, str], int] = {}
    for row in cohort:
        level = {"positive": "Ph+", "negative": "Ph-"}[status[row["person_id"]]]
        want[(row["group"], level)] = want.get((row["group"], level), 0) + 1
    with (out / "results.csv").open(encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    got = {
        (r["group"], r["strata_level"]): int(r["value"])
        for r in records
        if (r["analysis"], r["strata_name"], r["variable"], r["estimate_name"])
        == ("survival_summary", "ph_status", "os", "n")
    }
    assert got == want
    assert sum(want.values()) == len(cohort)
    rates = {
        r["strata_level"]
        for r in records
        if r["analysis"] == "response" and r["strata_name"] == "ph_status"
    }
    assert rates == {"Ph+", "Ph-"}


def test_threshold_on_the_command_line_or_in_the_spec_gives_identical_files(emr_cdm, tmp_path):
    """``--min-cell-count 7`` is resolved into the spec the run reads: no second threshold."""
    stamp = "2026-01-01T00:00:00+00:00"
    given = run_study(DEMO_SPEC, emr_cdm, tmp_path / "given", min_cell_count=7, created_at=stamp)
    spec_path = tmp_path / "seven.yaml"
    spec_path.write_text(_spec_text(min_cell_count=7), encoding="utf-8")
    written = run_study(spec_path, emr_cdm, tmp_path / "written", created_at=stamp)
    assert given.suppression["min_cell_count"] == written.suppression["min_cell_count"] == 7
    assert given.files == written.files
    for name in given.files:
        first = (given.out_dir / name).read_bytes()
        assert first == (written.out_dir / name).read_bytes(), name
    study = yaml.safe_load((given.out_dir / "study.yaml").read_text(encoding="utf-8"))
    assert study["min_cell_count"] == 7


@pytest.mark.parametrize("bad", [1, 0, -3])
def test_threshold_below_two_on_the_command_line_is_refused(emr_cdm, tmp_path, bad):
    from allrwe.errors import StudySpecError

    with pytest.raises(StudySpecError, match=r"--min-cell-count: .*greater than or equal to 2"):
        run_study(DEMO_SPEC, emr_cdm, tmp_path / "out", min_cell_count=bad)
    assert not (tmp_path / "out").exists()
