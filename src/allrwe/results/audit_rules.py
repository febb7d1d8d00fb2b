"""The audit's rules on data already in memory.

Which names identify persons or look like counts, and which cells of a table or JSON document
break the disclosure rules. Functions return hits ``(location, rule, count)``;
:mod:`allrwe.results.audit` reads the files and turns hits into findings.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "Columns",
    "Hit",
    "is_count_header",
    "is_person_identifier",
    "scan_columns",
    "scan_json",
    "table_from_rows",
]

_PERSON_NAMES = frozenset(
    {
        "person_id",
        "subject_id",
        "patient_id",
        "birth_datetime",
        "year_of_birth",
        "month_of_birth",
        "day_of_birth",
    }
)
_COUNT_NAMES = frozenset(
    {"n", "count", "freq", "frequency", "persons", "records", "subjects", "patients"}
)
_COUNT_PREFIXES = ("n_", "number_", "count_")
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:\([^)]*\))?\s*%?\s*$")
_MAX_ROWS_LISTED = 5

#: a table as (header, values) pairs by position
Columns = list[tuple[str, list[Any]]]
#: a hit: (location, rule, count)
Hit = tuple[str, str, int]


def _normalise(name: Any) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def is_person_identifier(name: str) -> bool:
    """Return whether a column or key name identifies persons.

    Parameters
    ----------
    name : str
        Header or key; compared case-insensitively, with spaces and punctuation as ``_``.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_person_identifier("Person ID"), is_person_identifier("person_source_value")
    (True, True)
    """
    norm = _normalise(name)
    return norm in _PERSON_NAMES or norm.endswith("person_source_value")


def is_count_header(name: str) -> bool:
    """Return whether a column or key name looks like a count of persons or records.

    Parameters
    ----------
    name : str
        Header or key, e.g. ``"n"``, ``"n (%)"``, ``"n_risk"``, ``"Number at risk"``.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_count_header("n (%)"), is_count_header("Number at risk"), is_count_header("mean")
    (True, True, False)
    """
    norm = _normalise(name)
    return norm in _COUNT_NAMES or norm.startswith(_COUNT_PREFIXES)


def _cell_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, str):
        match = _NUMBER.match(value)
        return float(match.group(1)) if match else None
    return None


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_LISTED])
    return shown + (", …" if len(rows) > _MAX_ROWS_LISTED else "")


def _count_column_hits(values: list[Any], minimum: int) -> list[int] | None:
    numbers = [_cell_number(v) for v in values]
    present = [x for x in numbers if x is not None]
    # A column with fractions holds statistics, not counts.
    if not present or any(not x.is_integer() for x in present):
        return None
    return [i for i, x in enumerate(numbers) if x is not None and 1 <= x < minimum]


def _is_present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float):
        return not math.isnan(value)
    return not (isinstance(value, str) and not value.strip())


def _long_count_rows(columns: Columns, minimum: int) -> tuple[str, list[int]] | None:
    by_name: dict[str, tuple[str, list[Any]]] = {}
    for name, values in columns:
        by_name.setdefault(_normalise(name), (name, values))
    value_key = "value" if "value" in by_name else "estimate_value"
    if "estimate_type" not in by_name or value_key not in by_name:
        return None
    types = [str(t).strip().lower() for t in by_name["estimate_type"][1]]
    names = [str(n) for n in by_name.get("estimate_name", ("", [""] * len(types)))[1]]
    value_name, values = by_name[value_key]
    rows = []
    for i, (kind, name, value) in enumerate(zip(types, names, values, strict=False)):
        # omopgenerics writes counts as estimate_type "integer" with a count-like name.
        counted = kind == "count" or (kind == "integer" and is_count_header(name))
        number = _cell_number(value) if counted else None
        if number is not None and 1 <= number < minimum:
            rows.append(i)
    return value_name, rows


def scan_columns(columns: Columns, row_numbers: list[int], prefix: str, minimum: int) -> list[Hit]:
    """Scan a table for person-identifier columns and small counts.

    Parameters
    ----------
    columns : list of (str, list)
        The table as (header, values) pairs by position.
    row_numbers : list of int
        The number to report for each data row (a file line, a sheet row).
    prefix : str
        Put before each location, e.g. ``"sheet 'baseline', "``.
    minimum : int
        Counts from 1 to ``minimum - 1`` are small.

    Returns
    -------
    list of tuple
        Hits ``(location, rule, count)``.
    """
    hits: list[Hit] = []
    for name, values in columns:
        if is_person_identifier(name):
            present = sum(1 for v in values if _is_present(v))
            hits.append((f"{prefix}column {name!r}", "person_identifier", present))
        elif is_count_header(name):
            rows = _count_column_hits(values, minimum)
            if rows:
                numbers = [row_numbers[i] for i in rows]
                where = f"{prefix}column {name!r}, rows {_rows_text(numbers)}"
                hits.append((where, "small_cell", len(rows)))
    long_rows = _long_count_rows(columns, minimum)
    if long_rows and long_rows[1]:
        value_name, rows = long_rows
        numbers = [row_numbers[i] for i in rows]
        where = f"{prefix}column {value_name!r} (estimate_type count), rows {_rows_text(numbers)}"
        hits.append((where, "small_cell", len(rows)))
    return hits


def table_from_rows(header: list[Any], rows: list[list[Any]]) -> Columns:
    """Turn a header and ragged rows into (header, values) pairs, padding with None."""
    width = max([len(header), *(len(r) for r in rows)])
    names = [("" if h is None else str(h)) for h in header] + [""] * (width - len(header))
    if all(len(r) == width for r in rows):
        padded = rows  # nothing to pad: the usual case, and copying every row is slow
    else:
        padded = [list(r) + [None] * (width - len(r)) for r in rows]
    return [(names[j], [r[j] for r in padded]) for j in range(width)]


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for v in node.values() if not isinstance(v, dict | list)]
    if isinstance(node, list):
        return [v for v in node if not isinstance(v, dict | list)]
    return [node]


def _small(value: Any, minimum: int) -> bool:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return number is not None and float(number).is_integer() and 1 <= number < minimum


def _json_long_record_small(node: dict[str, Any], minimum: int) -> bool:
    kind = str(node.get("estimate_type", "")).lower()
    counted = kind == "count" or (
        kind == "integer" and is_count_header(str(node.get("estimate_name", "")))
    )
    value = node.get("value", node.get("estimate_value"))
    number = _cell_number(value) if counted else None
    return number is not None and 1 <= number < minimum


def _walk_json(node: Any, path: str, minimum: int, found: dict[tuple[str, str], int]) -> None:
    def add(location: str, rule: str, count: int) -> None:
        if count:
            found[(location, rule)] = found.get((location, rule), 0) + count

    if isinstance(node, list):
        for item in node:
            _walk_json(item, f"{path}[*]", minimum, found)
        return
    if not isinstance(node, dict):
        return
    if "estimate_type" in node and ("value" in node or "estimate_value" in node):
        small = int(_json_long_record_small(node, minimum))
        add(f"{path} (estimate_type count)", "small_cell", small)
    for key, value in node.items():
        where = f"{path}.{key}"
        if is_person_identifier(key):
            add(where, "person_identifier", sum(1 for v in _leaves(value) if _is_present(v)))
            continue
        if is_count_header(key):
            add(where, "small_cell", sum(1 for v in _leaves(value) if _small(v, minimum)))
        _walk_json(value, where, minimum, found)


def scan_json(data: Any, minimum: int) -> list[Hit]:
    """Scan a parsed JSON document for small counts and person-identifier keys.

    Parameters
    ----------
    data : Any
        The document, as returned by :func:`json.loads`.
    minimum : int
        Counts from 1 to ``minimum - 1`` are small.

    Returns
    -------
    list of tuple
        Hits ``(location, rule, count)``; locations are JSON paths with ``[*]`` for list
        items, so all items of a list add up in one hit.
    """
    found: dict[tuple[str, str], int] = {}
    _walk_json(data, "$", minimum, found)
    return [(location, rule, count) for (location, rule), count in found.items()]
