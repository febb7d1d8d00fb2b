"""Run the republication of hidden counts from a hand-made hidden state (tests/results)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results.margins import parse_margins
from allrwe.results.republish import republish_headlines
from allrwe.results.suppression import _Hiding, cell_weights


def republish(records: pd.DataFrame, hidden: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Republish from the hidden counts ``hidden`` (threshold 5).

    Returns the hidden counts after, and the records as published (hidden values NaN, the
    records linked to hidden counts too).
    """
    values = records["value"].to_numpy(dtype="float64")
    margins = parse_margins(records["margin"].tolist(), values)
    hiding = _Hiding(records)
    out = republish_headlines(records, values, hidden, cell_weights(records), 5, hiding, margins)
    return out, records.assign(value=np.where(out | hiding(out), np.nan, values))
