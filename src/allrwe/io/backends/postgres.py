"""PostgreSQL: a CDM schema read in a session whose every transaction is read-only.

Only the session-private TEMP tables Ibis needs (in-memory frames, kept rows) get a writable
transaction, one statement at a time; a batch of statements on TEMP tables (a Circe cohort's
SQL) gets one through :meth:`temporary_batch`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import ibis
from ibis.backends import BaseBackend

from allrwe.errors import BackendUnavailableError, CdmConnectionError
from allrwe.io.connection import CdmConnection, check_schema, first_line

__all__ = ["connect_postgres", "postgres_params"]


def postgres_params(parsed: Any) -> dict[str, Any]:
    """Return the psycopg connection keywords of a parsed ``postgresql://`` URL."""
    return {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "database": parsed.path.lstrip("/") or None,
    }


@functools.cache
def _read_only_postgres() -> type[BaseBackend]:
    """Return the Ibis PostgreSQL backend class, with in-memory tables in a read-only session."""
    from ibis.backends.postgres import Backend

    # First use of ibis.postgres registers the backend's options, as ibis.postgres.connect does.
    _ = ibis.postgres

    class ReadOnlyPostgres(Backend):
        def _register_in_memory_table(self, op: Any) -> None:
            # Cohort-sized frames travel to the server as session-private TEMP tables; creating
            # or dropping one needs a read-write transaction, so only that statement gets one.
            with self._writable():
                super()._register_in_memory_table(op)

        def _create_cached_table(self, name: str, expr: Any) -> Any:
            # Rows kept by KeptRows.cache_rows: a TEMP table, private to the session.
            with self._writable():
                return super()._create_cached_table(name, expr)

        def _drop_cached_table(self, name: str) -> None:
            with self._writable():
                super()._drop_cached_table(name)

        @contextlib.contextmanager
        def temporary_batch(self) -> Iterator[Callable[[str], Any]]:
            """Run statements on session TEMP tables in one read-write transaction.

            Yields a function executing one statement; the transaction commits at the end
            (TEMP tables outlive it) or rolls back on an error. The caller keeps the writes
            on TEMP tables (:func:`allrwe.cohort.external.circe_rows` checks each statement).
            """
            with self._writable(), self.con.cursor() as cursor, self.con.transaction():
                yield cursor.execute

        @contextlib.contextmanager
        def _writable(self) -> Iterator[None]:
            self.con.read_only = False
            try:
                yield
            finally:
                self.con.read_only = None

    return ReadOnlyPostgres


def connect_postgres(parsed: Any, schema: str | None) -> CdmConnection:
    """Open a PostgreSQL CDM in a session whose transactions are read-only."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            "the PostgreSQL backend is not installed: pip install 'allrwe[postgres]'"
        ) from exc
    params = postgres_params(parsed)
    where = f"PostgreSQL at {params['host']}:{params['port']}/{params['database']}"
    try:
        # A study only reads: every transaction of the session is read-only from the start.
        backend = _read_only_postgres()().connect(
            **params, options="-c default_transaction_read_only=on"
        )
    except Exception as exc:
        raise CdmConnectionError(f"cannot connect to {where}: {first_line(exc)}") from exc
    try:
        check_schema(backend, schema, where)
    except CdmConnectionError:
        backend.disconnect()
        raise
    desc = f"postgresql:{params['host']}:{params['port']}/{params['database']}"
    return CdmConnection(
        backend, "postgresql", desc + (f"?schema={schema}" if schema else ""), schema
    )
