"""The report's table of chemotherapy courses before index (``patterns.prior_chemo_course``)."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.sections.therapy import _chemo_courses
from allrwe.results import make_records
from allrwe.spec import spec_from_text

SHORT, LONGER, NONE = (
    "short-term chemotherapy (≤ 7 days)",
    "longer chemotherapy (> 7 days)",
    "no chemotherapy",
)
SPEC = (
    "name: s\nindex_groups: {BLIN: [blinatumomab]}\n"
    "study_period: {start: 2020-01-01, end: 2020-12-31}\n"
    "patterns: {therapy_by: [setting], prior_chemo_course: {short_max_days: 7}}\n"
)


def _view(cells: list[tuple[str, str, str, str, float, float | None]]) -> ResultView:
    """``(strata_name, strata_level, variable, level, count, percentage)``; NaN count: hidden."""
    parts = []
    for sn, sl, variable, level, n, pct in cells:
        rec = make_records(
            analysis="prior_chemo_course", group="BLIN", strata_name=sn, strata_level=sl,
            variable=variable, variable_level=level, estimate_name=["count", "percentage"],
            value=[n, pct],
        )  # fmt: skip
        rec["suppressed"] = pd.isna(n)
        parts.append(rec)
    return ResultView(pd.concat(parts, ignore_index=True))


def test_classes_with_their_share_in_cr_at_index_per_stratum() -> None:
    c, cr, nan = "prior_chemo_course", "in_cr_at_index", float("nan")
    view = _view(
        [
            ("overall", "overall", c, SHORT, 22.0, 68.75),
            ("overall", "overall", c, LONGER, 10.0, 31.25),
            ("overall", "overall", c, NONE, 0.0, 0.0),
            (c, SHORT, cr, "in CR at index", 10.0, 45.45),
            (c, SHORT, cr, "not in CR at index", 12.0, 54.55),
            (c, LONGER, cr, "in CR at index", 10.0, 100.0),
            (c, LONGER, cr, "not in CR at index", 0.0, 0.0),
            ("setting", "ND", c, SHORT, 20.0, 80.0),
            ("setting", "ND", c, LONGER, nan, nan),
            ("setting", "ND", c, NONE, nan, nan),
            (f"setting &&& {c}", f"ND &&& {SHORT}", cr, "in CR at index", 9.0, 45.0),
        ]
    )
    section = _chemo_courses(Context(view, ["BLIN"], 5), spec_from_text(SPEC))
    assert section is not None
    (table,) = [b for b in section.blocks if hasattr(b, "header")]
    assert [r.cells for r in table.rows] == [
        ("All", SHORT, "22 (68.8%)", "10 (45.5%)"),
        ("All", LONGER, "10 (31.2%)", "10 (100.0%)"),
        ("All", NONE, "0 (0.0%)", ""),
        ("Newly diagnosed", SHORT, "20 (80.0%)", "9 (45.0%)"),
        ("Newly diagnosed", LONGER, "–", ""),
        ("Newly diagnosed", NONE, "–", ""),
    ]
    assert "low intensity" not in " ".join(str(b) for b in section.blocks)


def test_no_section_without_the_option() -> None:
    spec = spec_from_text(SPEC.replace(", prior_chemo_course: {short_max_days: 7}", ""))
    view = _view([("overall", "overall", "prior_chemo_course", SHORT, 22.0, 68.75)])
    assert _chemo_courses(Context(view, ["BLIN"], 5), spec) is None
