"""allrwe never changes the CDM it reads: byte-identical sources, a read-only DuckDB connection."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from allrwe.io.source import connect
from corpus.example_runs import cli, example_run, example_source, sha256_tree, source_path

_READ = (
    "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
    "print(con.execute('SELECT count(*) FROM person').fetchone()[0])"
)
_WRITE = (
    "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
    "con.execute('CREATE TABLE intruder AS SELECT 1 AS x')"
)


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_check_leaves_every_source_file_byte_identical(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    url = example_source(tmp_path_factory, kind)
    before = sha256_tree(source_path(url))
    code, _, err = cli("check", "--cdm", url)
    assert (code, err) == (0, "")
    assert sha256_tree(source_path(url)) == before
    assert len(before) == (1 if kind == "duckdb" else 12)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_run_leaves_every_source_file_byte_identical(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    run = example_run(tmp_path_factory, kind)
    assert run.code == 0, run.stderr
    assert run.source_after == run.source_before
    # nothing was written beside the source either (no .wal, no temporary file)
    siblings = {p.name for p in source_path(run.url).parent.iterdir()}
    assert siblings == {source_path(run.url).name}


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder AS SELECT 1 AS x",
        "INSERT INTO person (person_id, gender_concept_id, year_of_birth, race_concept_id, "
        "ethnicity_concept_id) VALUES (99, 0, 1970, 0, 0)",
        "UPDATE person SET year_of_birth = 1900",
        "DELETE FROM person",
        "DROP TABLE person",
    ],
)
def test_duckdb_is_opened_read_only(
    tmp_path_factory: pytest.TempPathFactory, statement: str
) -> None:
    url = example_source(tmp_path_factory, "duckdb")
    before = sha256_tree(source_path(url))
    with connect(url) as cdm:
        with pytest.raises(duckdb.InvalidInputException, match="read-only mode"):
            cdm.backend.raw_sql(statement)
        assert cdm.execute(cdm.table("person").count()) == 20
    assert sha256_tree(source_path(url)) == before


def test_other_readers_may_share_the_file_but_no_writer(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # DuckDB locks the file: several read-only processes at once, a writer only alone.
    path = source_path(example_source(tmp_path_factory, "duckdb"))
    with connect(f"duckdb://{path}"):
        reader = subprocess.run(
            [sys.executable, "-c", _READ, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        writer = subprocess.run(
            [sys.executable, "-c", _WRITE, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    assert (reader.returncode, reader.stdout.strip()) == (0, "20")
    assert writer.returncode != 0
    assert "Could not set lock on file" in writer.stderr


def test_parquet_views_cannot_be_written_through(tmp_path_factory: pytest.TempPathFactory) -> None:
    url = example_source(tmp_path_factory, "parquet")
    before = sha256_tree(source_path(url))
    with connect(url) as cdm:
        with pytest.raises(duckdb.Error):
            cdm.backend.raw_sql("DELETE FROM person")
        with pytest.raises(duckdb.Error):
            cdm.backend.raw_sql("INSERT INTO person (person_id) VALUES (99)")
    assert sha256_tree(source_path(url)) == before


@pytest.mark.slow
def test_no_writer_can_open_the_duckdb_file_until_the_run_ends(
    tmp_path_factory: pytest.TempPathFactory, tmp_path
) -> None:
    # issue 17: the lock was released once the analyses were done, so a writer could change
    # the CDM while the report and the exports were written
    from allrwe.study import run_study
    from corpus.example_runs import SPEC

    url = example_source(tmp_path_factory, "duckdb")
    path = source_path(url)
    tried: dict[str, int] = {}

    def try_to_write(event) -> None:
        if event.status == "start" and event.stage in ("report", "export", "audit"):
            writer = subprocess.run(
                [sys.executable, "-c", _WRITE, str(path)],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            tried[event.stage] = writer.returncode

    before = sha256_tree(path)
    run_study(SPEC, url, tmp_path / "out", progress=try_to_write)
    assert sorted(tried) == ["audit", "export", "report"]
    assert all(code != 0 for code in tried.values()), tried
    assert sha256_tree(path) == before
