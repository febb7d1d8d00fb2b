"""The audit's rules on data already in memory.

Which names identify persons or look like counts, and which cells of a table or JSON document
break the disclosure rules. Functions return hits ``(location, rule, count)``;
:mod:`allrwe.results.audit` reads the files and turns hits into findings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

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


def _objects(values: list[Any]) -> np.ndarray:
    """Return the values as a one-dimensional object array (lists stay single cells)."""
    return pd.Series(values, dtype=object).to_numpy()


def _distinct_strings(values: list[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """Return codes and distinct values if every present value is a ``str``, else ``None``.

    ``None`` and NaN get code -1.
    """
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    codes, uniques = pd.factorize(_objects(values))
    return codes, uniques


def _each(values: list[Any], function: Callable[[Any], Any], dtype: type) -> np.ndarray:
    """Return ``function(v)`` for each value, computed once per distinct string if all are.

    Parameters
    ----------
    values : list
        Cells of one column.
    function : callable
        A pure function of one cell.
    dtype : type
        The dtype of the result (``bool`` or ``float``).

    Returns
    -------
    numpy.ndarray
        One result per value. A column of strings (with gaps) costs one call per distinct
        string and one for a gap, provided that ``None`` and NaN give the same result; any
        other column costs one call per value.
    """
    distinct = _distinct_strings(values)
    gap = function(None)
    if distinct is None or not _same(gap, function(math.nan)):
        return np.array([function(v) for v in values], dtype=dtype)
    codes, uniques = distinct
    results: np.ndarray = np.array([*(function(u) for u in uniques.tolist()), gap], dtype=dtype)
    return results[codes]  # code -1, a gap, takes the last result


def _same(a: Any, b: Any) -> bool:
    """Return whether two results are equal, NaN equal to NaN."""
    return bool(a == b) or (a != a and b != b)


def _number_or_nan(value: Any) -> float:
    number = _cell_number(value)
    return math.nan if number is None else number


def _numbers(values: list[Any]) -> np.ndarray:
    """Return :func:`_cell_number` of each value as floats, NaN for no number."""
    if pd.api.types.infer_dtype(values, skipna=True) == "floating":
        # Floats (with gaps) are their own numbers; None becomes NaN.
        return np.asarray(values, dtype=np.float64)
    return _each(values, _number_or_nan, float)


def _small_numbers(numbers: np.ndarray, minimum: int) -> np.ndarray:
    """Return which numbers (NaN: none) are counts from 1 to ``minimum - 1``."""
    return ~np.isnan(numbers) & (numbers >= 1) & (numbers < minimum)


def _count_column_hits(values: list[Any], minimum: int) -> list[int] | None:
    numbers = _numbers(values)
    present = numbers[~np.isnan(numbers)]
    # A column with fractions holds statistics, not counts.
    if not present.size or not bool((np.isfinite(present) & (present == np.trunc(present))).all()):
        return None
    return np.flatnonzero(_small_numbers(numbers, minimum)).tolist()


def _is_present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float):
        return not math.isnan(value)
    return not (isinstance(value, str) and not value.strip())


def _kind_is(kind: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return str(value).strip().lower() == kind

    return check


def _names_count(value: Any) -> bool:
    return is_count_header(str(value))


def _long_count_rows(columns: Columns, minimum: int) -> tuple[str, list[int]] | None:
    by_name: dict[str, tuple[str, list[Any]]] = {}
    for name, values in columns:
        by_name.setdefault(_normalise(name), (name, values))
    value_key = "value" if "value" in by_name else "estimate_value"
    if "estimate_type" not in by_name or value_key not in by_name:
        return None
    types = by_name["estimate_type"][1]
    value_name, values = by_name[value_key]
    names = by_name["estimate_name"][1] if "estimate_name" in by_name else [""] * len(types)
    n = min(len(types), len(names), len(values))  # rows of the shortest column
    # omopgenerics writes counts as estimate_type "integer" with a count-like name.
    counted = _each(types[:n], _kind_is("count"), bool)
    integer = _each(types[:n], _kind_is("integer"), bool)
    if integer.any():
        counted |= integer & _each(names[:n], _names_count, bool)
    rows = np.flatnonzero(counted)
    small = _small_numbers(_numbers(_objects(values[:n])[rows].tolist()), minimum)
    return value_name, rows[small].tolist()


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
            present = int(_each(values, _is_present, bool).sum())
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
