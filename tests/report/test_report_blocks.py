"""Table headers: a group's N overall, a stratum's own n in a stratified table."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context, group_header, slug, stratum_size
from allrwe.report._view import ResultView
from allrwe.results import make_records


def _ctx() -> Context:
    records = pd.concat(
        [
            make_records(
                analysis="cohort", group="INO", variable="persons", estimate_name="count",
                value=219,
            ),
            make_records(
                analysis="baseline", group="INO", strata_name="line", strata_level=["1", "2"],
                variable="persons", variable_level="overall", estimate_name="count",
                value=[30, 189],
            ),
        ],
        ignore_index=True,
    )  # fmt: skip
    return Context(ResultView(records), ["INO"], 5)


def test_overall_table_is_headed_with_the_group_size():
    assert group_header(_ctx(), "INO") == "INO (N = 219)"
    assert group_header(_ctx(), "INO", ("overall", "overall")) == "INO (N = 219)"


def test_stratified_table_is_headed_with_the_stratum_size():
    assert group_header(_ctx(), "INO", ("line", "1")) == "INO (n = 30)"
    assert group_header(_ctx(), "INO", ("line", "2")) == "INO (n = 189)"
    # a stratum whose size is not published: the group alone, never the group's N
    assert group_header(_ctx(), "INO", ("line", "3")) == "INO"


def test_ids_of_levels_differing_by_a_sign_differ():
    assert slug("Ph+") == "ph-pos"
    assert slug("Ph-") == "ph-neg"
    assert slug("<35") == "lt-35"
    assert slug(">=55") == "ge-55"
    assert slug("35 to <55") == "35-to-lt-55"
    assert slug("re-induction") == "re-induction"


def _hidden_baseline_ctx(published_elsewhere: bool = True) -> Context:
    """Seed 001 on the 20k emr CDM: Table 1 hides ND's 128 and R/R's 71 persons (complementary
    suppression), the adverse-event analysis publishes them."""
    baseline = make_records(
        analysis="baseline", group="BLIN", strata_name="setting", strata_level=["ND", "R/R"],
        variable="persons", variable_level="overall", estimate_name="count", value=[128, 71],
    )  # fmt: skip
    baseline["suppressed"] = True
    baseline["value"] = float("nan")
    safety = make_records(
        analysis="safety_ae", group="BLIN", strata_name="setting", strata_level=["ND", "R/R"],
        variable="persons", variable_level="overall", estimate_name="count", value=[128, 71],
    )  # fmt: skip
    deaths = safety.assign(analysis="safety_deaths", suppressed=True, value=float("nan"))
    parts = [baseline, deaths, safety] if published_elsewhere else [baseline, deaths]
    return Context(ResultView(pd.concat(parts, ignore_index=True)), [], 5)


def test_a_stratum_size_hidden_in_table_1_is_read_where_it_is_published():
    ctx = _hidden_baseline_ctx()
    assert stratum_size(ctx, "BLIN", "setting", "ND").value == 128
    assert group_header(ctx, "BLIN", ("setting", "ND")) == "BLIN (n = 128)"
    assert group_header(ctx, "BLIN", ("setting", "R/R")) == "BLIN (n = 71)"
    # published nowhere: the hidden size is said in words, never a number
    nowhere = _hidden_baseline_ctx(published_elsewhere=False)
    size = stratum_size(nowhere, "BLIN", "setting", "ND")
    assert size.present
    assert size.suppressed
    assert not size.visible
    assert group_header(nowhere, "BLIN", ("setting", "ND")) == "BLIN (n not shown)"


def test_a_flow_box_whose_persons_are_hidden_says_so_in_words():
    from allrwe.report.model import Flow, FlowStep
    from allrwe.report.render.html import environment

    flow = Flow("flow-blin", "BLIN", (FlowStep("records", "–"), FlowStep("ALL", "88", "–")))
    macros = environment().get_template("_macros.html.j2").module
    html = str(macros.flow(flow))  # type: ignore[attr-defined]
    assert "records<br><strong>n not shown</strong>" in html
    assert "ALL<br><strong>n = 88</strong>" in html
    assert "excluded: –" in html
    assert "n = –" not in html
