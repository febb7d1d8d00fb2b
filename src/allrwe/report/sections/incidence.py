"""The cumulative-incidence section: time to allogeneic HSCT, relapse vs non-relapse mortality."""

from __future__ import annotations

from allrwe.analyses.outcomes import COMPETING_ENDPOINTS
from allrwe.report._blocks import Context, make_table, na_text, slug
from allrwe.report._view import SUPPRESSED, Value, fmt_count, fmt_interval
from allrwe.report.model import Block, Details, Row, Section, Text
from allrwe.report.sections.survival import (
    WITHHELD_NOTE,
    any_available,
    curve_figure,
    endpoint_order,
    endpoint_title,
    stat_test_rows,
)
from allrwe.spec import StudySpec

__all__ = ["cumulative_incidence_section"]

_O = "overall"
_CIF_TITLES = {
    "time_to_hsct": "Time to allogeneic HSCT",
    "time_to_car_t": "Time to CAR-T",
    "relapse_nrm": "Relapse and non-relapse mortality",
}


def _cif_row(
    ctx: Context, spec: StudySpec, variable: str, causes: tuple[str, ...], group: str
) -> tuple[Row, bool]:
    """Return a group's row and whether one of its landmark incidences is withheld."""

    def get(analysis: str, name: str, level: str = _O) -> Value:
        return ctx.view.get(analysis, group, _O, _O, variable, level, name)

    withheld = False
    cells = [fmt_count(get("cumulative_incidence_summary", "n"))]
    cells += [fmt_count(get("cumulative_incidence_summary", f"n_event_{c}")) for c in causes]
    for m in spec.outcomes.landmarks_months:
        lm = f"{m:g} months"
        at_risk = get("cumulative_incidence_landmark", "n_risk", lm)
        for c in causes:
            estimate = get("cumulative_incidence_landmark", c, lm)
            if _withheld(at_risk, estimate):
                withheld = True
                cells.append(SUPPRESSED)
                continue
            cells.append(
                fmt_interval(
                    estimate,
                    get("cumulative_incidence_landmark", f"{c}_lower", lm),
                    get("cumulative_incidence_landmark", f"{c}_upper", lm),
                    scale=100.0,
                    suffix="%",
                )
            )
    return Row((group, *cells)), withheld


def _withheld(at_risk: Value, estimate: Value) -> bool:
    """Whether a landmark incidence is withheld rather than not estimable.

    The rule of :func:`~allrwe.report.sections.survival.landmark_cell`, for the
    Aalen–Johansen curves: an incidence missing (not suppressed) while persons are still at
    risk at the landmark is withheld, shown "–" (the published curve has no point there, so
    the value would give its counts away), not NE; NE only when nobody is followed to it.
    """
    return (
        not estimate.visible and not estimate.suppressed and at_risk.visible and bool(at_risk.value)
    )


def _cif_endpoint(ctx: Context, spec: StudySpec, variable: str) -> Section:
    base = variable.partition(":")[0]
    causes = COMPETING_ENDPOINTS.get(base, ("event", "competing"))
    title = endpoint_title(variable, spec, _CIF_TITLES)
    sid = f"cif-{slug(variable)}"
    frame = ctx.view.frame("cumulative_incidence_summary")
    frame = frame[frame["variable"] == variable]
    if not any_available(frame):
        return Section(
            sid, title, (na_text(title, "the CDM lacks the records it needs"),), (), False
        )
    groups = [
        g for g in ctx.present_groups("cumulative_incidence_summary") if g in set(frame["group"])
    ]
    figure, risk = curve_figure(ctx, "cumulative_incidence", variable, groups, causes, title, sid)
    rows = [_cif_row(ctx, spec, variable, causes, g) for g in groups]
    head = [
        "Group",
        "Persons",
        *(f"Events: {c}" for c in causes),
        *(
            f"{c} at {m:g} months, % (95% CI)"
            for m in spec.outcomes.landmarks_months
            for c in causes
        ),
    ]
    table = make_table(
        ctx,
        f"summary-{sid}",
        f"{title}: events and cumulative incidence",
        head,
        [row for row, _ in rows],
        (WITHHELD_NOTE,) if any(withheld for _, withheld in rows) else (),
    )
    blocks: list[Block] = [b for b in (figure, risk, table) if b is not None]
    tests = stat_test_rows(ctx, "cumulative_incidence_test", variable)
    if tests:
        blocks.append(
            Details(
                "Gray's tests",
                (
                    make_table(
                        ctx,
                        f"tests-{sid}",
                        "Gray's tests",
                        ("Group", "Stratum", "Test", "Statistic", "p"),
                        tests,
                    ),
                ),
            )
        )
    return Section(sid, title, tuple(blocks))


def cumulative_incidence_section(ctx: Context, spec: StudySpec) -> Section:
    """Competing-risk endpoints: time to HSCT, relapse vs non-relapse mortality."""
    title = "Cumulative incidence"
    frame = ctx.view.frame("cumulative_incidence_summary")
    if frame.empty:
        reason = ctx.view.not_available("survival_summary")
        return Section("cumulative-incidence", title, (na_text(title, reason),), (), False)
    bases = tuple(COMPETING_ENDPOINTS)
    variables = endpoint_order(list(frame["variable"].astype(str)), bases, spec)
    children = tuple(_cif_endpoint(ctx, spec, v) for v in variables)
    note = Text(
        ("Aalen–Johansen estimates; the competing event is named in each table.",), style="note"
    )
    return Section(
        "cumulative-incidence", title, (note,), children, any(c.available for c in children)
    )
