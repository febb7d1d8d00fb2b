"""Spark: a CDM database read through the active, a local, a standalone or a Connect session.

The rule this module owns: allrwe never ignores a Spark host it was given (a session on
another master is refused), and Ibis's temporary views are never listed as CDM tables.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from typing import Any
from urllib.parse import urlparse

import ibis
from ibis.backends import BaseBackend

from allrwe.errors import BackendUnavailableError, CdmConnectionError, UsageError
from allrwe.io.connection import CdmConnection, check_schema, first_line

__all__ = ["connect_spark", "is_spark_session", "spark_master", "spark_session"]


#: names of the temporary views that hold Ibis's in-memory and cached tables in Spark
_IBIS_MEMTABLE = re.compile(r"^ibis_[a-z]*_?(memtable|cached)_")


@functools.cache
def _cdm_pyspark() -> type[BaseBackend]:
    """Return the Ibis PySpark backend class adapted to reading a CDM from a Spark database."""
    from ibis.backends.pyspark import Backend
    from ibis.backends.pyspark.datatypes import PySparkSchema

    # First use of ibis.pyspark registers ibis.options.pyspark, which its compiler reads.
    _ = ibis.pyspark

    class CdmPySpark(Backend):
        def execute(self, expr: Any, /, **kwargs: Any) -> Any:
            with warnings.catch_warnings():
                # PySpark 4.0 converts results with astype(copy=False), deprecated by pandas 3.
                warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
                return super().execute(expr, **kwargs)

        def _register_in_memory_table(self, op: Any) -> None:
            if not is_connect_session(self._session):
                super()._register_in_memory_table(op)
                return
            # Ibis hands Spark a pandas frame; PySpark 4.0's Connect client cannot convert
            # pandas 3's Arrow-backed columns ("Cannot convert ChunkedArray to Array"), while
            # it takes an Arrow table as it is.
            frame = self._session.createDataFrame(
                op.data.to_pyarrow(op.schema), schema=PySparkSchema.from_ibis(op.schema)
            )
            frame.createOrReplaceTempView(op.name)

        def list_tables(self, *, like: str | None = None, database: Any = None) -> list[str]:
            names: list[str] = super().list_tables(like=like, database=database)
            if not isinstance(database, str):
                return [n for n in names if not _IBIS_MEMTABLE.match(n)]
            # SHOW TABLES IN <db> also lists the session's temporary views, Ibis's in-memory
            # tables among them; the tables of a database are only those it holds.
            rows = self._session.sql(f"SHOW TABLES IN {database}").collect()
            temporary = {r.tableName for r in rows if r.isTemporary}
            return [n for n in names if n not in temporary]

    return CdmPySpark


def spark_master(parsed: Any) -> str | None:
    """Return the Spark master a ``spark://`` or ``sc://`` URL names (None: local or active).

    Examples
    --------
    >>> spark_master(urlparse("spark://master.example.org:7077?schema=cdm"))
    'spark://master.example.org:7077'
    >>> spark_master(urlparse("spark://?schema=cdm")) is None
    True
    """
    scheme = parsed.scheme.lower()
    if not parsed.netloc:
        if scheme == "sc":
            raise UsageError("a Spark Connect URL needs a host: sc://host:15002")
        return None
    return f"{scheme}://{parsed.netloc}"


def is_spark_session(value: Any) -> bool:
    """Whether ``value`` is a PySpark session (without importing pyspark)."""
    return type(value).__name__ == "SparkSession" and type(value).__module__.startswith("pyspark")


def is_connect_session(session: Any) -> bool:
    """Whether ``session`` is a Spark Connect session (a client of a remote server)."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def _session_master(session: Any) -> str | None:
    """Return the master of a classic Spark session (None for a Spark Connect session)."""
    try:
        return str(session.sparkContext.master)
    except Exception:  # Spark Connect sessions have no SparkContext
        return None


def _quiet_client_loggers() -> None:
    """Keep PySpark's client from printing a JSON record of each failed query to stderr.

    PySpark 4 logs every analysis error before raising it, those allrwe handles included;
    allrwe reports the errors it does not handle itself.
    """
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # PySpark 3.5 has no such loggers
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def spark_session(master: str | None = None, session: Any = None) -> Any:
    """Return the Spark session to read from: ``session``, the active one, or a new one.

    A new session shows no console progress bars and logs errors only (``--verbose`` does
    not change Spark's JVM log level; set it with ``session.sparkContext.setLogLevel``).

    Parameters
    ----------
    master : str, optional
        ``spark://host:port`` (a standalone master) or ``sc://host:port`` (Spark Connect: a
        Connect session on that server, never the active classic one); default the active
        session, else a new ``local[2]`` one.
    session : pyspark.sql.SparkSession, optional
        A session given by the caller.

    Raises
    ------
    UsageError
        The given or active session runs on another master than ``master``: allrwe never
        ignores a host it was given.
    CdmConnectionError
        The master cannot be reached.
    BackendUnavailableError
        pyspark (or Spark Connect's packages) are not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise BackendUnavailableError(
            "the Spark backend is not installed: pip install 'allrwe[spark]'"
        ) from exc
    _quiet_client_loggers()
    connect_url = master if master is not None and master.startswith("sc://") else None
    current = session
    if current is None and connect_url is None:  # an active classic session is not the server
        current = SparkSession.getActiveSession()
    if current is not None:
        running = _session_master(current)
        if master is not None and running is not None and running != master:
            raise UsageError(
                f"the Spark session runs on {running!r}, not on {master!r}: stop it, or use "
                "spark:// (no host) to read through it"
            )
        return current
    builder = SparkSession.builder
    try:
        if connect_url is not None:
            # Connect's own builder: the classic builder's options are shared by the process
            from pyspark.sql.connect.session import SparkSession as ConnectSession

            return ConnectSession.builder.remote(connect_url).getOrCreate()
        new = (
            builder.master(master or "local[2]")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    except ImportError as exc:
        raise BackendUnavailableError(
            f"Spark Connect needs its extra packages: pip install 'allrwe[spark]' "
            f"({first_line(exc)})"
        ) from exc
    except Exception as exc:
        raise CdmConnectionError(
            f"cannot start a Spark session on {master or 'local[2]'}: {first_line(exc)}"
        ) from exc
    new.sparkContext.setLogLevel("ERROR")
    return new


def connect_spark(schema: str | None, session: Any, *, master: str | None) -> CdmConnection:
    """Open the CDM in a Spark database through the session ``master`` names."""
    session = spark_session(master, session)
    try:
        backend = _cdm_pyspark()().connect(session)
    except Exception as exc:
        raise CdmConnectionError(f"cannot use the Spark session: {first_line(exc)}") from exc
    where = f"the Spark catalog ({master})" if master else "the Spark catalog"
    check_schema(backend, schema, where)
    desc = "spark" + (f"@{urlparse(master).netloc}" if master else "")
    return CdmConnection(backend, "spark", desc + (f":{schema}" if schema else ""), schema)
