"""Write small CDMs for tests: rows typed by the CDM spec, to a DuckDB file or Parquet folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from allrwe.io.cdm_spec import load_cdm_spec

_ARROW = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "string": pa.string(),
}

TableData = pa.Table | Sequence[Mapping[str, Any]]


def _value(v: Any, typ: pa.DataType) -> Any:
    if isinstance(v, str) and typ == pa.date32():
        return date.fromisoformat(v)
    if isinstance(v, str) and typ == pa.timestamp("us"):
        return datetime.fromisoformat(v)
    return v


def to_arrow(name: str, rows: TableData) -> pa.Table:
    """Rows (dicts) as an Arrow table typed by the CDM spec; Arrow tables pass unchanged.

    Columns the spec does not know are left to Arrow's inference; dates may be ISO strings.
    """
    if isinstance(rows, pa.Table):
        return rows
    spec = load_cdm_spec()
    fields = {f.name: f.type for f in spec.table(name)} if name in spec else {}
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    arrays, names = [], []
    for col in columns:
        typ = _ARROW[fields[col]] if col in fields else None
        values = [_value(r.get(col), typ) if typ else r.get(col) for r in rows]
        arrays.append(pa.array(values, type=typ))
        names.append(col)
    return pa.Table.from_arrays(arrays, names=names)


def write_cdm(root: Path, tables: Mapping[str, TableData], kind: str = "duckdb") -> str:
    """Write tables to ``root`` as a DuckDB file or a Parquet folder; return the URL."""
    root.mkdir(parents=True, exist_ok=True)
    arrow = {name: to_arrow(name, rows) for name, rows in tables.items()}
    if kind == "parquet":
        folder = root / "cdm"
        folder.mkdir()
        for name, table in arrow.items():
            pq.write_table(table, folder / f"{name}.parquet")
        return f"parquet://{folder}"
    path = root / "cdm.duckdb"
    con = duckdb.connect(str(path))
    try:
        for name, table in arrow.items():
            con.register("_src", table)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _src")
            con.unregister("_src")
    finally:
        con.close()
    return f"duckdb://{path}"
