"""Writing CDM files: load a folder of Parquet tables into one DuckDB database file.

This is the only writing allrwe does through a database engine; the synthetic-data generator
writes Parquet with pyarrow and uses this function for ``--format duckdb``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from allrwe.errors import UsageError
from allrwe.io.source import validate_identifier

__all__ = ["parquet_dir_to_duckdb"]


def _tables(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue  # hidden files, as when reading a Parquet CDM
        if entry.is_file() and entry.suffix == ".parquet":
            found[entry.stem.lower()] = str(entry)
        elif entry.is_dir() and any(entry.glob("*.parquet")):
            found[entry.name.lower()] = str(entry / "*.parquet")
    return found


def parquet_dir_to_duckdb(
    parquet_dir: str | Path, duckdb_path: str | Path, *, threads: int = 1
) -> dict[str, int]:
    """Create a DuckDB file with one table per ``<table>.parquet`` file or ``<table>/`` folder.

    Rows keep the order of the files (part files in name order), so the same Parquet gives the
    same tables.

    Parameters
    ----------
    parquet_dir : str or pathlib.Path
        Folder holding the tables.
    duckdb_path : str or pathlib.Path
        The database file to create; must not exist.
    threads : int, default 1
        DuckDB worker threads.

    Returns
    -------
    dict of str to int
        Rows per table.

    Raises
    ------
    UsageError
        The folder holds no table, or the database file exists.
    """
    root = Path(parquet_dir)
    target = Path(duckdb_path)
    if target.exists():
        raise UsageError(f"DuckDB file {str(target)!r} already exists")
    tables = _tables(root) if root.is_dir() else {}
    if not tables:
        raise UsageError(f"Parquet folder {str(root)!r} holds no <table>.parquet file or folder")
    counts: dict[str, int] = {}
    con = duckdb.connect(str(target))
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = true")
        for name, location in tables.items():
            validate_identifier(name, what="table name")
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?, file_row_number = false)",
                [location],
            )
            row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            counts[name] = int(row[0]) if row else 0
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts
