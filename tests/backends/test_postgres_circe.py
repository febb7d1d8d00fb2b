"""A PhenotypeLibrary Circe cohort as the index cohort of a study on PostgreSQL (allrwe[circe]).

The CDMs are loaded with allrwe's loader into a throw-away server and read as a SELECT-only
role in allrwe's read-only session: the Circe SQL runs in one read-write transaction on session
temporary tables only, and the CDM schema is left as it was.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from backend_servers import ADMIN, ADMIN_PW, PgServer, grant_select_only

from allrwe.cli.app import main
from allrwe.cohort import build_cohort
from allrwe.cohort.external import circe_rows
from allrwe.io import CdmSource, connect
from allrwe.io.load import load_cdm
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import load_spec
from allrwe.synth import generate_cdm
from circe_cdm import DEFINITION, EXPECTED, write_circe_cdm

pytestmark = pytest.mark.postgres

ROLE, ROLE_PW = "allrwe_circe_reader", "circe-pw"

#: the study: BLIN enters at the first PhenotypeLibrary 213 entry in the period; INO by its drug
STUDY = """\
name: circe_index
min_cell_count: 5
index_groups:
  BLIN: [blinatumomab]
  INO: [inotuzumab_ozogamicin]
study_period: {start: 2018-01-01, end: 2023-06-30}
entry:
  cohorts:
    BLIN: {id: 213, circe: phenotype_library_213.json}
inclusion:
  diagnosis: {concept_sets: [all_diagnosis], window: [null, 0]}
report:
  formats: [json]
"""


def _load(server: PgServer, source: Path, database: str) -> str:
    """Load a DuckDB CDM into ``database`` (schema cdm); return the read-only role's URL."""
    with server.admin() as con:
        exists = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone()
        if exists is None:
            con.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE_PW}'")
        con.execute(f"CREATE DATABASE {database}")
    load_cdm(f"duckdb://{source}", server.url(ADMIN, ADMIN_PW, database, schema=None))
    grant_select_only(server, database, ROLE)
    return server.url(ROLE, ROLE_PW, database)


def _cdm_tables(src: CdmSource) -> list[tuple[str, str]]:
    rows = src.backend.raw_sql(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
        "AND table_schema NOT LIKE 'pg_temp%' ORDER BY 1, 2"
    )
    with rows:
        return [tuple(r) for r in rows.fetchall()]


def _temporary_tables(src: CdmSource) -> list[str]:
    rows = src.backend.raw_sql(
        "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'"
    )
    with rows:
        return [r[0] for r in rows.fetchall()]


@pytest.fixture(scope="module")
def five_persons(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("duckcdm")
    path = write_circe_cdm(tmp_path_factory.mktemp("circe5"))
    return _load(pg_server, path, "circe_five")


def test_phenotype_library_213_runs_in_a_read_only_postgres_session(five_persons: str) -> None:
    with connect(five_persons) as src:
        before = _cdm_tables(src)
        rows = src.execute(circe_rows(src, DEFINITION, 213)).sort_values("person_id")
        got = [
            (int(p), pd.Timestamp(s).date(), pd.Timestamp(e).date())
            for p, s, e in rows.itertuples(index=False, name=None)
        ]
        assert got == EXPECTED
        assert _cdm_tables(src) == before  # nothing written outside the session
        # the batch dropped its temporary tables (Ibis keeps the returned rows in one of its own)
        assert [t for t in _temporary_tables(src) if not t.startswith("ibis_")] == []
        # the session is read-only again after the batch's read-write transaction
        with pytest.raises(Exception, match="read-only transaction"):
            src.backend.raw_sql("CREATE TEMP TABLE after_circe (a int)")


@pytest.fixture(scope="module")
def ohdsi_cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic CDM written as an OHDSI ETL would (vocabulary tables included)."""
    pytest.importorskip("duckcdm")
    root = tmp_path_factory.mktemp("circe-ohdsi")
    result = generate_cdm(
        root,
        persons=500,
        seed=5,
        profile="ohdsi",
        params={"population": {"all_patients": 120}},
        fmt="duckdb",
    )
    return Path(result.cdm_url.split("://", 1)[1])


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("circe-study")
    shutil.copy(DEFINITION, folder / "phenotype_library_213.json")
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    return folder / "study.yaml"


@pytest.fixture(scope="module")
def duckdb_cohort(ohdsi_cdm: Path, study: Path) -> pd.DataFrame:
    """The cohort the same spec gives on the DuckDB file (read-only)."""
    spec = load_spec(study, check_vocabulary=False)
    vocab = load_vocabulary(spec.resolved_vocabulary_paths())
    with connect(ohdsi_cdm) as src:
        cohort = build_cohort(src, spec.validate_against(vocab), vocab)
        circe = src.execute(circe_rows(src, DEFINITION, 213))
    frame = cohort.frame.assign(index_date=pd.to_datetime(cohort.frame["index_date"]).dt.date)
    frame.attrs["circe_starts"] = {
        (int(p), pd.Timestamp(d).date())
        for p, d in zip(circe.person_id, circe.start_date, strict=True)
    }
    return frame


def _members(frame: pd.DataFrame) -> list[tuple[str, int, date]]:
    days = pd.to_datetime(frame["index_date"]).dt.date
    return sorted(zip(frame["group"], frame["person_id"].astype(int), days, strict=True))


def test_allrwe_run_on_postgres_enters_the_circe_cohort_as_on_duckdb(
    pg_server: PgServer,
    ohdsi_cdm: Path,
    study: Path,
    duckdb_cohort: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _load(pg_server, ohdsi_cdm, "circe_ohdsi")
    out = tmp_path / "out"
    code = main(["-q", "run", str(study), "--cdm", url, "--out", str(out), "--patient-level"])
    _, err = capsys.readouterr()
    assert code == 0, err
    cohort = pd.read_parquet(out / "patient_level" / "cohort.parquet")
    assert _members(cohort) == _members(duckdb_cohort)
    blin = cohort[cohort["group"] == "BLIN"]
    assert len(blin) >= 30  # ALL patients with neutropenia after a diagnosis in the period
    # every BLIN index date is the start of one of the person's Circe entries
    starts = duckdb_cohort.attrs["circe_starts"]
    days = pd.to_datetime(blin["index_date"]).dt.date
    assert all((int(p), d) in starts for p, d in zip(blin["person_id"], days, strict=True))
    # the first attrition step counts the Circe cohort's persons, as generated on DuckDB
    records = pd.read_csv(out / "results.csv")
    first = records[
        (records["analysis"] == "attrition")
        & (records["group"] == "BLIN")
        & (records["estimate_name"] == "n_persons")
        & records["variable_level"].str.startswith("01 ")
    ]
    assert first["value"].astype(int).tolist() == [len({p for p, _ in starts})]
