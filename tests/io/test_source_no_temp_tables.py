"""The fallback where the engine allows no temporary tables: rows recomputed, same results."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from allrwe.errors import UsageError
from allrwe.io.kept import KeptRows
from allrwe.io.source import connect
from allrwe.study import run_study
from allrwe.synth import generate_cdm

DEMO_SPEC = Path(str(resources.files("allrwe.data") / "studies" / "demo.yaml"))


@pytest.fixture(scope="module")
def cdm_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    result = generate_cdm(
        tmp_path_factory.mktemp("cdm") / "cdm",
        persons=1200,
        seed=11,
        profile="emr",
        fmt="duckdb",
        params={"population": {"all_patients": 150}},
    )
    return result.cdm_url


def _temporary(source) -> set[str]:
    """Names of the DuckDB session's temporary tables."""
    rows = source.backend.raw_sql(
        "select table_name from duckdb_tables() where temporary"
    ).fetchall()
    return {r[0] for r in rows}


def test_kept_rows_are_an_expression_not_a_temporary_table(cdm_url: str) -> None:
    ids = [45892531]  # blinatumomab (the bundled vocabulary)
    columns = ["person_id", "drug_concept_id", "drug_exposure_start_date"]
    with connect(cdm_url) as cached, connect(f"{cdm_url}?temp_tables=false") as plain:
        assert (cached.temporary_tables, plain.temporary_tables) == (True, False)
        with KeptRows(cached) as first, KeptRows(plain) as second:
            kept = first.cache_rows(
                "drug_exposure", match=["drug_concept_id"], ids=ids, columns=columns
            )
            again = second.cache_rows(
                "drug_exposure", match=["drug_concept_id"], ids=ids, columns=columns
            )
            assert kept.rows == again.rows > 0
            assert len(_temporary(cached)) == 1
            assert _temporary(plain) == set()
            assert second.temporary_tables is False
            second.release()  # nothing to drop, and no error


@pytest.mark.slow
def test_a_study_without_temporary_tables_gives_the_same_results(
    cdm_url: str, tmp_path: Path
) -> None:
    stamp = "2026-01-01T00:00:00+00:00"
    run_study(DEMO_SPEC, cdm_url, tmp_path / "cached", created_at=stamp)
    run_study(DEMO_SPEC, f"{cdm_url}?temp_tables=false", tmp_path / "plain", created_at=stamp)
    first = (tmp_path / "cached" / "results.csv").read_bytes()
    assert first.count(b"\n") > 1000
    assert (tmp_path / "plain" / "results.csv").read_bytes() == first


def test_a_bad_flag_is_one_clear_error(cdm_url: str) -> None:
    with pytest.raises(UsageError, match="temp_tables='maybe': use true or false"):
        connect(f"{cdm_url}?temp_tables=maybe")
