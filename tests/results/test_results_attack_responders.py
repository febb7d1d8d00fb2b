"""The attacker knows the rates among responders (allrwe.analyses.outcomes.rates).

A transplant count among the responders has as denominator the responders' own count: a
published denominator gives away the responders' count hidden beside it.
"""

from __future__ import annotations

import math

import pandas as pd

from allrwe.results.attack import AttackReport, attack
from allrwe.results.model import COLUMNS

HIDDEN = math.nan
ALL = ("overall", "overall")
KEY = "response/BLIN/overall=overall/{}/overall/{}"


def _cell(variable: str, count: float, denominator: float) -> list[dict[str, object]]:
    rows = []
    for name, value in (("count", count), ("denominator", denominator)):
        fields = ["response", "BLIN", *ALL, variable, "overall", name, "count", value,
                  math.isnan(value), ""]  # fmt: skip
        rows.append(dict(zip(COLUMNS, fields, strict=True)))
    return rows


def _best(levels: dict[str, float], denominator: float) -> list[dict[str, object]]:
    rows = []
    for level, value in levels.items():
        for name, v in (("count", value), ("denominator", denominator)):
            fields = ["response", "BLIN", *ALL, "best_response", level, name, "count", v,
                      math.isnan(v), ""]  # fmt: skip
            rows.append(dict(zip(COLUMNS, fields, strict=True)))
    return rows


def _attack(rows: list[dict[str, object]]) -> AttackReport:
    return attack(pd.DataFrame(rows, columns=list(COLUMNS)), 5)


def test_transplant_denominator_gives_the_hidden_responder_count_away() -> None:
    # 40 responders in cycle 1, hidden (a complement); the transplant count among them shows
    # its denominator, 40, and so the count: recovered, though not small
    best = _best({"CR": 50.0, "CRh": 10.0, "CRi": 13.0, "NR": 15.0, "NE": 0.0}, 88.0)
    rows = [*best, *_cell("response", 73.0, 88.0), *_cell("response_first_cycle", HIDDEN, 88.0),
            *_cell("hsct_after_first_cycle_response", 12.0, 40.0)]  # fmt: skip
    report = _attack(rows)
    assert report.ok
    assert KEY.format("response_first_cycle", "count") in report.recovered
    # without the transplant cell the hidden count is only bounded by the responders (73)
    alone = _attack([*best, *_cell("response", 73.0, 88.0),
                     *_cell("response_first_cycle", HIDDEN, 88.0)])  # fmt: skip
    assert KEY.format("response_first_cycle", "count") not in alone.recovered
