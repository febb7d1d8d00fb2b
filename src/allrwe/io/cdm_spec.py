"""The OMOP CDM v5.4 specification as data: every table and field, its type and whether required.

The specification ships as ``allrwe/data/cdm/cdm54.json``, derived from the OHDSI
``OMOP_CDMv5.4_Field_Level.csv`` (the file's ``_meta`` block says which commit). Types are
logical: ``integer``, ``float``, ``date``, ``datetime`` and ``string``; how a database type maps
onto them is decided in :mod:`allrwe.io.check.structure`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, cast

from allrwe.errors import CdmSchemaError

__all__ = [
    "REQUIRED_TABLES",
    "CdmSpec",
    "FieldSpec",
    "FieldType",
    "TableSpec",
    "load_cdm_spec",
]

FieldType = Literal["integer", "float", "date", "datetime", "string"]

#: tables every CDM must hold for allrwe to run
REQUIRED_TABLES = ("person", "observation_period")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a CDM table.

    Parameters
    ----------
    name : str
        Lower-case field name.
    type : {"integer", "float", "date", "datetime", "string"}
        Logical type.
    required : bool
        Whether the CDM specification marks the field required (NOT NULL).
    primary_key : bool
        Whether the field is the table's primary key.
    """

    name: str
    type: FieldType
    required: bool
    primary_key: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One CDM table: its group (clinical, vocabulary, ...) and fields in specification order."""

    name: str
    group: str
    fields: tuple[FieldSpec, ...]

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.fields)

    def __iter__(self) -> Iterator[FieldSpec]:
        return iter(self.fields)

    @property
    def columns(self) -> list[str]:
        """Field names in specification order."""
        return [f.name for f in self.fields]

    @property
    def required_fields(self) -> list[FieldSpec]:
        """Fields the specification marks required."""
        return [f for f in self.fields if f.required]

    @property
    def primary_key(self) -> str | None:
        """Name of the primary-key field, or None for tables without one (death, cohort...)."""
        return next((f.name for f in self.fields if f.primary_key), None)

    def field(self, name: str) -> FieldSpec:
        """Return field ``name``.

        Raises
        ------
        CdmSchemaError
            If the table has no such field.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise CdmSchemaError(f"table {self.name!r} has no field {name!r} in OMOP CDM v5.4")


@dataclass(frozen=True)
class CdmSpec:
    """The OMOP CDM specification: tables by name, plus where it came from.

    Parameters
    ----------
    version : str
        CDM version, ``"5.4"``.
    source : str
        Provenance of the specification data.
    tables : Mapping[str, TableSpec]
        Tables by lower-case name, in specification order.
    """

    version: str
    source: str
    tables: Mapping[str, TableSpec]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.tables

    def table(self, name: str) -> TableSpec:
        """Return table ``name`` (case-insensitive).

        Raises
        ------
        CdmSchemaError
            If OMOP CDM v5.4 has no such table.
        """
        try:
            return self.tables[name.lower()]
        except KeyError:
            raise CdmSchemaError(f"OMOP CDM v5.4 has no table {name!r}") from None

    def by_group(self, group: str) -> list[TableSpec]:
        """Tables of one group (``clinical``, ``vocabulary``, ``derived`` ...), in spec order."""
        return [t for t in self.tables.values() if t.group == group]


@lru_cache(maxsize=1)
def load_cdm_spec() -> CdmSpec:
    """Load the bundled OMOP CDM v5.4 specification.

    Returns
    -------
    CdmSpec
        Every table and field of OMOP CDM v5.4.

    Examples
    --------
    >>> spec = load_cdm_spec()
    >>> spec.table("drug_exposure").field("drug_exposure_start_date").type
    'date'
    >>> spec.table("person").primary_key
    'person_id'
    """
    text = resources.files("allrwe.data").joinpath("cdm/cdm54.json").read_text("utf-8")
    data = json.loads(text)
    tables = {
        name: TableSpec(
            name=name,
            group=str(body["group"]),
            fields=tuple(
                FieldSpec(str(f[0]), cast(FieldType, f[1]), bool(f[2]), bool(f[3]))
                for f in body["fields"]
            ),
        )
        for name, body in data["tables"].items()
    }
    meta = data["_meta"]
    return CdmSpec(version=str(meta["cdm_version"]), source=str(meta["source"]), tables=tables)
