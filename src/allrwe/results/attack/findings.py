"""What the attacker reports: leaks, by record name, and the report of an attack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allrwe.results.attack.system import Key


def record_name(key: Key) -> str:
    """Return the readable name of a record key: ``analysis/group/strata=level/variable/...``.

    Parameters
    ----------
    key : tuple of str
        analysis, group, strata_name, strata_level, variable, variable_level, estimate_name.

    Returns
    -------
    str
    """
    a, g, sn, sl, v, vl, en = key
    return f"{a}/{g}/{sn}={sl}/{v}/{vl}/{en}"


@dataclass(frozen=True)
class Leak:
    """A hidden count the attacker pins inside ``(0, min_cell_count)``.

    Parameters
    ----------
    record : str
        The record (see :func:`record_name`).
    low, high : int
        The smallest and largest value the published numbers allow.
    families : tuple of str
        The kinds of constraint (:data:`FAMILIES`) that bound it.
    """

    record: str
    low: int
    high: int
    families: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the leak as a JSON-able dict."""
        return {
            "record": self.record,
            "low": self.low,
            "high": self.high,
            "families": list(self.families),
        }

    def describe(self) -> str:
        """Return a one-line description, e.g. ``"x = 2 (margin, rate)"``."""
        value = f"= {self.low}" if self.low == self.high else f"in [{self.low}, {self.high}]"
        return f"{self.record} {value} ({', '.join(self.families)})"


@dataclass(frozen=True)
class AttackReport:
    """What :func:`attack` found.

    Parameters
    ----------
    min_cell_count : int
        Hidden counts pinned in ``1 .. min_cell_count - 1`` are leaks.
    n_hidden : int
        Hidden count records.
    n_constraints : int
        Constraint rows the attacker wrote.
    leaks : tuple of Leak
        The leaks, by record name.
    recovered : tuple of str
        Hidden counts that subtraction alone (interval propagation) pins to one value of at
        least ``min_cell_count``: not a leak by itself, but that cell protects nothing.
    inconsistent : tuple of str
        Constraint families the published numbers contradict (their components are skipped;
        a sign that the attacker's model of a table is wrong).
    seconds : float
        Time taken.
    """

    min_cell_count: int
    n_hidden: int
    n_constraints: int
    leaks: tuple[Leak, ...]
    recovered: tuple[str, ...] = ()
    inconsistent: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """bool: True when no hidden count leaks."""
        return not self.leaks

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-able dict."""
        return {
            "min_cell_count": self.min_cell_count,
            "ok": self.ok,
            "n_hidden": self.n_hidden,
            "n_constraints": self.n_constraints,
            "leaks": [leak.to_dict() for leak in self.leaks],
            "recovered": list(self.recovered),
            "inconsistent": list(self.inconsistent),
        }
