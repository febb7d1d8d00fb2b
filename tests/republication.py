"""Run the republication of hidden counts from a hand-made hidden state (tests/results)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import make_records
from allrwe.results.margin_tables import Margin
from allrwe.results.margins import parse_margins
from allrwe.results.republish import republish_headlines
from allrwe.results.suppression import _Hiding, cell_weights


def sex_by_ph(ph_minus_women: float = 9, ph_minus_men: float = 13) -> pd.DataFrame:
    """A group of 30 (12 women, 18 men) by Ph status: Ph+ 8 (3 women, 5 men), Ph- 22."""
    return make_records(
        analysis="baseline",
        strata_name=["overall"] * 3 + ["ph_status"] * 6,
        strata_level=["overall"] * 3 + ["Ph+"] * 3 + ["Ph-"] * 3,
        variable=["persons", "sex", "sex"] * 3,
        variable_level=["overall", "female", "male"] * 3,
        estimate_name="count",
        value=[30, 12, 18, 8, 3, 5, 22, ph_minus_women, ph_minus_men],
        margin=[
            "total:sex|total:ph",
            "sex|total:women",
            "sex|total:men",
            "ph|total:sex+",
            "sex+|women",
            "sex+|men",
            "ph|total:sex-",
            "sex-|women",
            "sex-|men",
        ],
    )


def inputs(records: pd.DataFrame) -> tuple[np.ndarray, dict[str, Margin], _Hiding]:
    """Return the values, the declared margins and the linked hiding of ``records``."""
    values = records["value"].to_numpy(dtype="float64")
    return values, parse_margins(records["margin"].tolist(), values), _Hiding(records)


def republish(
    records: pd.DataFrame, hidden: np.ndarray, columns: np.ndarray | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Republish from the hidden counts ``hidden`` (threshold 5; ``columns`` as it takes).

    Returns the hidden counts after, and the records as published (hidden values NaN, the
    records linked to hidden counts too).
    """
    values, margins, hiding = inputs(records)
    weights = cell_weights(records)
    out = republish_headlines(records, values, hidden, weights, 5, hiding, margins, columns=columns)
    return out, records.assign(value=np.where(out | hiding(out), np.nan, values))
