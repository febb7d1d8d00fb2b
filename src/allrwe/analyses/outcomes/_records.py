"""A small collector of tidy result records (the long shape of :mod:`allrwe.results`).

The analyses layer may not import :mod:`allrwe.results`, so the record columns are repeated
here; ``tests/analyses/outcomes`` checks them against :func:`allrwe.results.validate_records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "COUNT",
    "NUMERIC",
    "PERCENTAGE",
    "RECORD_COLUMNS",
    "Records",
    "label",
    "labels",
    "record_keys",
    "table_keys",
]

#: Columns of a records table, in the order of ``allrwe.results.COLUMNS``.
RECORD_COLUMNS = ("analysis", "group", "strata_name", "strata_level", "variable",
                  "variable_level", "estimate_name", "estimate_type", "value", "suppressed",
                  "margin")  # fmt: skip
COUNT, NUMERIC, PERCENTAGE = "count", "numeric", "percentage"

#: One column of :meth:`Records.add_table`: ``(analysis, estimate_name, estimate_type, values)``.
TableColumn = tuple[str, str, str, npt.ArrayLike]


def label(value: float) -> str:
    """Format a time or landmark for a ``variable_level`` (``12``, ``6.5``)."""
    return f"{value:g}"


def labels(values: npt.ArrayLike) -> list[str]:
    """Format times or landmarks as :func:`label` does, one per value.

    Examples
    --------
    >>> labels([0.0, 6.5, 12.0])
    ['0', '6.5', '12']
    """
    return [label(v) for v in np.asarray(values, dtype="float64").tolist()]


def record_keys(
    analysis: str, group: str, name: str, level: str, variable: str, var_level: str
) -> dict[str, str]:
    """Return the key columns of one record cell, in :data:`RECORD_COLUMNS` order."""
    return {"analysis": analysis, "group": group, "strata_name": name, "strata_level": level,
            "variable": variable, "variable_level": var_level}  # fmt: skip


def table_keys(key: tuple[str, str, str, str]) -> dict[str, str]:
    """Return the keys shared by a table's cells from ``(group, strata_name, level, variable)``."""
    group, name, level, var = key
    return {"group": group, "strata_name": name, "strata_level": level, "variable": var}


def _number(value: Any) -> float:
    return np.nan if value is None or pd.isna(value) else float(value)


def _empty_columns() -> dict[str, list[Any]]:
    return {c: [] for c in RECORD_COLUMNS}


@dataclass
class Records:
    """Collects records column by column, in the order they are added."""

    columns: dict[str, list[Any]] = field(default_factory=_empty_columns)

    def add(
        self,
        keys: dict[str, str],
        estimates: dict[str, tuple[str, Any]],
        margin: str = "",
    ) -> None:
        """Add one record per estimate: ``{name: (estimate_type, value)}``.

        ``margin`` is set on the count records only (the results model refuses it elsewhere).
        """
        n = len(estimates)
        cols = self.columns
        for key in ("analysis", "group", "strata_name", "strata_level", "variable",
                    "variable_level"):  # fmt: skip
            cols[key].extend([keys[key]] * n)
        for name, (kind, value) in estimates.items():
            cols["estimate_name"].append(name)
            cols["estimate_type"].append(kind)
            cols["value"].append(_number(value))
            cols["margin"].append(margin if kind == COUNT else "")
        cols["suppressed"].extend([False] * n)

    def add_table(
        self, keys: dict[str, str], levels: Sequence[str], table: Sequence[TableColumn]
    ) -> None:
        """Add, for each ``variable_level`` in turn, one record per column of ``table``.

        The records come in the order of ``len(levels)`` calls of :meth:`add` (one per column,
        for the level), without a margin.

        Parameters
        ----------
        keys : dict of str to str
            ``group``, ``strata_name``, ``strata_level`` and ``variable`` of every record.
        levels : sequence of str
            The ``variable_level`` of each row of ``table``.
        table : sequence of (analysis, estimate_name, estimate_type, values)
            The columns; ``values`` has one number per level (NaN = missing).
        """
        n, k = len(levels), len(table)
        if n == 0 or k == 0:
            return
        values = np.column_stack([np.asarray(c[3], dtype="float64") for c in table])
        cols = self.columns
        for key in ("group", "strata_name", "strata_level", "variable"):
            cols[key].extend([keys[key]] * (n * k))
        for key, position in (("analysis", 0), ("estimate_name", 1), ("estimate_type", 2)):
            cols[key].extend([c[position] for c in table] * n)
        cols["variable_level"].extend(np.repeat(np.asarray(levels, dtype=object), k).tolist())
        cols["value"].extend(values.ravel().tolist())
        cols["suppressed"].extend([False] * (n * k))
        cols["margin"].extend([""] * (n * k))

    def frame(self) -> pd.DataFrame:
        """Return the records as a DataFrame with :data:`RECORD_COLUMNS`."""
        # Without records, columns of empty lists would be float64: keep them object.
        data = self.columns if self.columns["value"] else []
        out = pd.DataFrame(data, columns=list(RECORD_COLUMNS))
        return out.astype({"value": "float64", "suppressed": "bool"})
