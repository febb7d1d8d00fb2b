"""Scenario tests of the line-of-therapy rules, named by the lines they expect."""

from __future__ import annotations

import pandas as pd
import pytest

from allrwe.cohort import LineRoles, assign_lines, line_at, summarise_lines
from allrwe.errors import AnalysisError
from allrwe.spec import LinesSpec

DAY0 = pd.Timestamp("2020-01-01")
ROLES = LineRoles(
    gap_exempt=frozenset({"dasatinib"}),
    allowed_additions=frozenset({"dasatinib", "mercaptopurine", "methotrexate"}),
    line_defining=frozenset({"tisagenlecleucel", "car_t_infusion"}),
    lymphodepletion=frozenset({"fludarabine", "cyclophosphamide"}),
    transplant=frozenset({"allo_hsct"}),
)


def events(*rows: tuple[int, str, int, int]) -> pd.DataFrame:
    """Rows of (person, set key, start day, end day) counted from 2020-01-01."""
    return pd.DataFrame(
        [
            (p, key, DAY0 + pd.Timedelta(days=s), DAY0 + pd.Timedelta(days=e))
            for p, key, s, e in rows
        ],
        columns=["person_id", "concept_set", "start_date", "end_date"],
    )


def lines_of(frame: pd.DataFrame, params: LinesSpec | None = None, **kw: object) -> list[int]:
    out = assign_lines(frame, params or LinesSpec(), ROLES, **kw)  # type: ignore[arg-type]
    return out["line"].tolist()


def test_drugs_within_the_regimen_window_form_one_line() -> None:
    ev = events((1, "vincristine", 0, 0), (1, "daunorubicin", 0, 2), (1, "cytarabine", 28, 30))
    assert lines_of(ev) == [1, 1, 1]


def test_a_new_drug_after_the_window_starts_line_2() -> None:
    ev = events((1, "vincristine", 0, 0), (1, "cytarabine", 29, 30))
    out = assign_lines(ev, LinesSpec(), ROLES)
    assert out["line"].tolist() == [1, 2]
    assert out["reason"].tolist() == ["first", "new drug"]


def test_same_drug_after_a_gap_starts_a_new_line_unless_gap_is_longer() -> None:
    ev = events((1, "blinatumomab", 0, 27), (1, "blinatumomab", 88, 115))
    assert lines_of(ev) == [1, 2]  # 88 - 27 = 61 > 60
    assert lines_of(ev, LinesSpec(gap_days=180)) == [1, 1]
    ev = events((1, "blinatumomab", 0, 27), (1, "blinatumomab", 87, 115))
    assert lines_of(ev) == [1, 1]  # exactly 60 days: no new line


def test_tki_is_an_allowed_addition_and_exempt_from_gaps() -> None:
    ev = events(
        (1, "vincristine", 0, 0),
        (1, "dasatinib", 40, 69),  # added later: no new line
        (1, "dasatinib", 70, 99),
        (1, "dasatinib", 100, 129),
        (1, "vincristine", 120, 120),  # 120 days after the last non-TKI event: gap
    )
    assert lines_of(ev) == [1, 1, 1, 1, 2]


def test_maintenance_additions_keep_the_line() -> None:
    ev = events(
        (1, "vincristine", 0, 0),
        (1, "daunorubicin", 1, 3),
        (1, "mercaptopurine", 60, 87),
        (1, "methotrexate", 60, 87),
        (1, "vincristine", 88, 88),
    )
    assert lines_of(ev) == [1, 1, 1, 1, 1]


def test_car_t_opens_a_line_with_its_lymphodepletion() -> None:
    ev = events(
        (1, "cytarabine", -100, -96),
        (1, "fludarabine", 0, 0),
        (1, "fludarabine", 1, 1),
        (1, "cyclophosphamide", 0, 0),
        (1, "tisagenlecleucel", 6, 6),
        (1, "car_t_infusion", 6, 6),
    )
    out = assign_lines(ev, LinesSpec(), ROLES)
    assert out["line"].tolist() == [1, 2, 2, 2, 2, 2]
    assert out.loc[out["line"] == 2, "reason"].tolist() == ["line-defining", "", "", "", ""]
    summary = summarise_lines(out)
    assert summary["regimen"].tolist() == ["cytarabine", "car_t+cyclophosphamide+fludarabine"]
    assert summary["start_date"].tolist() == [DAY0 - pd.Timedelta(days=100), DAY0]


def test_car_t_opens_a_line_even_inside_the_regimen_window() -> None:
    ev = events((1, "cytarabine", 0, 4), (1, "tisagenlecleucel", 20, 20))
    assert lines_of(ev) == [1, 2]


def test_transplant_joins_the_current_line() -> None:
    ev = events((1, "fludarabine", 0, 3), (1, "allo_hsct", 50, 50), (1, "cytarabine", 70, 70))
    out = assign_lines(ev, LinesSpec(), ROLES)
    assert out["line"].tolist() == [1, 1, 2]
    assert summarise_lines(out)["has_transplant"].tolist() == [True, False]


def test_consolidation_in_remission_keeps_the_line() -> None:
    ev = events((1, "vincristine", 0, 0), (1, "blinatumomab", 60, 87))
    remission = pd.DataFrame(
        {"person_id": [1], "date": [DAY0 + pd.Timedelta(days=40)], "kind": ["remission"]}
    )
    assert lines_of(ev) == [1, 2]
    assert lines_of(ev, status=remission) == [1, 1]
    relapse = pd.concat(
        [
            remission,
            pd.DataFrame(
                {"person_id": [1], "date": [DAY0 + pd.Timedelta(days=55)], "kind": ["rr"]}
            ),
        ]
    )
    assert lines_of(ev, status=relapse) == [1, 2]
    assert lines_of(ev, LinesSpec(consolidation_keeps_line=False), status=remission) == [1, 2]
    assert lines_of(ev, LinesSpec(remission_memory_days=10), status=remission) == [1, 2]


