"""Field paths of a study spec, and how messages show them and the values found there.

A field path is the tuple of keys and list positions from the top of the YAML file to a value,
e.g. ``("inclusion", "exclusions", 0, "concept_sets")``. This module owns the one rule every
spec message follows: a path is shown dotted with list positions in brackets
(``inclusion.exclusions[0].concept_sets``), with the YAML line of the path or, when the path
is not written in the file (a default), of its nearest written ancestor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

__all__ = ["Path_", "dotted", "resolve_line", "show_value"]

#: a field path: mapping keys (str) and list positions (int), from the top of the spec
Path_ = tuple[str | int, ...]


def dotted(path: Path_) -> str:
    """Return ``path`` as written in messages.

    Examples
    --------
    >>> dotted(("inclusion", "exclusions", 0, "concept_sets"))
    'inclusion.exclusions[0].concept_sets'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def resolve_line(lines: Mapping[Path_, int], loc: Path_) -> int | None:
    """Return the YAML line of ``loc``, or of its nearest ancestor written in the file.

    Parts of ``loc`` that are not in the YAML (pydantic adds union tags such as
    ``'infusion'`` to error locations) are skipped.
    """
    found: Path_ = ()
    for part in loc:
        candidate = (*found, part)
        if candidate in lines:
            found = candidate
    return lines.get(found)


def show_value(value: Any) -> str:
    """Return ``value`` as a message quotes it: YAML's booleans, ISO dates, at most 60 chars.

    Examples
    --------
    >>> show_value(True), show_value(date(2021, 2, 1)), show_value("x")
    ('true', '2021-02-01', "'x'")
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, date) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
