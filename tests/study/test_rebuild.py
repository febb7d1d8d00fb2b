"""``allrwe report OUT_DIR``: the report of a run, drawn again from its output folder alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.errors import UsageError
from allrwe.study import RunSummary, StageEvent
from allrwe.study.rebuild import REBUILT_FILE, read_output, rebuild_report


def test_cli_rebuilds_the_report_byte_for_byte(
    demo_run: tuple[RunSummary, list[StageEvent]], tmp_path: Path
):
    summary, _ = demo_run
    target = tmp_path / "x.html"
    assert main(["report", str(summary.out_dir), "--out", str(target)]) == 0
    assert target.read_bytes() == summary.report.read_bytes()


def test_provenance_carries_the_header_and_the_settings(
    demo_run: tuple[RunSummary, list[StageEvent]],
):
    summary, _ = demo_run
    prov = json.loads((summary.out_dir / "provenance.json").read_text(encoding="utf-8"))
    # the synthetic CDM's cdm_source row, as the report's title block shows it
    assert prov["cdm"]["cdm_source_name"] == "allrwe synthetic CDM (emr)"
    assert prov["cdm"]["cdm_version"] == "5.4"
    assert prov["cdm"]["source_release_date"] == "2024-06-30"
    assert prov["cdm"]["description"] == prov["cdm_source"]
    pathways = prov["settings"]["pathways"]
    assert pathways["filter"] == "first"
    assert pathways["exit_names"] == ["hsct"]
    html = summary.report.read_text(encoding="utf-8")
    assert "allrwe synthetic CDM (emr)" in html
    assert f"at most {pathways['max_path_length']} steps" in html
    assert prov["suppression"]["min_cell_count"] == 5


def test_read_output_gives_the_published_records(
    demo_run: tuple[RunSummary, list[StageEvent]],
):
    summary, _ = demo_run
    results, spec = read_output(summary.out_dir)
    assert len(results) == summary.n_records
    assert results.provenance.spec_hash == summary.spec_hash
    assert spec.name == "allrwe_demo"


def test_default_target_is_a_new_file_in_the_folder(
    demo_run: tuple[RunSummary, list[StageEvent]], tmp_path: Path
):
    folder = shutil.copytree(demo_run[0].out_dir, tmp_path / "out")
    written = rebuild_report(folder)
    assert written == folder / REBUILT_FILE
    assert written.read_bytes() == (folder / "report.html").read_bytes()
    # a second rebuild replaces the first: allrwe wrote it
    assert rebuild_report(folder) == written


def test_refuses_a_spec_that_is_not_the_runs(
    demo_run: tuple[RunSummary, list[StageEvent]], tmp_path: Path
):
    folder = shutil.copytree(demo_run[0].out_dir, tmp_path / "out")
    spec = folder / "study.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("min_cell_count: 5", "min_cell_count: 6"), encoding="utf-8")
    with pytest.raises(UsageError, match=r"study.yaml is not the spec of this run"):
        read_output(folder)


def test_parquet_is_the_source_and_csv_the_fallback(
    demo_run: tuple[RunSummary, list[StageEvent]], tmp_path: Path
):
    folder = shutil.copytree(demo_run[0].out_dir, tmp_path / "out")
    expected = (folder / "report.html").read_bytes()
    (folder / "results.csv").unlink()
    assert rebuild_report(folder, tmp_path / "a.html").read_bytes() == expected
    shutil.copy(demo_run[0].out_dir / "results.csv", folder / "results.csv")
    (folder / "results.parquet").unlink()
    assert rebuild_report(folder, tmp_path / "b.html").read_bytes() == expected


def test_an_unreadable_parquet_file_is_one_usage_error(
    demo_run: tuple[RunSummary, list[StageEvent]], tmp_path: Path
):
    folder = shutil.copytree(demo_run[0].out_dir, tmp_path / "out")
    (folder / "results.parquet").write_bytes(b"not parquet")
    with pytest.raises(UsageError, match=r"results.parquet cannot be read"):
        read_output(folder)
