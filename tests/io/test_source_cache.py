"""``KeptRows``: rows kept in the engine, released, and the DuckDB settings."""

from __future__ import annotations

import gc
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest

from allrwe.errors import UsageError
from allrwe.io.backends.duckdb import DUCKDB_MEMORY_LIMIT, _scratch
from allrwe.io.example import example_cdm_path, example_tables
from allrwe.io.kept import KeptRows
from allrwe.io.source import connect

ENV = "ALLRWE_DUCKDB_MEMORY_LIMIT"
BLIN, INO, CYCLO = 45892531, 794068, 1310317
ALL_B, ICD_C91 = 4082461, 1567681  # a standard concept, and a source concept of other rows
COND_COLUMNS = ["condition_occurrence_id", "person_id", "condition_concept_id"]
COND_MATCH = ["condition_concept_id", "condition_source_concept_id"]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in example_tables().items()}


@pytest.fixture(scope="module", params=["duckdb", "parquet"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return example_cdm_path(request.param, tmp_path_factory.mktemp(f"cache_{request.param}"))


@pytest.fixture
def src(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeptRows]:
    monkeypatch.delenv(ENV, raising=False)
    with connect(url) as source, KeptRows(source) as kept:
        yield kept


def _sha256(url: str) -> str:
    path = Path(url.removeprefix("duckdb://"))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kept_ids(source: KeptRows, name: str, id_col: str) -> list[int]:
    kept = source.cached_rows(name)
    assert kept is not None
    return sorted(int(i) for i in source.execute(kept.table)[id_col])


def test_cache_rows_keeps_exactly_the_matching_rows(
    src: KeptRows, frames: dict[str, pd.DataFrame]
) -> None:
    drug = frames["drug_exposure"]
    kept = src.cache_rows(
        "drug_exposure",
        match=["drug_concept_id"],
        ids={BLIN, INO},
        columns=["drug_exposure_id", "person_id", "drug_concept_id", "quantity"],
    )
    want = drug[drug["drug_concept_id"].isin([BLIN, INO])]
    assert kept.rows == len(want) == 72 + 21
    assert kept.columns == ("drug_concept_id",)
    assert kept.ids == frozenset({BLIN, INO})
    assert kept.table.columns == ("drug_exposure_id", "person_id", "drug_concept_id", "quantity")
    got = src.execute(kept.table).sort_values("drug_exposure_id").reset_index(drop=True)
    assert got["drug_exposure_id"].tolist() == sorted(want["drug_exposure_id"].tolist())
    expected = want.sort_values("drug_exposure_id").reset_index(drop=True)
    for column in ("person_id", "drug_concept_id", "quantity"):
        assert got[column].tolist() == expected[column].tolist(), column
    assert src.cached_rows("DRUG_EXPOSURE") is kept  # names are case-insensitive


def test_cache_rows_matches_any_of_several_columns(
    src: KeptRows, frames: dict[str, pd.DataFrame]
) -> None:
    cond = frames["condition_occurrence"]
    kept = src.cache_rows(
        "condition_occurrence",
        match=COND_MATCH,
        ids=[ALL_B, ICD_C91],
        columns=[*COND_COLUMNS, "condition_source_concept_id"],
    )
    hit = cond["condition_concept_id"].isin([ALL_B, ICD_C91]) | cond[
        "condition_source_concept_id"
    ].isin([ALL_B, ICD_C91])
    want = sorted(cond.loc[hit, "condition_occurrence_id"].tolist())
    # seven rows of the standard concept, two more only through their source concept
    assert len(want) == 9
    assert kept.rows == 9
    assert _kept_ids(src, "condition_occurrence", "condition_occurrence_id") == want
    by_source = hit & (cond["condition_concept_id"] != ALL_B)
    assert set(cond.loc[by_source, "condition_source_concept_id"]) == {ICD_C91}


@pytest.mark.parametrize(
    "ids", [[ALL_B], [ICD_C91], [ALL_B, ICD_C91], [BLIN]], ids=["std", "src", "both", "none"]
)
def test_cache_rows_by_several_columns_keeps_the_rows_of_their_or(
    src: KeptRows, frames: dict[str, pd.DataFrame], ids: list[int]
) -> None:
    # DuckDB scans only the columns that hold an id; the rows are those of the OR of all
    cond = frames["condition_occurrence"]
    kept = src.cache_rows("condition_occurrence", match=COND_MATCH, ids=ids, columns=COND_COLUMNS)
    hit = cond["condition_concept_id"].isin(ids) | cond["condition_source_concept_id"].isin(ids)
    assert kept.rows == int(hit.sum())
    assert kept.columns == tuple(COND_MATCH)
    want = sorted(cond.loc[hit, "condition_occurrence_id"].tolist())
    assert _kept_ids(src, "condition_occurrence", "condition_occurrence_id") == want


def test_columns_with_ids_leaves_out_later_columns_without_an_id(src: KeptRows) -> None:
    table = src.table("condition_occurrence")
    searched = src._columns_with_ids(table, COND_MATCH, [ALL_B])
    assert searched == ["condition_concept_id"]  # no source concept is ALL_B
    assert src._columns_with_ids(table, COND_MATCH, [ICD_C91]) == COND_MATCH
    assert src._columns_with_ids(table, COND_MATCH[::-1], [BLIN]) == COND_MATCH[::-1][:1]
    assert src._columns_with_ids(table, COND_MATCH[:1], [ICD_C91]) == COND_MATCH[:1]


def test_covers(src: KeptRows) -> None:
    kept = src.cache_rows(
        "drug_exposure", match=["drug_concept_id"], ids=[BLIN, INO], columns=["drug_concept_id"]
    )
    assert kept.covers([BLIN])
    assert kept.covers({BLIN, INO})
    assert kept.covers([])
    assert not kept.covers([BLIN, CYCLO])
    assert not kept.covers([CYCLO])


def test_cache_rows_needs_ids(src: KeptRows) -> None:
    with pytest.raises(ValueError, match="at least one id"):
        src.cache_rows("drug_exposure", match=["drug_concept_id"], ids=[], columns=["person_id"])
    assert src.cached_rows("drug_exposure") is None


def test_cached_rows_before_and_after_release(src: KeptRows) -> None:
    assert src.cached_rows("drug_exposure") is None
    src.cache_rows(
        "drug_exposure",
        match=["drug_concept_id"],
        ids=[BLIN],
        columns=["drug_exposure_id", "drug_concept_id"],
    )
    src.cache_rows("condition_occurrence", match=COND_MATCH, ids=[ALL_B], columns=COND_COLUMNS)
    assert src.cached_rows("drug_exposure") is not None
    src.release("drug_exposure")
    assert src.cached_rows("drug_exposure") is None
    assert src.cached_rows("condition_occurrence") is not None  # the other table is kept
    src.release("drug_exposure")  # releasing twice is harmless
    src.release()
    assert src.cached_rows("condition_occurrence") is None
    # the source still reads the tables themselves
    assert src.execute(src.table("drug_exposure").count()) == 292


def test_release_drops_the_temporary_table(src: KeptRows) -> None:
    def cached_tables() -> set[str]:
        return {t for t in src.backend.list_tables() if t.startswith("ibis_cached")}

    before = cached_tables()
    src.cache_rows("drug_exposure", match=["drug_concept_id"], ids=[BLIN], columns=["person_id"])
    made = cached_tables() - before
    assert len(made) == 1
    src.release()
    assert cached_tables() == before


def test_recaching_replaces_the_entry(src: KeptRows, frames: dict[str, pd.DataFrame]) -> None:
    drug = frames["drug_exposure"]
    first = src.cache_rows(
        "drug_exposure",
        match=["drug_concept_id"],
        ids=[BLIN],
        columns=["drug_exposure_id", "drug_concept_id"],
    )
    second = src.cache_rows(
        "drug_exposure",
        match=["drug_concept_id"],
        ids=[INO, CYCLO],
        columns=["drug_exposure_id", "drug_concept_id"],
    )
    assert first.rows == 72
    assert second.rows == 21 + 65
    assert src.cached_rows("drug_exposure") is second
    assert second.ids == frozenset({INO, CYCLO})
    want = sorted(drug.loc[drug["drug_concept_id"].isin([INO, CYCLO]), "drug_exposure_id"])
    assert _kept_ids(src, "drug_exposure", "drug_exposure_id") == want
    assert not second.covers([BLIN])
    tables = [t for t in src.backend.list_tables() if t.startswith("ibis_cached")]
    assert len(tables) == 1  # the first temporary table was dropped


def test_spill_folder_is_one_per_process(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with connect(url) as one, connect(url) as two, KeptRows(one) as first, KeptRows(two) as second:
        # Two connections to one DuckDB file at once: DuckDB accepts the second only when its
        # configuration equals the first's, so the spill folder is the same for both.
        folders = {
            s.backend.raw_sql("select current_setting('temp_directory')").fetchone()
            for s in (first, second)
        }
        assert folders == {(str(_scratch()),)}
        assert _scratch().is_dir()
        kept = first.cache_rows(
            "drug_exposure", match=["drug_concept_id"], ids=[BLIN], columns=["drug_exposure_id"]
        )
        assert kept.rows == 72
        assert second.cached_rows("drug_exposure") is None  # kept rows belong to their object
    assert first.cached_rows("drug_exposure") is None  # released on exit
    # the cached expression outlives the connection; collecting it must not try to drop anything
    del kept
    gc.collect()


def test_context_manager_closes_after_caching(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with connect(url) as connection, KeptRows(connection) as source:
        source.cache_rows(
            "drug_exposure", match=["drug_concept_id"], ids=[BLIN], columns=["person_id"]
        )
        source.cache_rows(
            "condition_occurrence", match=COND_MATCH, ids=[ALL_B], columns=COND_COLUMNS
        )
    assert source.cached_rows("drug_exposure") is None
    assert source.cached_rows("condition_occurrence") is None
    del source
    gc.collect()


def test_source_files_stay_unmodified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    url = example_cdm_path("duckdb", tmp_path)
    before = _sha256(url)
    siblings = sorted(p.name for p in tmp_path.iterdir())
    with connect(url) as connection, KeptRows(connection) as source:
        source.cache_rows(
            "drug_exposure",
            match=["drug_concept_id"],
            ids=[BLIN, INO],
            columns=["drug_exposure_id", "drug_concept_id"],
        )
        kept = source.cached_rows("drug_exposure")
        assert kept is not None
        assert source.execute(kept.table.count()) == 93
        assert "ibis_cached" not in " ".join(source.tables)
    assert _sha256(url) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings  # no .wal beside it
    # a fresh read-only connection sees no leftover table
    con = duckdb.connect(url.removeprefix("duckdb://"), read_only=True)
    try:
        names = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
    finally:
        con.close()
    assert not any(n.startswith("ibis_cached") for n in names)
    assert "drug_exposure" in names


def _memory_limit(source: KeptRows) -> str:
    row = source.backend.raw_sql("select current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def _duckdb_reports(limit: str) -> str:
    """What DuckDB reports for a memory limit set directly."""
    con = duckdb.connect(config={"memory_limit": limit})
    try:
        row = con.execute("select current_setting('memory_limit')").fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


def test_default_memory_limit(src: KeptRows) -> None:
    assert DUCKDB_MEMORY_LIMIT == "3GB"
    assert _memory_limit(src) == _duckdb_reports("3GB") == "2.7 GiB"


def test_no_cache_of_file_contents(src: KeptRows) -> None:
    """Files are read once per run: DuckDB keeps none of their contents after a scan."""
    assert src.execute(src.table("drug_exposure").drug_concept_id.sum()) > 0
    setting = src.backend.raw_sql("select current_setting('enable_external_file_cache')")
    assert setting.fetchone() == (False,)
    held = src.backend.raw_sql(
        "select memory_usage_bytes from duckdb_memory() where tag = 'EXTERNAL_FILE_CACHE'"
    ).fetchone()
    assert held == (0,)


@pytest.mark.parametrize(("limit", "shown"), [("512MB", "488.2 MiB"), (" 1.5GiB ", "1.5 GiB")])
def test_memory_limit_from_the_environment(
    url: str, monkeypatch: pytest.MonkeyPatch, limit: str, shown: str
) -> None:
    monkeypatch.setenv(ENV, limit)
    with connect(url) as source:
        assert _memory_limit(source) == _duckdb_reports(limit.strip()) == shown


def test_blank_environment_value_means_the_default(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "  ")
    with connect(url) as source:
        assert _memory_limit(source) == _duckdb_reports(DUCKDB_MEMORY_LIMIT)


@pytest.mark.parametrize("limit", ["lots", "3", "3 PB", "-1GB", "GB"])
def test_malformed_memory_limit_is_a_usage_error(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, limit: str
) -> None:
    monkeypatch.setenv(ENV, limit)
    with pytest.raises(UsageError, match=ENV) as info:
        connect(url)
    assert repr(limit) in str(info.value)


def test_unwritable_temporary_folder_is_a_usage_error(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from allrwe.io.backends import duckdb as duckdb_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    monkeypatch.setattr(duckdb_module, "_scratch", duckdb_module._scratch.__wrapped__)
    with pytest.raises(UsageError, match="set TMPDIR to a writable folder") as info:
        connect(url)
    assert str(tmp_path / "missing") in str(info.value)
    assert info.value.exit_code == 2


def test_each_table_is_looked_up_once(src: KeptRows, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine is asked for a table's schema once a session, whatever the spelling."""
    asked: list[str] = []
    lookup = src.backend.table

    def counted(name: str, **kwargs: object) -> object:
        asked.append(name)
        return lookup(name, **kwargs)

    monkeypatch.setattr(src.backend, "table", counted)
    first = src.table("drug_exposure")
    assert src.table("DRUG_EXPOSURE") is first
    assert src.table("person") is not first
    assert asked == ["drug_exposure", "person"]
    assert "drug_concept_id" in first.columns


def _blin_persons(src: KeptRows) -> ibis.Table:
    kept = src.cache_rows(
        "drug_exposure", match=["drug_concept_id"], ids=[BLIN], columns=["person_id"]
    )
    return kept.table


def test_rows_for_persons_reads_kept_rows_when_they_cover_the_persons(
    src: KeptRows, frames: dict[str, pd.DataFrame]
) -> None:
    blin = _blin_persons(src)
    kept = src.cache_persons_rows("observation_period", blin)
    assert kept.persons is not None
    ids = sorted(frames["drug_exposure"].query("drug_concept_id == @BLIN")["person_id"].unique())
    assert sorted(src.execute(kept.persons)["person_id"]) == ids
    some = ibis.memtable({"person_id": ids[:3]})
    rows = src.rows_for_persons("observation_period", some)
    assert rows is kept.table
    got = src.execute(rows.semi_join(some, "person_id").select("person_id"))["person_id"]
    op = frames["observation_period"]
    assert sorted(got) == sorted(op[op["person_id"].isin(ids[:3])]["person_id"])


def test_rows_for_persons_reads_the_table_for_anyone_else(
    src: KeptRows, frames: dict[str, pd.DataFrame]
) -> None:
    blin = _blin_persons(src)
    kept = src.cache_persons_rows("person", blin)
    ids = set(src.execute(blin)["person_id"])
    other = next(int(p) for p in frames["person"]["person_id"] if int(p) not in ids)
    mixed = ibis.memtable({"person_id": [min(ids), other]})
    full = src.rows_for_persons("person", mixed)
    assert full is not kept.table
    assert full is src.table("person")
    assert "person_source_value" in full.columns  # the table itself, text columns included
    # nothing kept for death: the table itself
    assert src.rows_for_persons("death", ibis.memtable({"person_id": [min(ids)]})) is src.table(
        "death"
    )


def test_persons_are_kept_once_and_released(src: KeptRows) -> None:
    def cached_tables() -> set[str]:
        return {t for t in src.backend.list_tables() if t.startswith("ibis_cached")}

    before = cached_tables()
    blin = _blin_persons(src)
    first = src.cache_persons_rows("person", blin)
    second = src.cache_persons_rows("observation_period", blin)
    assert first.persons is second.persons  # one person set for both tables
    assert len(cached_tables() - before) == 4  # drug rows, persons, person rows, periods
    src.release()
    assert cached_tables() == before


def test_kept_persons_rows_are_those_of_every_person_with_a_kept_row(
    src: KeptRows, frames: dict[str, pd.DataFrame]
) -> None:
    assert src.cache_kept_persons_rows() == []  # no row kept: nothing to keep by person
    assert src.cached_rows("person") is None
    src.cache_rows("drug_exposure", match=["drug_concept_id"], ids=[BLIN], columns=["person_id"])
    src.cache_rows(
        "condition_occurrence", match=COND_MATCH, ids=[ALL_B, ICD_C91], columns=["person_id"]
    )
    assert src.cache_kept_persons_rows() == ["person", "observation_period", "death"]
    drug, cond = frames["drug_exposure"], frames["condition_occurrence"]
    anyone = set(drug.loc[drug["drug_concept_id"] == BLIN, "person_id"]) | set(
        cond.loc[cond[COND_MATCH].isin([ALL_B, ICD_C91]).any(axis=1), "person_id"]
    )
    for name in ("person", "observation_period", "death"):
        kept = src.cached_rows(name)
        assert kept is not None
        assert kept.persons is not None
        assert set(src.execute(kept.persons)["person_id"]) == anyone
        table = frames[name]
        assert kept.rows == int(table["person_id"].isin(anyone).sum())


def test_kept_values_are_the_distinct_values_asked_once(
    src: KeptRows, frames: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="no rows of 'condition_occurrence' are kept"):
        src.kept_values("condition_occurrence", COND_MATCH)
    src.cache_rows(
        "condition_occurrence", match=COND_MATCH, ids=[ALL_B, ICD_C91], columns=COND_MATCH
    )
    cond = frames["condition_occurrence"]
    hit = cond[COND_MATCH].isin([ALL_B, ICD_C91]).any(axis=1)
    want = {
        tuple(None if pd.isna(v) else int(v) for v in row)
        for row in cond.loc[hit, COND_MATCH].itertuples(index=False)
    }
    assert want == {(ALL_B, 45557039), (ALL_B, None), (134305, ICD_C91), (0, ICD_C91)}
    queries: list[object] = []
    execute = src.source.execute
    monkeypatch.setattr(src.source, "execute", lambda expr: queries.append(expr) or execute(expr))
    got = src.kept_values("CONDITION_OCCURRENCE", COND_MATCH)
    assert {tuple(None if v is None else int(v) for v in row) for row in got} == want
    assert src.kept_values("condition_occurrence", COND_MATCH) is got
    assert src.kept_values("condition_occurrence", COND_MATCH[:1]) == {(c,) for c, _ in want}
    assert len(queries) == 2  # one per set of columns
    src.release("condition_occurrence")
    with pytest.raises(ValueError, match="are kept"):
        src.kept_values("condition_occurrence", COND_MATCH)
