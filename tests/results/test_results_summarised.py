"""Curves on a fixed grid of days, for the summarised_result export."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results.summarised import _snake, curve_on_grid


def _curve(times: list[int], survival: list[float]) -> pd.DataFrame:
    rows = []
    for t, s in zip(times, survival, strict=True):
        rows += [
            {"variable_level": str(t), "estimate_name": "survival", "value": s},
            {"variable_level": str(t), "estimate_name": "time_days", "value": float(t)},
        ]
    return pd.DataFrame(rows)


def test_grid_reads_the_step_function_at_or_before_each_time() -> None:
    # times as strings sort "106" after "1009"; the grid reads them as numbers
    wide = curve_on_grid(_curve([0, 106, 29, 1009, 61], [1.0, 0.5, 0.9, 0.2, 0.7]))
    assert wide["time_days"].tolist() == list(range(0, 1009, 30))
    by_time = dict(zip(wide["time_days"], wide["survival"], strict=True))
    assert by_time[0] == 1.0
    assert by_time[30] == 0.9  # last change at day 29
    assert by_time[60] == 0.9
    assert by_time[90] == 0.7  # day 61
    assert by_time[120] == 0.5  # day 106
    assert by_time[990] == 0.5  # day 1009 is after the last grid point
    assert "time_days" in wide.columns
    assert list(wide.columns) == ["time_days", "survival"]


def test_grid_before_the_first_time_is_missing() -> None:
    wide = curve_on_grid(_curve([40, 70], [0.8, 0.6]), grid_days=30)
    assert wide["time_days"].tolist() == [0, 30, 60]
    assert np.isnan(wide["survival"][0])
    assert np.isnan(wide["survival"][1])  # day 30 is before the first time, 40
    assert wide["survival"][2] == 0.8


def test_snake_case_names() -> None:
    assert _snake("n persons (95% CI)") == "n_persons_95_ci"
    assert _snake("estimate_95CI_lower") == "estimate_95ci_lower"
