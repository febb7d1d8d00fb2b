"""Table 2 on claims: every column headed with its size, unsupported cells "not available".

Modelled on the seed 000 example on a claims CDM (reviewer's run, issue #20): BLIN has 373
persons; Table 1 pools lines 4 and above (``>=4``), so lines 4 to 6 have no baseline size;
the survival analyses publish line 4's 43 persons and hide lines 5 and 6 (fewer than 5), with
every flag of those small strata. Claims hold no response labs: response and EFS are not
available for the group.
"""

from __future__ import annotations

import math

import pandas as pd
from planted import DEMO_SPEC

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.sections.efficacy import efficacy_tables
from allrwe.report.sections.response import rate_cell
from allrwe.results import make_records
from allrwe.spec import load_spec

_NAN = math.nan


def _hidden(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(value=_NAN, suppressed=True)


def _stratum(level: str, os_n: float | None, hidden: bool) -> list[pd.DataFrame]:
    """Records of one column: OS (available), EFS and response (not available on claims)."""
    keys = {
        "group": "BLIN",
        "strata_name": "overall" if level == "overall" else "line",
        "strata_level": level,
    }
    parts = [
        make_records(analysis="survival_summary", **keys, variable="efs",
                     estimate_name="available", value=0.0),
        make_records(analysis="response", **keys, variable="response",
                     estimate_name=["available", "denominator"], value=[0.0, _NAN]),
    ]  # fmt: skip
    if os_n is not None:
        os = make_records(analysis="survival_summary", **keys, variable="os",
                          estimate_name=["available", "n", "median_months",
                                         "median_lower_months", "median_upper_months"],
                          value=[1.0, os_n, 10.0, 8.0, 12.0])  # fmt: skip
        parts.append(os)
    return [_hidden(p) if hidden else p for p in parts]


def _context() -> Context:
    records = pd.concat(
        [
            make_records(analysis="cohort", group="BLIN", variable="persons",
                         estimate_name="count", value=373),
            *_stratum("overall", 373, hidden=False),
            *_stratum("4", 43, hidden=False),
            *_stratum("5", 4, hidden=True),
            *_stratum("6", None, hidden=True),
        ],
        ignore_index=True,
    )  # fmt: skip
    return Context(ResultView(records), ["BLIN"], 5)


def test_every_line_column_is_headed_with_its_size_or_says_it_is_not_shown():
    (table,) = efficacy_tables(_context(), load_spec(DEMO_SPEC))
    assert table.header == (
        "", "All (N = 373)", "Line 4 (n = 43)", "Line 5 (n not shown)", "Line 6 (n not shown)",
    )  # fmt: skip


def test_cells_the_claims_data_cannot_support_read_not_available_in_every_column():
    (table,) = efficacy_tables(_context(), load_spec(DEMO_SPEC))
    rows = [r.cells for r in table.rows]
    assert rows[0] == ("CR/CRh/CRi", *["not available"] * 4)
    efs = rows.index(("Event-free survival", "", "", "", ""))
    assert rows[efs + 1] == ("median, months (95% CI)", *["not available"] * 4)
    # OS is available: line 5's hidden median stays hidden, not "not available"
    os = rows.index(("Overall survival", "", "", "", ""))
    assert rows[os + 1][1:3] == ("10.0 (8.0, 12.0)", "10.0 (8.0, 12.0)")
    assert rows[os + 1][3] == "–"


def test_a_hidden_flag_defers_to_the_group_only_when_that_one_is_published():
    ctx = _context()
    assert rate_cell(ctx, "BLIN", "line", "5", "response", "overall") == "not available"
    records = ctx.view.frame("response")
    published = records[records["strata_name"] == "overall"].assign(value=1.0)
    hidden = records[records["strata_name"] != "overall"]
    both = Context(ResultView(pd.concat([published, hidden], ignore_index=True)), ["BLIN"], 5)
    assert rate_cell(both, "BLIN", "line", "5", "response", "overall") == "–"
