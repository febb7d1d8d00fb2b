"""The table of outcomes by an event after index (HSCT or response), under a KM endpoint's section.

One row per landmark and group (the event by the landmark or not), one per Simon–Makuch state,
and the time-dependent Cox model with the Mantel–Byar test, for ``outcomes.after_index.event``;
read from the ``after_index_*`` records (:mod:`allrwe.analyses.outcomes.after_index`), as
published after suppression.
"""

from __future__ import annotations

from allrwe.report._blocks import Context, make_table
from allrwe.report._view import SUPPRESSED, Value, fmt_count, fmt_interval, fmt_number
from allrwe.report.model import Row, Table

__all__ = ["after_index_table"]

_LANDMARK, _SM, _COX = "after_index_landmark", "after_index_simon_makuch", "after_index_cox"
#: how each after-index event reads in the table
_EVENT_TEXT = {"hsct": "HSCT", "car_t": "CAR-T", "response": "response (CR/CRh/CRi)"}


def _num(v: Value, digits: int) -> str:
    return SUPPRESSED if v.suppressed else fmt_number(v.value, digits)


def after_index_table(
    ctx: Context, variable: str, sid: str, horizon: float, event: str = "hsct"
) -> Table | None:
    """Return the table of ``variable`` (an endpoint), or None without such records.

    Parameters
    ----------
    ctx : Context
        The report context.
    variable : str
        The endpoint (``os``, ``efs``, ``rfs``).
    sid : str
        The endpoint section's id (the table id is derived from it).
    horizon : float
        ``outcomes.after_index.horizon_months``.
    event : str
        One event of ``outcomes.after_index.event`` (``hsct``, ``car_t`` or ``response``):
        names the levels; the table id has it unless it is ``hsct``.
    """
    text = _EVENT_TEXT.get(event, event)
    levels = ((event, text), (f"no_{event}", f"no {text}"))
    frames = {a: ctx.view.frame(a) for a in (_LANDMARK, _SM, _COX)}
    frames = {a: f[f["variable"] == variable] for a, f in frames.items()}
    if all(f.empty for f in frames.values()):
        return None
    rows: list[Row] = []
    for group in ctx.present_groups(_LANDMARK if not frames[_LANDMARK].empty else _SM):

        def get(analysis: str, level: str, where: str, name: str, g: str = group) -> Value:
            return ctx.view.get(analysis, g, _strata(analysis, event), level, variable, where, name)

        def rate(analysis: str, level: str, where: str) -> str:
            parts = [get(analysis, level, where, n) for n in ("survival", "lower", "upper")]
            return fmt_interval(*parts, scale=100.0, suffix="%")

        wheres = frames[_LANDMARK].loc[frames[_LANDMARK]["group"] == group, "variable_level"]
        for where in dict.fromkeys(wheres.astype(str)):
            p = _num(get(_LANDMARK, "overall", where, "p"), 4)
            for level, said in levels:
                rows.append(Row((group, f"{where}, {said} by then",
                                 fmt_count(get(_LANDMARK, level, where, "n")),
                                 fmt_count(get(_LANDMARK, level, where, "n_event")),
                                 rate(_LANDMARK, level, where), f"log-rank p {p}")))  # fmt: skip
        at = f"{horizon:g} months"
        for level, said in levels:
            rows.append(Row((group, f"Simon–Makuch, {said} (current status)",
                             fmt_count(get(_SM, level, "overall", "n")),
                             fmt_count(get(_SM, level, "overall", "n_event")),
                             rate(_SM, level, at), "")))  # fmt: skip
        td = f"{event} time-dependent"
        hr = [get(_COX, "overall", td, n) for n in ("hr", "hr_lower", "hr_upper")]
        if hr[0].present:
            mb = _num(get(_COX, "overall", "mantel-byar", "p"), 4)
            cox = f"HR {fmt_interval(*hr, digits=2)}, p {_num(get(_COX, 'overall', td, 'p'), 4)}"
            said = f"{text[:1].upper()}{text[1:]} as a time-dependent covariate (Cox, robust SE)"
            rows.append(Row((group, said,
                             fmt_count(get(_COX, "overall", td, "n")),
                             fmt_count(get(_COX, "overall", td, "n_event")),
                             cox, f"Mantel–Byar p {mb}")))  # fmt: skip
    head = ("Group", "Analysis", "Persons", "Events", "Estimate (95% CI)", "Test")
    note = (
        f"Landmark rows: persons followed beyond the landmark, by {text} on or before it; "
        f"survival {horizon:g} months after the landmark. Simon–Makuch rows: risk sets by {text} "
        f"status at each time; survival {horizon:g} months after index."
    )
    tid = (
        f"after-index-{sid}" if event == "hsct" else f"after-index-{event.replace('_', '-')}-{sid}"
    )
    return make_table(ctx, tid, f"Outcomes by {text} after index", head, rows,
                      (note,))  # fmt: skip


def _strata(analysis: str, event: str) -> str:
    return f"{event}_by_landmark" if analysis == _LANDMARK else f"{event}_status"
