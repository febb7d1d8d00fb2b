"""Helpers of the backend tests: starting a throw-away PostgreSQL server, Spark settings.

Outside CI a missing PostgreSQL server, Java or pyspark skips the tests with the reason; in CI
(``CI=true``), where ``.ci/run`` installs them, it fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: profile -> (persons, ALL patients, seed, example spec)
PROFILES = {
    "claims": (1000, 300, 11, "seed000_claims_patterns.yaml"),
    "emr": (1000, 300, 12, "seed001_blinatumomab_emr.yaml"),
}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ADMIN, ADMIN_PW = "allrwe_admin", "admin-pw"
READER, READER_PW = "allrwe_reader", "reader-pw"


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``; in CI, where .ci/run installs every backend, fail instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true and .ci/run should have installed it)", pytrace=False)
    pytest.skip(reason)


# --- PostgreSQL -------------------------------------------------------------------------------


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def pg_bindir() -> Path | None:
    """Folder of initdb and pg_ctl: from PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent
    candidates = [
        p
        for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
        if p.with_name("initdb").exists()
    ]
    return max(candidates, key=_version).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PgServer:
    """A running throw-away PostgreSQL server on loopback."""

    port: int
    data: Path
    bindir: Path
    as_user: list[str]

    def url(self, user: str, password: str, database: str, schema: str | None = "cdm") -> str:
        """Return a ``postgresql://`` URL for a database of this server."""
        query = f"?schema={schema}" if schema else ""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}{query}"

    def admin(self, database: str = "postgres") -> Any:
        """Return an autocommit psycopg connection of the superuser."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=ADMIN,
            password=ADMIN_PW,
            dbname=database,
            autocommit=True,
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown)."""
        subprocess.run(
            [
                *self.as_user,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast",
                "stop",
            ],
            check=False,
            capture_output=True,
        )


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def start_postgres(bindir: Path, root: Path) -> PgServer:
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: the cluster belongs to the postgres system user
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no 'postgres' user to own the server")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = root / "pw"
    pwfile.write_text(ADMIN_PW + "\n")
    if as_user:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    data = root / "data"
    initdb = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        ADMIN,
        f"--pwfile={pwfile}",
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
        "--no-instructions",
    ]
    _run([*as_user, *initdb], "initdb")
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    start = [
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "server.log"),
        "-w",
        "-t",
        "60",
        "-o",
        options,
        "start",
    ]
    _run([*as_user, *start], "pg_ctl start")
    return PgServer(port, data, bindir, as_user)


def grant_select_only(server: PgServer, database: str, role: str, schema: str = "cdm") -> None:
    """The SELECT-only role recipe of docs/backends.md."""
    with server.admin(database) as con:
        con.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
        con.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")


SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "true",
}
