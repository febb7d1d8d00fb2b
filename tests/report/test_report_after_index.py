"""The report's table of outcomes by HSCT after index, from suppressed records."""

from __future__ import annotations

import pandas as pd

from allrwe.analyses.outcomes import after_index_records
from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.sections.after_index import after_index_table
from allrwe.results import ResultSet, suppress
from allrwe.spec import spec_from_text

SPEC = spec_from_text("""
name: t
index_groups: {INO: [inotuzumab_ozogamicin]}
study_period: {start: 2019-01-01, end: 2022-12-31}
outcomes:
  after_index: {endpoints: [os], landmarks_months: [1], horizon_months: 3}
""")
INDEX = pd.Timestamp("2020-01-01")
# (OS days, died, HSCT day or None): 6 transplanted by day 30, 12 not; deaths in both groups
PERSONS = [(200, 1, 20), (60, 1, 10), (300, 0, 25), (150, 1, 5), (90, 1, 15), (400, 0, 28)] + [
    (t, e, None) for t, e in ((40, 1), (45, 1), (70, 1), (80, 1), (120, 1), (130, 0),
                              (140, 1), (200, 1), (250, 0), (300, 1), (350, 0), (400, 0))
]  # fmt: skip


def _endpoints() -> pd.DataFrame:
    rows = []
    for pid, (time, died, hsct) in enumerate(PERSONS, start=1):
        common = {"person_id": pid, "group": "INO", "censor_variant": "none",
                  "status": "available", "start_date": INDEX}  # fmt: skip
        rows.append({**common, "endpoint": "os", "time_days": time, "event": died, "cause": died,
                     "end_date": INDEX + pd.Timedelta(days=time)})  # fmt: skip
        stop = time if hsct is None else hsct
        rows.append({**common, "endpoint": "time_to_hsct", "time_days": stop,
                     "event": int(hsct is not None), "cause": 1 if hsct else 2 * died,
                     "end_date": INDEX + pd.Timedelta(days=stop)})  # fmt: skip
    return pd.DataFrame(rows)


def _full(min_cell_count: int) -> list[tuple[str, ...]]:
    records = after_index_records(_endpoints(), SPEC)
    published = suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"), min_cell_count)
    table = after_index_table(Context(ResultView(published.records), ["INO"], min_cell_count),
                              "os", "km-os", 3.0)  # fmt: skip
    assert table is not None
    assert table.header[-2:] == ("Estimate (95% CI)", "Test")
    return [r.cells for r in table.rows]


def _table(min_cell_count: int) -> list[tuple[str, ...]]:
    return [r[1:4] for r in _full(min_cell_count)]


def test_rows_show_the_published_counts() -> None:
    # landmark day 30.4: all 6 transplanted by then are followed (4 die), and all 12 others
    # (first death on day 40; 8 die)
    assert _table(3)[:2] == [
        ("landmark 1 months, HSCT by then", "6", "4"),
        ("landmark 1 months, no HSCT by then", "12", "8"),
    ]
    cox = _table(3)[-1]
    assert cox == ("HSCT as a time-dependent covariate (Cox, robust SE)", "18", "12")


def test_rates_and_tests_are_the_records_formatted() -> None:
    records = after_index_records(_endpoints(), SPEC).set_index(
        ["analysis", "strata_level", "variable_level", "estimate_name"]
    )["value"]
    rows = _full(3)
    lm = ("after_index_landmark", "hsct", "landmark 1 months")
    s, lo, hi = (100 * records[(*lm, n)] for n in ("survival", "lower", "upper"))
    assert rows[0][4] == f"{s:.1f}% ({lo:.1f}, {hi:.1f})"
    p = records[("after_index_landmark", "overall", "landmark 1 months", "p")]
    assert rows[0][5] == rows[1][5] == f"log-rank p {p:.4f}"


def test_hidden_counts_show_as_a_dash() -> None:
    rows = _table(7)  # 6 transplanted < 7: hidden, and the 12 others as its complement
    assert rows[0] == ("landmark 1 months, HSCT by then", "–", "–")
    assert rows[1] == ("landmark 1 months, no HSCT by then", "–", "–")


def test_no_table_without_records() -> None:
    empty = ResultView(after_index_records(_endpoints(), SPEC).iloc[0:0])
    assert after_index_table(Context(empty, ["INO"], 5), "os", "km-os", 3.0) is None


RESPONSE_SPEC = spec_from_text("""
name: t
index_groups: {INO: [inotuzumab_ozogamicin]}
study_period: {start: 2019-01-01, end: 2022-12-31}
outcomes:
  after_index: {event: response, endpoints: [os], landmarks_months: [1], horizon_months: 3}
""")


def _response_endpoints() -> pd.DataFrame:
    # the same persons; those with a day in PERSONS reach CR that day (RFS starts then)
    rows = []
    for pid, (time, died, day) in enumerate(PERSONS, start=1):
        common = {"person_id": pid, "group": "INO", "censor_variant": "none",
                  "start_date": INDEX, "cause": died}  # fmt: skip
        end = INDEX + pd.Timedelta(days=time)
        rows.append({**common, "endpoint": "os", "time_days": time, "event": died,
                     "status": "available", "end_date": end})  # fmt: skip
        if day is not None:
            start = INDEX + pd.Timedelta(days=day)
            rows.append({**common, "endpoint": "rfs", "time_days": time - day, "event": died,
                         "status": "available", "start_date": start,
                         "end_date": INDEX + pd.Timedelta(days=time)})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_table_follows_the_response_event() -> None:
    records = after_index_records(_response_endpoints(), RESPONSE_SPEC)
    published = suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"), 3)
    table = after_index_table(Context(ResultView(published.records), ["INO"], 3),
                              "os", "km-os", 3.0, "response")  # fmt: skip
    assert table is not None
    assert table.caption == "Outcomes by response (CR/CRh/CRi) after index"
    cells = [r.cells[1:4] for r in table.rows]
    # the same split as by HSCT: 6 respond by day 30 (4 die), 12 do not (8 die)
    assert cells[:2] == [
        ("landmark 1 months, response (CR/CRh/CRi) by then", "6", "4"),
        ("landmark 1 months, no response (CR/CRh/CRi) by then", "12", "8"),
    ]
    assert cells[-1] == (
        "Response (CR/CRh/CRi) as a time-dependent covariate (Cox, robust SE)",
        "18",
        "12",
    )
