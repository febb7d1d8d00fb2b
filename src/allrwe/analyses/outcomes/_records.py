"""A small collector of tidy result records (the long shape of :mod:`allrwe.results`).

The analyses layer may not import :mod:`allrwe.results`, so the record columns are repeated
here; ``tests/analyses/outcomes`` checks them against :func:`allrwe.results.validate_records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COUNT", "NUMERIC", "PERCENTAGE", "RECORD_COLUMNS", "Records", "label"]

#: Columns of a records table, in the order of ``allrwe.results.COLUMNS``.
RECORD_COLUMNS = ("analysis", "group", "strata_name", "strata_level", "variable",
                  "variable_level", "estimate_name", "estimate_type", "value", "suppressed",
                  "margin")  # fmt: skip
COUNT, NUMERIC, PERCENTAGE = "count", "numeric", "percentage"


def label(value: float) -> str:
    """Format a time or landmark for a ``variable_level`` (``12``, ``6.5``)."""
    return f"{value:g}"


@dataclass
class Records:
    """Collects records that share the cell keys given to :meth:`add`."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self,
        keys: dict[str, str],
        estimates: dict[str, tuple[str, Any]],
        margin: str = "",
    ) -> None:
        """Add one record per estimate: ``{name: (estimate_type, value)}``.

        ``margin`` is set on the count records only (the results model refuses it elsewhere).
        """
        for name, (kind, value) in estimates.items():
            number = np.nan if value is None or pd.isna(value) else float(value)
            self.rows.append(
                {**keys, "estimate_name": name, "estimate_type": kind, "value": number,
                 "suppressed": False, "margin": margin if kind == COUNT else ""}
            )  # fmt: skip

    def frame(self) -> pd.DataFrame:
        """Return the records as a DataFrame with :data:`RECORD_COLUMNS`."""
        out = pd.DataFrame(self.rows, columns=list(RECORD_COLUMNS))
        return out.astype({"value": "float64", "suppressed": "bool"})
