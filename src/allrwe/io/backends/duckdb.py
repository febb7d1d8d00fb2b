"""DuckDB: open a CDM file read-only, with the settings every DuckDB connection shares.

The rule this module owns: every DuckDB connection of allrwe (the Parquet and CSV backends read
through DuckDB too) has one memory limit (``ALLRWE_DUCKDB_MEMORY_LIMIT``, default 3 GB) and one
private spill folder per process, removed at exit.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
from pathlib import Path

import ibis

from allrwe.errors import CdmConnectionError, UsageError
from allrwe.io.connection import CdmConnection, first_line
from allrwe.io.url import URL_HINT

__all__ = ["DUCKDB_MEMORY_LIMIT", "connect_duckdb", "duckdb_config"]


#: DuckDB's memory limit unless ALLRWE_DUCKDB_MEMORY_LIMIT says otherwise; above it DuckDB
#: spills to a private temporary folder instead of growing (docs/backends.md)
DUCKDB_MEMORY_LIMIT = "3GB"


def _remove_stale_scratch(parent: Path) -> None:
    """Remove the temporary folders of allrwe processes (of this user) that have ended."""
    try:
        entries = list(parent.glob("allrwe-duckdb-*-*"))
    except OSError:
        return
    for entry in entries:
        match = re.fullmatch(r"allrwe-duckdb-(\d+)-[^/]+", entry.name)
        try:
            mine = entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()
        except OSError:
            continue
        if match is None or not mine:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except (OSError, OverflowError):
            continue


@functools.cache
def _scratch() -> Path:
    # One folder per process: DuckDB opens a file once per process and refuses a second
    # connection to it with another configuration, so every connection gets the same one.
    try:
        _remove_stale_scratch(Path(tempfile.gettempdir()))
        path = Path(tempfile.mkdtemp(prefix=f"allrwe-duckdb-{os.getpid()}-"))
    except OSError as exc:
        raise UsageError(
            f"cannot create DuckDB's temporary folder in {tempfile.gettempdir()!r} "
            f"({exc.strerror}); set TMPDIR to a writable folder"
        ) from exc
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def duckdb_config() -> dict[str, str]:
    """Return the settings of every DuckDB connection: memory limit and spill folder."""
    limit = os.environ.get("ALLRWE_DUCKDB_MEMORY_LIMIT", "").strip() or DUCKDB_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, flags=re.IGNORECASE):
        raise UsageError(f"ALLRWE_DUCKDB_MEMORY_LIMIT={limit!r} is not a size such as 3GB or 512MB")
    # Each file is read once per run, so DuckDB's cache of file contents (on by default since
    # 1.3) only holds memory: over 1 GB at 10M persons, and about 1 s to free on close.
    return {
        "memory_limit": limit,
        "temp_directory": str(_scratch()),
        "enable_external_file_cache": "false",
    }


def connect_duckdb(path: Path, schema: str | None) -> CdmConnection:
    """Open a DuckDB CDM file read-only."""
    if not path.is_file():
        raise UsageError(f"DuckDB file {str(path)!r} does not exist {URL_HINT.format('duckdb')}")
    config = duckdb_config()
    try:
        backend = ibis.duckdb.connect(str(path), read_only=True, **config)
    except Exception as exc:
        raise CdmConnectionError(
            f"cannot open DuckDB file {str(path)!r}: {first_line(exc)}"
        ) from exc
    return CdmConnection(backend, "duckdb", f"duckdb:{path.name}", schema)
