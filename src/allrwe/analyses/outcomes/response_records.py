"""Response rates as tidy result records (``allrwe.results`` shape)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from allrwe.analyses.outcomes._records import COUNT, NUMERIC, PERCENTAGE, Records, record_keys
from allrwe.analyses.outcomes.response import AVAILABLE
from allrwe.analyses.outcomes.strata import OVERALL

__all__ = ["response_records"]


def _pct(value: Any) -> float | None:
    return None if pd.isna(value) else 100.0 * float(value)


def response_records(rates: pd.DataFrame, *, analysis: str = "response") -> pd.DataFrame:
    """Turn :func:`~allrwe.analyses.outcomes.response_rates` output into result records.

    Each rate cell (``variable`` = rate name, ``variable_level`` ``overall``; for the best
    response distribution ``variable`` ``best_response`` and the level) gets ``count`` (the
    numerator) and ``denominator`` (counts), ``percentage``, ``lower``, ``upper`` (0–100,
    Clopper–Pearson) and ``available`` (1/0). Not-available rates carry only the
    denominator, if known, and ``available`` 0: never a 0 %. The best-response levels of a
    group and stratum form a margin (they add up to the denominator).

    Parameters
    ----------
    rates : pandas.DataFrame
        Rates by group and stratum.
    analysis : str, default "response"
        The ``analysis`` of the records.

    Returns
    -------
    pandas.DataFrame
        Records with the columns of ``allrwe.results.COLUMNS``.
    """
    rec = Records()
    for r in rates.itertuples(index=False):
        variable, level = str(r.variable), OVERALL
        if variable.startswith("best_response="):
            variable, level = variable.split("=", 1)
        keys = record_keys(analysis, str(r.group), str(r.strata_name), str(r.strata_level),
                           variable, level)  # fmt: skip
        margin = ""
        if variable == "best_response":
            margin = f"{analysis}/{r.group}/{r.strata_name}={r.strata_level}/{variable}"
        if r.status != AVAILABLE:
            rec.add(keys, {"denominator": (COUNT, r.denominator), "available": (NUMERIC, 0.0)})
            continue
        rec.add(keys, {"count": (COUNT, r.numerator)}, margin=margin)
        rec.add(keys, {
            "denominator": (COUNT, r.denominator), "percentage": (PERCENTAGE, _pct(r.estimate)),
            "lower": (PERCENTAGE, _pct(r.lower)), "upper": (PERCENTAGE, _pct(r.upper)),
            "available": (NUMERIC, 1.0),
        })  # fmt: skip
    return rec.frame()
