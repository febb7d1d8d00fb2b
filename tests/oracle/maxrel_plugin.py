"""pytest plugin that reports the largest relative difference to R seen by the oracle tests.

Usage (figures quoted in commit messages and docs/survival.md)::

    PYTHONPATH=src:tests/oracle:tests/analyses/survival \\
        python -m pytest -q -p maxrel_plugin tests/analyses/survival/test_cox_ext_vs_r.py

Every call of ``survival_oracle.assert_r_close`` records ``max |ours - R| / |R|`` over the
finite, non-zero golden values; the maximum is printed after the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import survival_oracle

_seen = {"rel": 0.0, "n": 0}
_assert = survival_oracle.assert_r_close


def _recording(actual: Any, expected: Any, **kwargs: Any) -> None:
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    ok = np.isfinite(e) & (e != 0) & np.isfinite(a)
    if ok.any():
        rel = np.abs(a[ok] - e[ok]) / np.abs(e[ok])
        _seen["rel"] = max(_seen["rel"], float(rel.max()))
        _seen["n"] += int(ok.sum())
    _assert(actual, expected, **kwargs)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Route each test module's ``assert_r_close`` through the recorder."""
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "assert_r_close"):
            module.assert_r_close = _recording


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the maximum relative difference."""
    terminalreporter.write_line(
        f"max relative difference to R: {_seen['rel']:.3g} over {_seen['n']} values"
    )
