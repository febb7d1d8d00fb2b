"""CSV: a folder with one ``<table>.csv`` (or ``.tsv``) file per table, typed by the CDM spec.

The rule this module owns: every column is read as text and cast to the type the CDM v5.4
specification gives it; dates may be ISO or Athena's ``YYYYMMDD``; an empty field is null.
"""

from __future__ import annotations

from pathlib import Path

import ibis

from allrwe.errors import CdmConnectionError, UsageError
from allrwe.io.backends.duckdb import duckdb_config
from allrwe.io.connection import CdmConnection, first_line
from allrwe.io.identifiers import validate_identifier

__all__ = ["connect_csv", "csv_tables"]


def csv_tables(root: Path) -> dict[str, Path]:
    """Return the CSV file of each table in ``root``, by lower-case name; refuse duplicates."""
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if not (entry.is_file() and entry.suffix.lower() in (".csv", ".tsv")):
            continue
        name = entry.stem.lower()
        if name in found:
            raise UsageError(
                f"CSV folder {str(root)!r} holds table {name!r} twice "
                f"({found[name].name!r} and {entry.name!r}); keep one"
            )
        found[name] = entry
    return found


#: SQL casting a text column to each logical CDM type; dates as ISO or as Athena's YYYYMMDD
_CSV_CASTS = {
    "integer": "CAST({c} AS BIGINT)",
    "float": "CAST({c} AS DOUBLE)",
    "date": "COALESCE(TRY_CAST({c} AS DATE), CAST(STRPTIME({c}, '%Y%m%d') AS DATE))",
    "datetime": "CAST({c} AS TIMESTAMP)",
    "string": "{c}",
}


def connect_csv(root: Path) -> CdmConnection:
    """Open a folder of CSV tables as DuckDB views typed by the CDM specification."""
    from allrwe.io.cdm_spec import load_cdm_spec

    if not root.is_dir():
        raise UsageError(f"CSV folder {str(root)!r} does not exist")
    files = csv_tables(root)
    if not files:
        raise UsageError(f"CSV folder {str(root)!r} holds no <table>.csv file")
    spec = load_cdm_spec()
    backend = ibis.duckdb.connect(**duckdb_config())
    for name, path in files.items():
        validate_identifier(name, what="table name")
        source = "read_csv('{}', header = true, all_varchar = true, null_padding = true)".format(
            str(path).replace("'", "''")
        )
        try:
            columns = [str(c) for c in backend.sql(f"SELECT * FROM {source}").columns]
            fields = {f.name: f.type for f in spec.table(name).fields} if name in spec else {}
            parts = []
            for column in columns:
                lower = validate_identifier(column.lower(), what="column name")
                quoted = '"' + column.replace('"', '""') + '"'
                cast = _CSV_CASTS[fields.get(lower, "string")].format(c=f"NULLIF({quoted}, '')")
                parts.append(f"{cast} AS {lower}")
            backend.raw_sql(f"CREATE VIEW {name} AS SELECT {', '.join(parts)} FROM {source}")
        except Exception as exc:
            backend.disconnect()
            raise CdmConnectionError(
                f"cannot read CSV table {name!r} at {str(path)!r}: {first_line(exc)}"
            ) from exc
    return CdmConnection(backend, "csv", f"csv:{root.name}", None)
