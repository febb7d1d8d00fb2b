"""Columnar row buffers for one chunk, and their conversion to Arrow tables of the CDM schema.

Generators append NumPy columns named as in the CDM (``person_id``, ``drug_concept_id``, ...)
to a :class:`Rows` buffer. Missing values use sentinels (:data:`NA` for integers and dates,
NaN for floats). :func:`to_arrow` concatenates the parts, orders rows by person (stably),
numbers the primary key and returns a table with every CDM v5.4 column in specification
order (absent columns are null; text columns are derived from concept ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from allrwe.io.cdm_spec import load_cdm_spec

__all__ = [
    "CDM_TABLES",
    "NA",
    "AnyArray",
    "Rows",
    "Tables",
    "cdm_schema",
    "epoch_day",
    "to_arrow",
]

#: missing integer or date
NA = np.iinfo(np.int64).min
#: a column of any dtype (columns of one table or event kind differ in dtype)
AnyArray = npt.NDArray[Any]
_EPOCH = date(1970, 1, 1)
#: the tables the generator writes
CDM_TABLES = (
    "person",
    "observation_period",
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "death",
    "cdm_source",
)
_ARROW = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "string": pa.string(),
}


def epoch_day(day: date) -> int:
    """Days since 1970-01-01, the date encoding of every generated column."""
    return (day - _EPOCH).days


@cache
def cdm_schema(table: str, nullable: tuple[str, ...] = ()) -> pa.Schema:
    """Arrow schema of a CDM v5.4 table, columns in specification order.

    ``nullable`` names required columns that may hold nulls all the same (the gaps of the
    ``ohdsi`` profile: a drug administration without ``drug_exposure_end_date``).
    """
    spec = load_cdm_spec().table(table)
    return pa.schema(
        [
            pa.field(f.name, _ARROW[f.type], nullable=not f.required or f.name in nullable)
            for f in spec.fields
        ]
    )


@dataclass
class Rows:
    """Parts of one table's columns, appended by the generators of a chunk."""

    parts: list[dict[str, AnyArray]] = field(default_factory=list)

    def add(self, **columns: npt.ArrayLike) -> None:
        """Append rows; scalars broadcast to the length of the array columns."""
        arrays = {k: np.asarray(v) for k, v in columns.items()}
        sizes = {a.size for a in arrays.values() if a.ndim}
        if len(sizes) > 1:
            raise ValueError(f"columns of unequal length: {sizes}")
        n = sizes.pop() if sizes else 1
        if n == 0:
            return
        self.parts.append(
            {k: (np.broadcast_to(a, (n,)) if a.ndim == 0 else a) for k, a in arrays.items()}
        )

    def frame(self) -> dict[str, AnyArray]:
        """Concatenate the parts; a column absent from a part is missing there."""
        if not self.parts:
            return {}
        names = list(dict.fromkeys(k for p in self.parts for k in p))
        out: dict[str, AnyArray] = {}
        for name in names:
            pieces = []
            for p in self.parts:
                n = len(next(iter(p.values())))
                if name in p:
                    pieces.append(p[name])
                else:
                    kind = next(q[name].dtype.kind for q in self.parts if name in q)
                    pieces.append(np.full(n, np.nan if kind == "f" else NA))
            dtype = np.float64 if any(a.dtype.kind == "f" for a in pieces) else np.int64
            out[name] = np.concatenate([a.astype(dtype, copy=False) for a in pieces])
        return out


class Tables(dict[str, Rows]):
    """One :class:`Rows` per table, created on first use."""

    def __missing__(self, key: str) -> Rows:
        rows = Rows()
        self[key] = rows
        return rows


def _sort_order(frame: Mapping[str, AnyArray]) -> npt.NDArray[np.intp]:
    # by person only, stably: within a person rows keep the order they were generated in,
    # which does not depend on the chunk (and a full sort by date costs 40 times more)
    return np.argsort(frame["person_id"], kind="stable")


def _text(values: npt.NDArray[np.int64], mapping: Mapping[int, str]) -> pa.Array:
    keys = np.array(sorted(mapping), dtype=np.int64)
    if keys.size == 0 or values.size == 0:
        return pa.nulls(values.size, pa.string())
    idx = np.searchsorted(keys, values)
    idx = np.minimum(idx, keys.size - 1)
    found = keys[idx] == values
    dictionary = pa.array([mapping[int(k)] for k in keys], type=pa.string())
    indices = pa.array(idx.astype(np.int32), mask=~found)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _column(values: AnyArray, typ: pa.DataType) -> pa.Array:
    if pa.types.is_floating(typ):
        return pa.array(values.astype(np.float64), from_pandas=True)
    missing = values == NA
    mask = missing if missing.any() else None
    if pa.types.is_date32(typ):
        return pa.array(values.astype(np.int32), type=pa.date32(), mask=mask)
    return pa.array(values.astype(np.int64), type=pa.int64(), mask=mask)


def to_arrow(
    table: str,
    frame: Mapping[str, AnyArray],
    *,
    id_start: int,
    text: Mapping[str, tuple[str, Mapping[int, str]]] | None = None,
    schema: pa.Schema | None = None,
) -> pa.Table:
    """Turn a chunk's columns into a sorted Arrow table of the CDM schema.

    Parameters
    ----------
    table : str
        CDM table name.
    frame : mapping of str to numpy.ndarray
        Columns from :meth:`Rows.frame`; must hold ``person_id`` unless empty.
    id_start : int
        First primary-key value of this chunk (the table's running row count plus one).
    text : mapping, optional
        ``{text_column: (concept_column, {concept_id: text})}`` for derived text columns.
    schema : pyarrow.Schema, optional
        The table's schema; default :func:`cdm_schema` of ``table``.

    Returns
    -------
    pyarrow.Table
    """
    schema = schema if schema is not None else cdm_schema(table)
    n = len(frame["person_id"]) if frame else 0
    order = _sort_order(frame) if n else np.arange(0)
    pk = load_cdm_spec().table(table).primary_key
    arrays = []
    for f in schema:
        if f.name in frame:
            arrays.append(_column(np.asarray(frame[f.name])[order], f.type))
        elif pk == f.name:
            arrays.append(pa.array(np.arange(id_start, id_start + n, dtype=np.int64)))
        elif text and f.name in text and text[f.name][0] in frame:
            source, mapping = text[f.name]
            arrays.append(_text(np.asarray(frame[source])[order].astype(np.int64), mapping))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
