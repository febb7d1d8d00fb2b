"""Tests across the levels of a stratum: log-rank, Gray and a two-level Cox hazard ratio.

``survival_test`` (``logrank``; ``cox <level 2> vs <level 1>``: ``hr``, ``hr_lower``,
``hr_upper``, ``p``) and ``cumulative_incidence_test`` (``gray <cause>``): ``chisq``, ``df``,
``p``; with ``strata_level`` ``overall`` and ``variable_level`` the test.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._records import NUMERIC, Records, record_keys
from allrwe.analyses.outcomes.strata import OVERALL
from allrwe.analyses.survival import cox, gray_test, logrank
from allrwe.errors import AnalysisError

__all__ = ["stratum_tests"]

log = logging.getLogger(__name__)


def stratum_tests(rec: Records, group: str, var: str, time: np.ndarray, cause: np.ndarray,
                  name: str, column: np.ndarray, competing: tuple[str, str] | None,
                  min_n: int) -> None:  # fmt: skip
    """Add the tests across the levels of ``column`` (one stratum) of one endpoint and group.

    Log-rank (Gray per cause for a competing-risk endpoint) and, for two levels with events
    in both, Cox (reference = first level in sorted order). None when a level has fewer than
    ``min_n`` persons (its size is hidden) or the test cannot be computed.
    """
    levels = sorted(set(column.tolist()))
    if len(levels) < 2:
        return
    # A comparison against a level whose size is suppressed would be published beside a
    # hidden count (issue 19: a Cox HR against an INO group of "<5"): no test then.
    small = [lv for lv in levels if int((column == lv).sum()) < min_n]
    if small:
        log.info("outcomes: no test of %s across %s in group %s: %s below %d persons",
                 var, name, group, small, min_n)  # fmt: skip
        return
    keys: tuple[str, str, str, str] = (
        "cumulative_incidence_test" if competing else "survival_test",
        group,
        name,
        OVERALL,
    )
    try:
        if competing:
            for k, lab in enumerate(competing, 1):
                g = gray_test(time, cause, column, cause_of_interest=k)
                rec.add(
                    record_keys(*keys, var, f"gray {lab}"),
                    {"chisq": (NUMERIC, g.stat), "df": (NUMERIC, g.df), "p": (NUMERIC, g.p)},
                )
            return
        lr = logrank(time, cause > 0, column)
        rec.add(
            record_keys(*keys, var, "logrank"),
            {"chisq": (NUMERIC, lr.chisq), "df": (NUMERIC, lr.df), "p": (NUMERIC, lr.p)},
        )
        # A level without events makes the hazard ratio infinite: no Cox fit then.
        events = column[cause > 0]
        if len(levels) == 2 and all((events == lv).any() for lv in levels):
            _cox(rec, keys, var, time, cause > 0, column, levels)
    except AnalysisError as exc:
        log.info("outcomes: no test of %s across %s in group %s: %s", var, name, group, exc)


def _cox(
    rec: Records,
    keys: tuple[str, str, str, str],
    var: str,
    time: np.ndarray,
    event: np.ndarray,
    column: np.ndarray,
    levels: list[str],
) -> None:
    data = pd.DataFrame({"time": time, "event": event.astype("int64"),
                         "x": (column == levels[1]).astype("float64")})  # fmt: skip
    fit = cox(data, time="time", event="event", covariates=["x"])
    rec.add(record_keys(*keys, var, f"cox {levels[1]} vs {levels[0]}"), {
        "hr": (NUMERIC, fit.hazard_ratio[0]), "hr_lower": (NUMERIC, fit.lower[0]),
        "hr_upper": (NUMERIC, fit.upper[0]), "p": (NUMERIC, fit.p[0]),
    })  # fmt: skip