def test_persons_are_independent_and_row_order_does_not_matter() -> None:
    ev = events(
        (1, "vincristine", 0, 0),
        (1, "cytarabine", 40, 40),
        (2, "blinatumomab", 5, 32),
        (2, "inotuzumab_ozogamicin", 100, 100),
        (2, "inotuzumab_ozogamicin", 107, 107),
        (3, "blinatumomab", 0, 6),
    )
    first = assign_lines(ev, LinesSpec(), ROLES)
    shuffled = assign_lines(ev.sample(frac=1.0, random_state=7), LinesSpec(), ROLES)
    pd.testing.assert_frame_equal(first, shuffled)
    assert first.groupby("person_id")["line"].max().to_dict() == {1: 2, 2: 2, 3: 1}


def test_line_defining_novel_agent_option() -> None:
    roles = LineRoles(line_defining=frozenset({"blinatumomab"}), line_defining_label="blin")
    ev = events((1, "vincristine", 0, 0), (1, "blinatumomab", 10, 37))
    assert assign_lines(ev, LinesSpec(), roles)["line"].tolist() == [1, 2]
    assert assign_lines(ev, LinesSpec(), ROLES)["line"].tolist() == [1, 1]


def test_line_at_exact_and_fallback() -> None:
    ev = events((1, "vincristine", 0, 0), (1, "blinatumomab", 100, 127))
    out = assign_lines(ev, LinesSpec(), ROLES)
    keys = [
        (1, "blinatumomab", DAY0 + pd.Timedelta(days=100)),
        (1, "inotuzumab_ozogamicin", DAY0 + pd.Timedelta(days=50)),  # latest line on or before
        (1, "vincristine", DAY0 - pd.Timedelta(days=1)),  # before any event
        (9, "blinatumomab", DAY0),  # unknown person
    ]
    assert line_at(out, keys) == [2, 1, None, None]


def test_missing_columns_and_empty_input() -> None:
    with pytest.raises(AnalysisError, match="lack column"):
        assign_lines(pd.DataFrame({"person_id": [1]}), LinesSpec(), ROLES)
    empty = assign_lines(events(), LinesSpec(), ROLES)
    assert empty.empty
    assert summarise_lines(empty).empty


def assigned_frame(*rows: tuple[int, str, int, int, str]) -> pd.DataFrame:
    """An :func:`assign_lines`-shaped frame from (person, drug, start day, line, reason) rows."""
    frame = pd.DataFrame(rows, columns=["person_id", "drug", "day", "line", "reason"])
    start = DAY0 + pd.to_timedelta(frame["day"], unit="D")
    return pd.DataFrame(
        {
            "person_id": frame["person_id"],
            "concept_set": frame["drug"],
            "drug": frame["drug"],
            "start_date": start,
            "end_date": start,
            "is_transplant": frame["drug"] == "allo_hsct",
            "line_defining": False,
            "line": frame["line"],
            "reason": frame["reason"],
        }
    )


def test_summarised_regimens_and_start_reasons_per_line() -> None:
    out = assigned_frame(
        (2, "vincristine", 0, 1, ""),  # no reason on the first event: the next one counts
        (2, "daunorubicin", 0, 1, "first"),
        (2, "vincristine", 5, 1, "gap"),
        (1, "vincristine", 0, 1, "first"),
        (1, "daunorubicin", 1, 1, ""),
        (1, "vincristine", 2, 1, ""),
        (1, "allo_hsct", 50, 2, ""),  # a line whose events give no reason
        (1, "cytarabine", 80, 3, "new drug"),
    )
    summary = summarise_lines(out)
    assert summary[["person_id", "line"]].values.tolist() == [[1, 1], [1, 2], [1, 3], [2, 1]]
    assert summary["regimen"].tolist() == [
        "daunorubicin+vincristine",
        "allo_hsct",
        "cytarabine",
        "daunorubicin+vincristine",
    ]
    assert summary["start_reason"].tolist() == ["first", "", "new drug", "first"]
    assert summary["n_events"].tolist() == [3, 1, 1, 3]
    assert summary["has_transplant"].tolist() == [False, True, False, False]


def test_line_at_takes_the_last_exact_event_and_the_highest_earlier_line() -> None:
    out = assigned_frame(
        (1, "cytarabine", 30, 3, ""),  # rows in no particular order
        (1, "vincristine", 0, 1, "first"),
        (1, "blinatumomab", 10, 2, "new drug"),
        (1, "blinatumomab", 10, 4, ""),  # same set and day again: the later row wins
        (2, "vincristine", 5, 1, "first"),
    )
    keys = [
        (1, "blinatumomab", DAY0 + pd.Timedelta(days=10)),
        (1, "dasatinib", DAY0 + pd.Timedelta(days=20)),  # lines 1, 2 and 4 before: 4
        (1, "dasatinib", DAY0 + pd.Timedelta(days=10)),  # same day counts
        (2, "dasatinib", DAY0 + pd.Timedelta(days=4)),
        (2, "vincristine", (DAY0 + pd.Timedelta(days=5)).date()),
    ]
    assert line_at(out, keys) == [4, 4, 4, None, 1]
    assert line_at(out, []) == []
    assert line_at(out.iloc[0:0], keys[:2]) == [None, None]
