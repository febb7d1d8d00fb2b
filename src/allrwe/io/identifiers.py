"""Schema and table names from configuration: plain identifiers only, never pasted as SQL.

The rule this module owns: a schema, table or column name allrwe did not write itself is a
plain identifier (letters, digits, underscores; at most 63 characters) or it is refused, so no
backend has to quote it.
"""

from __future__ import annotations

import re

from allrwe.errors import UsageError

__all__ = ["ibis_database", "validate_identifier", "validate_schema"]


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def validate_identifier(name: str, *, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise :class:`UsageError`.

    Schema and table names come from user configuration; allrwe never pastes them into SQL
    text, and rejects anything but letters, digits and underscores so no backend has to quote.

    Parameters
    ----------
    name : str
        The identifier to check.
    what : str, default "identifier"
        What the identifier names, for the message.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    UsageError
        If ``name`` is not a plain identifier.

    Examples
    --------
    >>> validate_identifier("cdm_54")
    'cdm_54'
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise UsageError(
            f"invalid {what} {name!r}: use letters, digits and underscores only "
            "(starting with a letter or underscore, at most 63 characters)"
        )
    return name


def validate_schema(name: str) -> str:
    """Return ``name`` if it is a schema or a two-part ``catalog.schema``, else raise.

    Parameters
    ----------
    name : str
        ``schema`` or ``catalog.schema`` (Spark with Unity Catalog, Databricks, Trino,
        Snowflake, DuckDB's ``file.main``); each part a plain identifier.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    UsageError
        More than two parts, or a part that is not a plain identifier.

    Examples
    --------
    >>> validate_schema("omop.cdm_54")
    'omop.cdm_54'
    """
    parts = name.split(".") if isinstance(name, str) else [name]
    if len(parts) > 2:
        raise UsageError(f"invalid schema name {name!r}: use schema or catalog.schema")
    for part in parts:
        validate_identifier(part, what="schema name")
    return name


def ibis_database(schema: str | None) -> str | tuple[str, str] | None:
    """Return the ``database=`` argument of Ibis for a schema: a name or (catalog, schema)."""
    if schema is None or "." not in schema:
        return schema
    catalog, name = schema.split(".")
    return (catalog, name)
