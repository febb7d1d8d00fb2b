"""Parquet: a folder with one ``<table>.parquet`` file or ``<table>/`` folder per table.

The rule this module owns: hidden files are ignored, and a table given twice (``person.parquet``
and ``person/``) is refused rather than read from whichever comes first.
"""

from __future__ import annotations

from pathlib import Path

import ibis

from allrwe.errors import CdmConnectionError, UsageError
from allrwe.io.backends.duckdb import duckdb_config
from allrwe.io.connection import CdmConnection, first_line
from allrwe.io.identifiers import validate_identifier
from allrwe.io.url import URL_HINT

__all__ = ["connect_parquet", "parquet_tables"]


def parquet_tables(root: Path) -> dict[str, str]:
    """Return the location of each table in ``root``, by lower-case name; refuse duplicates."""
    found: dict[str, str] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue  # hidden files: macOS '._person.parquet', editors' and sync tools' files
        if entry.is_file() and entry.suffix == ".parquet":
            name, location = entry.stem.lower(), str(entry)
        elif entry.is_dir() and any(entry.glob("*.parquet")):
            name, location = entry.name.lower(), str(entry / "*.parquet")
        else:
            continue
        if name in found:
            # Two spellings of one table (person.parquet and person/) would make the answer
            # depend on which one allrwe happened to read.
            raise UsageError(
                f"Parquet folder {str(root)!r} holds table {name!r} twice "
                f"({Path(found[name]).name!r} and {entry.name!r}); keep one"
            )
        found[name] = location
    return found


def connect_parquet(root: Path) -> CdmConnection:
    """Open a folder of Parquet tables through DuckDB."""
    if not root.is_dir():
        raise UsageError(
            f"Parquet folder {str(root)!r} does not exist {URL_HINT.format('parquet')}"
        )
    files = parquet_tables(root)
    if not files:
        raise UsageError(f"Parquet folder {str(root)!r} holds no <table>.parquet file or folder")
    for name in files:
        validate_identifier(name, what="table name")
    backend = ibis.duckdb.connect(**duckdb_config())
    stored: dict[str, list[str]] = {}
    for name, location in files.items():
        try:
            backend.read_parquet(location, table_name=name)
        except Exception as exc:
            backend.disconnect()
            raise CdmConnectionError(
                f"cannot read Parquet table {name!r} at {location!r}: {first_line(exc)}"
            ) from exc
        # DuckDB renames the second of two columns equal without regard to case
        # (Year_Of_Birth becomes Year_Of_Birth_1), so look at the names in the files; a
        # damaged part file is left to the check, which names it as an unreadable table
        try:
            rows = backend.con.execute(
                "SELECT DISTINCT name FROM parquet_schema(?)", [location]
            ).fetchall()
        except Exception:
            continue
        stored[name] = [str(row[0]) for row in rows]
    source = CdmConnection(backend, "parquet", f"parquet:{root.name}", None)
    source.stored_columns.update(stored)
    return source
