"""Session-scoped backends: a throw-away PostgreSQL server and one local Spark session.

Both get the same small synthetic CDMs (claims and EMR profiles, a few hundred ALL patients),
written once as Parquet; the DuckDB results on those Parquet files are the reference.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_servers import (
    ADMIN,
    ADMIN_PW,
    PROFILES,
    READER,
    READER_PW,
    SPARK_CONF,
    PgServer,
    grant_select_only,
    pg_bindir,
    start_postgres,
    unavailable,
)

from allrwe.io.load import load_cdm
from allrwe.synth import generate_cdm


@pytest.fixture(scope="session")
def synthetic_cdms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Parquet URL per profile of the small synthetic CDMs every backend test shares."""
    root = tmp_path_factory.mktemp("synth")
    urls = {}
    for profile, (persons, n_all, seed, _) in PROFILES.items():
        res = generate_cdm(
            root / profile,
            persons=persons,
            seed=seed,
            profile=profile,
            params={"population": {"all_patients": n_all}},
        )
        urls[profile] = res.cdm_url
    return urls


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server in a temporary folder on a free loopback port, stopped afterwards."""
    bindir = pg_bindir()
    if bindir is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed: pip install 'psycopg[binary]'")
    root = Path(tempfile.mkdtemp(prefix="allrwe-pg-"))
    server = None
    try:
        server = start_postgres(bindir, root)
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cdms(pg_server: PgServer, synthetic_cdms: dict[str, str]) -> dict[str, str]:
    """Read-only (SELECT-only role) URL per profile; each CDM in database <profile>, schema cdm."""
    with pg_server.admin() as con:
        con.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PW}'")
        for profile in synthetic_cdms:
            con.execute(f"CREATE DATABASE {profile}")
    urls = {}
    for profile, src in synthetic_cdms.items():
        load_cdm(src, pg_server.url(ADMIN, ADMIN_PW, profile, schema=None), schema="cdm")
        grant_select_only(pg_server, profile, READER)
        urls[profile] = pg_server.url(READER, READER_PW, profile)
    return urls


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local[2] Spark session for every Spark test (its start-up dominates their time)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("pyspark is not installed: pip install pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java runtime for Spark: apt-get install default-jre-headless")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers must be this interpreter (same version, same packages), not PATH's python3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master("local[2]").appName("allrwe-tests")
    for key, value in {**SPARK_CONF, "spark.sql.warehouse.dir": str(warehouse)}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        with warnings.catch_warnings():
            # PySpark leaves local sockets for the garbage collector: collect them here, quietly
            warnings.simplefilter("ignore", ResourceWarning)
            session.stop()
            gc.collect()


@pytest.fixture(scope="session")
def spark_cdms(spark_session: Any, synthetic_cdms: dict[str, str]) -> dict[str, str]:
    """``spark://?schema=...`` URL per profile: claims in database ``cdm``, EMR in ``cdm_emr``."""
    urls = {}
    for profile, src in synthetic_cdms.items():
        database = "cdm" if profile == "claims" else f"cdm_{profile}"
        load_cdm(src, "spark://", schema=database, spark_session=spark_session, external=True)
        urls[profile] = f"spark://?schema={database}"
    return urls


@pytest.fixture(autouse=True)
def _collect_spark_sockets(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a Spark test, collect the sockets PySpark left open, so no later test sees them."""
    yield
    if request.node.get_closest_marker("spark") is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
