"""PostgreSQL as a real backend: bulk load, the SELECT-only role, and a read-only session."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandas.testing as pdt
import pytest
from backend_servers import ADMIN, ADMIN_PW, READER, READER_PW, PgServer

from allrwe.errors import CdmConnectionError, UsageError
from allrwe.io import connect
from allrwe.io.load import load_cdm

pytestmark = pytest.mark.postgres


def _frame(url: str, table: str) -> pd.DataFrame:
    with connect(url) as src:
        t = src.table(table)
        frame = src.execute(t.order_by(list(t.columns)))
    return frame.reset_index(drop=True)


def test_load_copies_every_table_row_for_row(
    pg_cdms: dict[str, str], synthetic_cdms: dict[str, str]
) -> None:
    with connect(synthetic_cdms["claims"]) as ref, connect(pg_cdms["claims"]) as pg:
        assert pg.tables == ref.tables
        for name in ref.tables:
            n_ref = int(ref.execute(ref.table(name).count()))
            assert int(pg.execute(pg.table(name).count())) == n_ref, name
            assert n_ref > 0 or name == "observation", name
            assert pg.table(name).columns == ref.table(name).columns
    # Values, NULLs and empty strings survive the CSV round trip exactly.
    for table in ("person", "death", "drug_exposure"):
        want = _frame(synthetic_cdms["claims"], table)
        got = _frame(pg_cdms["claims"], table)
        pdt.assert_frame_equal(got, want, check_dtype=False)


def test_reader_session_refuses_writes_and_allows_cohort_temp_tables(
    pg_server: PgServer, pg_cdms: dict[str, str]
) -> None:
    # The table owner, connected through allrwe, still cannot write: the session is read-only.
    owner = pg_server.url(ADMIN, ADMIN_PW, "claims")
    deaths = "SELECT count(*) FROM cdm.death"
    with pg_server.admin("claims") as con:
        before = con.execute(deaths).fetchone()
    with connect(owner) as src:
        assert src.kind == "postgresql"
        assert ADMIN_PW not in src.description
        for statement in (
            "INSERT INTO cdm.death (person_id, death_date) VALUES (1, DATE '2020-01-01')",
            "CREATE TABLE cdm.scratch (x integer)",
            "CREATE TEMP TABLE scratch (x integer)",
        ):
            with pytest.raises(Exception, match="read-only transaction"):
                src.backend.raw_sql(statement)
        with pytest.raises(Exception, match="read-only transaction"):
            src.backend.create_table("scratch", pd.DataFrame({"x": [1]}))
        # ...while a cohort-sized in-memory table (a session TEMP table) still joins.
        import ibis

        persons = ibis.memtable({"person_id": [1, 2, 3, 10**9]})
        n = src.execute(src.table("person").semi_join(persons, "person_id").count())
        assert int(n) == 3
    with pg_server.admin("claims") as con:
        assert con.execute(deaths).fetchone() == before
        assert con.execute("SELECT to_regclass('cdm.scratch')").fetchone() == (None,)


def test_select_only_role_cannot_write_even_outside_allrwe(pg_server: PgServer) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1",
        port=pg_server.port,
        user=READER,
        password=READER_PW,
        dbname="claims",
        autocommit=True,
    ) as con:
        assert con.execute("SELECT count(*) > 0 FROM cdm.person").fetchone() == (True,)
        for statement in (
            "DELETE FROM cdm.death",
            "CREATE TABLE cdm.scratch (x integer)",
            "DROP TABLE cdm.person",
        ):
            with pytest.raises(psycopg.Error, match=r"permission denied|must be owner"):
                con.execute(statement)


def test_unknown_schema_and_bad_password_are_clear_errors(
    pg_server: PgServer, pg_cdms: dict[str, str]
) -> None:
    with pytest.raises(CdmConnectionError, match="schema 'nope' does not exist"):
        connect(pg_server.url(READER, READER_PW, "claims", schema="nope"))
    with pytest.raises(CdmConnectionError, match="cannot connect to PostgreSQL") as err:
        connect(pg_server.url(READER, "wrong", "claims"))
    assert "wrong" not in str(err.value)


def test_load_refuses_an_existing_table_and_replaces_on_request(
    pg_server: PgServer, pg_cdms: dict[str, str], synthetic_cdms: dict[str, str]
) -> None:
    target = pg_server.url(ADMIN, ADMIN_PW, "claims", schema=None)
    with pytest.raises(UsageError, match=r"cdm\.death already exists"):
        load_cdm(synthetic_cdms["claims"], target, schema="cdm", tables=["death"])
    counts = load_cdm(
        synthetic_cdms["claims"], target, schema="scratch", tables=["death", "person"]
    )
    again = load_cdm(
        synthetic_cdms["claims"], target + "?schema=scratch", tables=["death"], replace=True
    )
    assert again == {"death": counts["death"]}
    assert counts["death"] > 0
    with pg_server.admin("claims") as con:
        rows: Any = con.execute("SELECT count(*) FROM scratch.death").fetchone()
        assert rows[0] == counts["death"]
        con.execute("DROP SCHEMA scratch CASCADE")
