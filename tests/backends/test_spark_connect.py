"""Spark Connect as a real backend: a local Connect server, a study read through ``sc://``.

The server is PySpark's own (``SparkConnectServer`` from the jars pyspark ships, started with
its ``spark-submit`` on a free loopback port): nothing is downloaded. The CDM is registered
in the server's warehouse through a Connect session, as the classic Spark tests do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from backend_servers import SPARK_CONF, _free_port, unavailable

from allrwe.cli.demo import DEMO_STUDY, demo_params
from allrwe.io import connect
from allrwe.io.load import load_cdm
from allrwe.study import run_study
from allrwe.synth.generate import generate_cdm

pytestmark = [
    pytest.mark.spark,
    # gRPC channels and PySpark sockets are closed by the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

CREATED_AT = "2024-01-01T00:00:00+00:00"
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Spark Connect server stopped:\n{log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"no Spark Connect server on port {port} after {timeout:.0f} s")


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sc://127.0.0.1:PORT`` of a local Spark Connect server, stopped afterwards."""
    try:
        import pyspark
        from pyspark.sql.connect.utils import check_dependencies
    except ImportError:
        unavailable("pyspark is not installed: pip install 'allrwe[spark]'")
    try:
        check_dependencies("pyspark.sql.connect.session")
    except ImportError as exc:
        unavailable(f"Spark Connect's packages are missing: pip install 'allrwe[spark]' ({exc})")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java runtime for Spark: apt-get install default-jre-headless")
    home = Path(pyspark.__file__).parent
    root = tmp_path_factory.mktemp("spark-connect")
    port = _free_port()
    conf = {
        **SPARK_CONF,
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.log.level": "ERROR",
    }
    cmd = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--master", "local[2]"]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*cmd, "spark-internal"], stdout=out, stderr=out, env=env)
    try:
        _wait_for_port(port, proc, log, timeout=180)
        yield f"sc://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def connect_cdm(connect_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small synthetic demo CDM as Parquet, and registered in the server's database ``cdm``."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    root = tmp_path_factory.mktemp("connect-cdm")
    synth = generate_cdm(
        root / "cdm", persons=600, seed=3, profile="emr", params=demo_params("emr", 80)
    )
    session = ConnectSession.builder.remote(connect_server).getOrCreate()
    counts = load_cdm(synth.cdm_url, "spark://", schema="cdm", spark_session=session, external=True)
    return {"parquet": synth.cdm_url, "session": session, "counts": counts}


def test_a_connect_url_and_a_connect_session_read_the_cdm_the_server_holds(
    connect_server: str, connect_cdm: dict[str, Any]
) -> None:
    counts = connect_cdm["counts"]
    assert counts["person"] == 600
    with connect(f"{connect_server}?schema=cdm") as cdm, connect(connect_cdm["parquet"]) as ref:
        assert cdm.kind == "spark"
        assert cdm.description == f"spark@{connect_server[5:]}:cdm"
        assert cdm.tables == ref.tables
        for name in ref.tables:
            n = int(ref.execute(ref.table(name).count()))
            assert int(cdm.execute(cdm.table(name).count())) == n == counts[name], name
    with connect(connect_cdm["session"], schema="cdm") as cdm:
        assert int(cdm.execute(cdm.table("death").count())) == counts["death"]


def test_the_demo_study_through_spark_connect_gives_duckdbs_results(
    connect_server: str, connect_cdm: dict[str, Any], tmp_path: Path
) -> None:
    with resources.as_file(resources.files("allrwe.data").joinpath(*DEMO_STUDY)) as spec:
        ref = run_study(spec, connect_cdm["parquet"], tmp_path / "duckdb", created_at=CREATED_AT)
        got = run_study(
            spec, f"{connect_server}?schema=cdm", tmp_path / "connect", created_at=CREATED_AT
        )
    assert ref.audit.ok
    assert got.audit.ok
    want = (tmp_path / "duckdb" / "results.csv").read_text()
    assert want.count("\n") > 1000  # a real study, not a stub
    assert (tmp_path / "connect" / "results.csv").read_text() == want
