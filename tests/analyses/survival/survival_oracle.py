"""Access to the R golden files under tests/oracle (written by tests/oracle/golden_survival.R)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

ORACLE = Path(__file__).resolve().parents[2] / "oracle"
RTOL = 1e-8


@cache
def dataset(name: str) -> pd.DataFrame:
    """A dataset exactly as R exported it (same rows, same order)."""
    return pd.read_csv(ORACLE / "data" / f"{name}.csv")


@cache
def golden(name: str) -> pd.DataFrame:
    """A golden table from tests/oracle/survival."""
    return pd.read_csv(ORACLE / "survival" / f"{name}.csv", keep_default_na=False, na_values=["NA"])


def cases(name: str) -> list[dict]:
    """Rows of a *_cases.csv file as dicts (NaN for empty optional fields)."""
    return golden(name).to_dict("records")


def assert_r_close(actual, expected, *, rtol: float = RTOL, what: str = "") -> None:
    """Assert equal NaN/Inf placement and finite values within ``rtol`` of R's."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=f"{what}: NaN placement")
    np.testing.assert_array_equal(np.isinf(a), np.isinf(e), err_msg=f"{what}: Inf placement")
    finite = np.isfinite(e)
    np.testing.assert_array_equal(a[np.isinf(a)], e[np.isinf(e)], err_msg=f"{what}: Inf sign")
    np.testing.assert_allclose(a[finite], e[finite], rtol=rtol, atol=0, err_msg=what)
