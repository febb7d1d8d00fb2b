"""The bundled example CDM: twenty hand-made persons as a DuckDB file or a Parquet folder.

The persons and their stories are in ``allrwe/data/example_cdm/README.md``; the data are CSV files
next to it, one per table, holding only the columns the stories fill. :func:`example_cdm_path`
types every column by the CDM specification and adds the CDM's other columns as nulls, so the
result is a complete OMOP CDM v5.4 for the tables it holds.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allrwe.errors import UsageError
from allrwe.io.cdm_spec import FieldType, TableSpec, load_cdm_spec
from allrwe.io.source import cdm_url

__all__ = ["EXAMPLE_TABLES", "example_cdm_path", "example_tables"]

#: tables of the example CDM, in load order
EXAMPLE_TABLES = (
    "person",
    "observation_period",
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "death",
    "concept",
    "concept_ancestor",
    "cdm_source",
)

_ARROW: dict[FieldType, pa.DataType] = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "string": pa.string(),
}


def _read_table(tspec: TableSpec) -> pa.Table:
    path = resources.files("allrwe.data").joinpath(f"example_cdm/{tspec.name}.csv")
    types = {f.name: _ARROW[f.type] for f in tspec.fields}
    with resources.as_file(path) as csv_path:
        raw = pacsv.read_csv(
            csv_path,
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
        )
    n = raw.num_rows
    columns = [
        raw[f.name] if f.name in raw.column_names else pa.nulls(n, type=_ARROW[f.type])
        for f in tspec.fields
    ]
    return pa.Table.from_arrays(columns, names=tspec.columns)


def example_tables() -> dict[str, pa.Table]:
    """Return the example CDM as Arrow tables typed by the CDM v5.4 specification.

    Returns
    -------
    dict of str to pyarrow.Table
        One table per name in :data:`EXAMPLE_TABLES`, with every CDM column.
    """
    spec = load_cdm_spec()
    return {name: _read_table(spec.table(name)) for name in EXAMPLE_TABLES}


def _write_duckdb(tables: dict[str, pa.Table], path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        for name, table in tables.items():
            con.register("_arrow_source", table)
            # names come from EXAMPLE_TABLES, never from user input
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _arrow_source")
            con.unregister("_arrow_source")
    finally:
        con.close()


def _write_parquet(tables: dict[str, pa.Table], folder: Path) -> None:
    folder.mkdir(parents=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")


def example_cdm_path(
    kind: Literal["duckdb", "parquet"] = "duckdb", dest: str | Path | None = None
) -> str:
    """Write the example CDM to ``dest`` and return its URL for :func:`~allrwe.io.source.connect`.

    Parameters
    ----------
    kind : {"duckdb", "parquet"}, default "duckdb"
        A DuckDB file (``dest/allrwe_example.duckdb``) or a folder of Parquet files
        (``dest/allrwe_example_parquet/``). An earlier copy at that path is replaced.
    dest : str or pathlib.Path, optional
        Folder to write into (created if needed); defaults to a new temporary folder.

    Returns
    -------
    str
        ``duckdb://<absolute path>`` or ``parquet://<absolute path>`` (three slashes).

    Raises
    ------
    UsageError
        If ``kind`` is neither ``"duckdb"`` nor ``"parquet"``.

    Examples
    --------
    >>> import tempfile
    >>> from allrwe.io.source import connect
    >>> with connect(example_cdm_path("parquet", tempfile.mkdtemp())) as cdm:
    ...     cdm.execute(cdm.table("person").count())
    20
    """
    if kind not in ("duckdb", "parquet"):
        raise UsageError(f"unknown example CDM kind {kind!r}: use 'duckdb' or 'parquet'")
    folder = Path(dest) if dest is not None else Path(tempfile.mkdtemp(prefix="allrwe-example-"))
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    tables = example_tables()
    if kind == "duckdb":
        target = folder / "allrwe_example.duckdb"
        target.unlink(missing_ok=True)
        _write_duckdb(tables, target)
    else:
        target = folder / "allrwe_example_parquet"
        if target.exists():
            shutil.rmtree(target)
        _write_parquet(tables, target)
    return cdm_url(target, kind)
