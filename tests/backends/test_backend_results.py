"""The same study on the same CDM gives the same results on DuckDB, PostgreSQL and Spark.

Two levels, to keep the suite fast:

- one full ``run_study`` (check, cohort, every analysis, suppression, export, report, audit) of
  the claims example study on PostgreSQL as the SELECT-only role; its exported records must
  equal those of the same run on DuckDB;
- the engine-dependent part alone for the EMR example study (labs, disease status, response,
  adverse events): cohort and attrition records and the records of every analysis stage,
  before suppression (so small cells are compared too), on PostgreSQL and on Spark.

Records are compared after sorting; keys and suppression flags exactly, values to a relative
1e-9.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backend_servers import EXAMPLES, PROFILES

from allrwe.analyses.attrition import attrition_records, cohort_records
from allrwe.cli.app import main
from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.check import check_cdm
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import load_spec
from allrwe.study import run_study, stages

KEYS = [
    "analysis",
    "group",
    "strata_name",
    "strata_level",
    "variable",
    "variable_level",
    "estimate_name",
    "estimate_type",
    "margin",
]
CREATED_AT = "2024-01-01T00:00:00+00:00"


#: PySpark drops local sockets without closing them (ResourceWarning on garbage collection)
SPARK_SOCKETS = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _sorted(records: pd.DataFrame) -> pd.DataFrame:
    out = records.copy()
    for column in KEYS:
        out[column] = out[column].fillna("").astype(str)
    return out.sort_values(KEYS, kind="mergesort").reset_index(drop=True)


def engine_records(profile: str, url: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """Records of the engine-dependent part of the profile's example study, unsuppressed.

    Also returns the CDM check report (without what names the source).
    """
    spec = load_spec(EXAMPLES / PROFILES[profile][3], check_vocabulary=False)
    vocab = load_vocabulary(spec.resolved_vocabulary_paths())
    spec = spec.validate_against(vocab)
    # As in run_study, an analysis's warnings (an empty stratum, say) are recorded, not raised.
    with warnings.catch_warnings(record=True), connect(url) as source:
        warnings.simplefilter("always")
        report = check_cdm(source, vocabulary=vocab)
        assert report.ok
        cohort = build_cohort(source, spec, vocab)
        run = stages.RunInputs(source=source, spec=spec, vocab=vocab, cohort=cohort)
        parts = [cohort_records(cohort.frame, run.groups), attrition_records(cohort.attrition)]
        strata = stages.VariableStrata(run)
        patterns = stages.therapy_step(run)
        pathways = stages.pathways_step(run, patterns.output)
        outcomes = stages.outcomes_step(run, patterns.output, strata)
        survival = stages.survival_step(run, outcomes.output, strata)
        steps = [patterns, pathways, outcomes, survival]
        steps += [stages.baseline_step(run), stages.safety_step(run)]
        parts += [step.records for step in steps]
        unavailable = [step.unavailable for step in steps if step.unavailable]
        assert not unavailable, unavailable
    checked = {k: v for k, v in report.to_dict().items() if k not in ("source", "kind")}
    return _sorted(pd.concat(parts, ignore_index=True)), checked


def study_run_records(profile: str, url: str, out: Path) -> pd.DataFrame:
    """Exported (suppressed) records of a full ``run_study`` of the profile's example study."""
    summary = run_study(EXAMPLES / PROFILES[profile][3], url, out, created_at=CREATED_AT)
    assert summary.audit.ok
    return _sorted(pd.read_parquet(out / "results.parquet"))


@pytest.fixture(scope="session")
def duckdb_emr_records(synthetic_cdms: dict[str, str]) -> tuple[pd.DataFrame, dict[str, object]]:
    """The reference for the engine-level comparisons (computed once)."""
    return engine_records("emr", synthetic_cdms["emr"])


def assert_same_records(got: pd.DataFrame, want: pd.DataFrame, backend: str) -> None:
    """Equal keys, suppression flags and values (floats to a relative 1e-9)."""
    assert len(want) > 1000  # a real study, not a stub
    counts = got["analysis"].value_counts().sort_index()
    pd.testing.assert_series_equal(
        counts,
        want["analysis"].value_counts().sort_index(),
        obj=f"records per analysis ({backend})",
    )
    key_diff = (got[KEYS] != want[KEYS]).any(axis=1).to_numpy()
    assert not key_diff.any(), (
        f"{backend}: record keys differ, first:\n{got[key_diff].head().to_string()}\n"
        f"reference:\n{want[key_diff].head().to_string()}"
    )
    a, b = got["value"].to_numpy(float), want["value"].to_numpy(float)
    same = np.isclose(a, b, rtol=1e-9, atol=1e-12) | (np.isnan(a) & np.isnan(b))
    same &= got["suppressed"].to_numpy(bool) == want["suppressed"].to_numpy(bool)
    bad = got.assign(reference=b)[~same]
    assert same.all(), f"{backend}: {len(bad)} values differ, first:\n{bad.head(10).to_string()}"


def _check_json(capsys: pytest.CaptureFixture[str], url: str) -> dict[str, object]:
    code = main(["check", "--cdm", url, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report: dict[str, object] = json.loads(out)
    assert report["ok"] is True
    assert isinstance(report["checks_run"], int)
    assert report["checks_run"] > 50
    # A rule whose query fails on an engine would show as a query_failed finding here.
    return {k: v for k, v in report.items() if k not in ("source", "kind")}


@pytest.mark.postgres
def test_study_run_as_select_only_role_on_postgres_exports_the_duckdb_records(
    tmp_path: Path, pg_cdms: dict[str, str], synthetic_cdms: dict[str, str]
) -> None:
    want = study_run_records("claims", synthetic_cdms["claims"], tmp_path / "duckdb")
    got = study_run_records("claims", pg_cdms["claims"], tmp_path / "postgres")
    assert_same_records(got, want, "PostgreSQL, run_study (claims)")
    provenance = json.loads((tmp_path / "postgres" / "provenance.json").read_text())
    assert provenance["cdm_source"].startswith("postgresql:127.0.0.1:")
    assert "reader-pw" not in (tmp_path / "postgres" / "provenance.json").read_text()


@pytest.mark.postgres
def test_postgres_engine_records_equal_duckdb(
    pg_cdms: dict[str, str], duckdb_emr_records: tuple[pd.DataFrame, dict[str, object]]
) -> None:
    got, checked = engine_records("emr", pg_cdms["emr"])
    assert_same_records(got, duckdb_emr_records[0], "PostgreSQL (emr)")
    assert checked == duckdb_emr_records[1]


@pytest.mark.postgres
def test_allrwe_check_on_postgres_matches_duckdb(
    capsys: pytest.CaptureFixture[str], pg_cdms: dict[str, str], synthetic_cdms: dict[str, str]
) -> None:
    got = _check_json(capsys, pg_cdms["claims"])
    assert got == _check_json(capsys, synthetic_cdms["claims"])


@pytest.mark.spark
@SPARK_SOCKETS
def test_spark_engine_records_and_check_equal_duckdb(
    spark_cdms: dict[str, str], duckdb_emr_records: tuple[pd.DataFrame, dict[str, object]]
) -> None:
    got, checked = engine_records("emr", spark_cdms["emr"])
    assert_same_records(got, duckdb_emr_records[0], "Spark (emr)")
    # a check rule whose query fails on Spark would show here as a query_failed finding
    assert checked == duckdb_emr_records[1]
