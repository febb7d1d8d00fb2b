"""The response section: response and MRD rates with exact CIs, and the best response."""

from __future__ import annotations

from allrwe.analyses.outcomes import RATE_DEFINITIONS
from allrwe.analyses.outcomes.rates import IN_CR_AT_INDEX
from allrwe.report._blocks import (
    Context,
    group_header,
    make_table,
    na_text,
    slug,
    stratum_words,
    unsupported,
)
from allrwe.report._view import (
    NOT_APPLICABLE,
    NOT_ESTIMABLE,
    SUPPRESSED,
    Value,
    fmt_count,
    fmt_interval,
    level_sort_key,
)
from allrwe.report.model import Block, Details, Row, Section, Table
from allrwe.report.sections.survival import any_available
from allrwe.spec import StudySpec

__all__ = ["rate_cell", "response_section"]

_O = "overall"
#: the row of the persons in remission at index
IN_CR_LABEL = "In CR at the start of the index treatment (not evaluable for response)"


def _rate_label(name: str, spec: StudySpec) -> str:
    definition = RATE_DEFINITIONS.get(name)
    text = definition[2] if definition else name
    text = text.replace("N cycles", f"{spec.outcomes.response_within_cycles} cycles")
    # the records say "MRD < threshold"; a reader wants the threshold (seed 001: < 0.01%)
    return text.replace("MRD < threshold", f"MRD <{spec.outcomes.mrd_threshold_pct:g}%")


def rate_cell(ctx: Context, group: str, sn: str, sl: str, variable: str, level: str) -> str:
    """Return ``n/N, % (95% CI)`` of one response rate in one stratum, as shown."""

    def get(name: str) -> Value:
        return ctx.view.get("response", group, sn, sl, variable, level, name)

    if unsupported(ctx, "response", (group, sn, sl), variable, level):
        return "not available"
    count, den = get("count"), get("denominator")
    if count.suppressed or den.suppressed:
        return SUPPRESSED
    if not count.present:
        return NOT_ESTIMABLE
    if den.visible and den.value == 0:
        # nobody to assess (seed 001's consolidation column: everyone in CR at the start)
        return NOT_APPLICABLE
    ci = fmt_interval(get("percentage"), get("lower"), get("upper"), digits=1, suffix="%")
    return f"{fmt_count(count)}/{fmt_count(den)}, {ci}"


def _rate_table(ctx: Context, spec: StudySpec, sn: str, sl: str, tid: str, caption: str) -> Table:
    frame = ctx.view.frame("response")
    frame = frame[(frame["strata_name"] == sn) & (frame["strata_level"] == sl)]
    groups = ctx.present_groups("response")
    rates = [r for r in RATE_DEFINITIONS if r in set(frame["variable"])]
    rows = []
    if IN_CR_AT_INDEX in set(frame["variable"]):
        # persons already in remission at the start: not evaluable for response (seed 001
        # "NA"), left out of the response denominators below; their share is of everyone
        cells = (rate_cell(ctx, g, sn, sl, IN_CR_AT_INDEX, _O) for g in groups)
        rows.append(Row((IN_CR_LABEL, *cells), strong=True))
    rows += [
        Row((_rate_label(r, spec), *(rate_cell(ctx, g, sn, sl, r, _O) for g in groups)))
        for r in rates
    ]
    best = frame[frame["variable"] == "best_response"]
    if not best.empty:
        rows.append(Row(("Best response", *([""] * len(groups))), strong=True))
        for level in sorted(set(best["variable_level"]), key=level_sort_key):
            cells = (rate_cell(ctx, g, sn, sl, "best_response", level) for g in groups)
            rows.append(Row((level, *cells), indent=1))
    header = ["", *(group_header(ctx, g, (sn, sl)) for g in groups)]
    notes = (
        "n/N, % (95% CI): exact Clopper–Pearson intervals. Response: CR, CRh or CRi from "
        "bone-marrow blasts and blood counts (see Methods); NE at best response: no assessment. "
        "Persons in CR at the start (of all persons) are left out of the response "
        "denominators; MRD rates include them.",
    )
    return make_table(ctx, tid, caption, header, rows, notes)


def response_section(ctx: Context, spec: StudySpec) -> Section:
    """Response and MRD rates per group; "not available" without response labs (claims)."""
    title = "Response"
    reason = ctx.view.not_available("response")
    frame = ctx.view.frame("response")
    if reason is not None or frame.empty or not any_available(frame):
        why = reason or "the CDM holds no bone-marrow blast or blood-count results for the cohort"
        return Section("response", title, (na_text("Response", why),), (), False)
    blocks: list[Block] = [
        _rate_table(ctx, spec, _O, _O, "table-response", "Response to the index treatment")
    ]
    strata = frame[frame["strata_name"] != _O][["strata_name", "strata_level"]].drop_duplicates()
    folded = [
        _rate_table(
            ctx,
            spec,
            sn,
            sl,
            f"table-response-{slug(sn)}-{slug(sl)}",
            f"Response by {stratum_words(sn, sl)}",
        )
        for sn, sl in sorted(
            strata.itertuples(index=False, name=None), key=lambda k: (k[0], level_sort_key(k[1]))
        )
    ]
    if folded:
        blocks.append(Details("Response by stratum", tuple(folded)))
    return Section("response", title, tuple(blocks))
