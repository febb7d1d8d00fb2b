"""Baseline variables read from CDM records: labs, Ph, blasts, CNS, prior therapy, statuses.

Windows are in days relative to the index date, both ends inclusive; ``W`` is
``baseline.lab_window_days``. Records are read for everyone (``persons=None``):
:func:`~allrwe.analyses.baseline._engine.with_offset` joins them to the cohort rows, which keeps
the cohort's persons only, and a semi-join on the same persons would add to every variable's
query (and to its compile time) without changing a row.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from allrwe.analyses.baseline._engine import first_per_unit, in_window, with_offset
from allrwe.analyses.baseline.records import NOT_AVAILABLE
from allrwe.analyses.baseline.variables import (
    VARIABLE_LABELS,
    BaselineContext,
    BaselineVariable,
    VariableBuilder,
    categorical,
    frame_values,
    query_values,
    where_field,
)
from allrwe.cohort import (
    POST_HCT_LEVELS,
    RELAPSE_CATEGORIES,
    cohort_line_inputs,
    concept_events,
    condition_events,
    drug_events,
    expand_keys,
    measurement_values,
    post_hct_relapse,
    relapse_category,
    with_unit_factor,
)
from allrwe.errors import StudySpecError
from allrwe.spec import StudySpec

__all__ = ["BLAST_BURDEN_PCT", "CLINICAL_BUILDERS"]

#: marrow-blast share at diagnosis that splits the two levels (seed 001 table 1), in %
BLAST_BURDEN_PCT = 50.0


def _measurements(ctx: BaselineContext, key: str) -> ir.Table:
    # Values in the set's unit: an accepted unit is converted, a missing unit is taken to be
    # the set's, a record in any other unit is left out (cohort.with_unit_factor).
    ev = with_unit_factor(measurement_values(ctx.source, ctx.vocab, None, key), ctx.vocab)
    ev = ev.filter(ev.value_as_number.notnull() & ev.unit_factor.notnull())
    return ev.mutate(value_as_number=ev.value_as_number * ev.unit_factor)


def _latest_value(
    ctx: BaselineContext, key: str, window: tuple[int | None, int | None]
) -> ir.Table:
    """Return the latest measurement of ``key`` in ``window`` per row (ties: larger id)."""
    j = in_window(with_offset(ctx.units, _measurements(ctx, key), _value="value_as_number"), window)
    return first_per_unit(j, [ibis.desc(j._date), ibis.desc(j._rid)])


def _labs(ctx: BaselineContext) -> list[BaselineVariable]:
    out = []
    for i, key in enumerate(ctx.spec.baseline.labs):
        cs = ctx.vocab.concept_set(key)
        if cs.domain != "measurement":
            raise StudySpecError(
                f"{where_field(ctx.spec, ('baseline', 'labs', i))}concept set {key!r} is in the "
                f"{cs.domain!r} domain, not 'measurement'"
            )
        latest = _latest_value(ctx, key, ctx.window)
        unit = f", {cs.unit}" if cs.unit else ""
        out.append(
            BaselineVariable(
                name=key,
                kind="continuous",
                query=query_values(latest, None, latest._value),
                label=f"{cs.label}{unit}",
            )
        )
    return out


def _ph_status(ctx: BaselineContext) -> list[BaselineVariable]:
    source = ctx.spec.baseline.ph_status_source
    if source == "auto":
        source = "records" if ctx.captured(["ph_positive", "ph_negative"]) else "tki"
    if source == "tki":
        ev = drug_events(ctx.source, ctx.vocab, None, "tki")
        hits = with_offset(ctx.units, ev).select("person_id", "group").distinct()
        levels = ["Ph+ (TKI-inferred)", "Ph- (no TKI)"]
        query = query_values(hits, ibis.literal(levels[0]))
        note = "claims convention: Ph+ inferred from any TKI exposure"
        return [categorical("ph_status", levels, levels[1], query=query, note=note)]
    ev = condition_events(ctx.source, ctx.vocab, None, ["ph_positive", "ph_negative"])
    j = with_offset(ctx.units, ev, _set="concept_set")
    per = j.group_by(["person_id", "group"]).agg(_pos=(j._set == "ph_positive").any())
    query = query_values(per, ibis.ifelse(per._pos, "Ph+", "Ph-"))
    return [categorical("ph_status", ["Ph+", "Ph-", "unknown"], "unknown", query=query)]


def _diagnosis_keys(spec: StudySpec) -> list[str]:
    diag = spec.inclusion.diagnosis
    return list(diag.concept_sets) if diag is not None else ["all_diagnosis"]


def _marrow_blasts_at_diagnosis(ctx: BaselineContext) -> list[BaselineVariable]:
    dx_ev = concept_events(ctx.source, ctx.vocab, None, _diagnosis_keys(ctx.spec))
    dx = in_window(with_offset(ctx.units, dx_ev), (None, 0))
    first_dx = dx.group_by(["person_id", "group"]).agg(_dx=dx._date.min())
    first_dx = first_dx.rename(_dxp="person_id", _dxg="group")
    blasts = in_window(
        with_offset(ctx.units, _measurements(ctx, "marrow_blasts"), _value="value_as_number"),
        (None, 0),
    )
    j = blasts.join(
        first_dx, (blasts.person_id == first_dx._dxp) & (blasts.group == first_dx._dxg)
    ).drop("_dxp", "_dxg")
    j = j.mutate(_dist=j._date.delta(j._dx, unit="day").abs())
    j = j.filter(j._dist <= ctx.spec.baseline.lab_window_days)
    nearest = first_per_unit(j, [j._dist, j._date, j._rid])
    cut = f"{BLAST_BURDEN_PCT:g}%"
    levels = [f"<{cut}", f">={cut}", "unknown"]
    level = ibis.ifelse(nearest._value < BLAST_BURDEN_PCT, levels[0], levels[1])
    return [
        categorical(
            "marrow_blasts_at_diagnosis", levels, "unknown", query=query_values(nearest, level)
        )
    ]


def _cns_involvement(ctx: BaselineContext) -> list[BaselineVariable]:
    levels = ["yes", "no", "unknown"]
    if not ctx.captured(["cns_involvement"]):
        return [categorical("cns_involvement", levels, "unknown", note="not recorded in this CDM")]
    ev = condition_events(ctx.source, ctx.vocab, None, "cns_involvement")
    hits = in_window(with_offset(ctx.units, ev), (None, 0)).select("person_id", "group").distinct()
    return [
        categorical("cns_involvement", levels, "no", query=query_values(hits, ibis.literal("yes")))
    ]


def _chemo_intolerance(ctx: BaselineContext) -> list[BaselineVariable]:
    # seed 001 Table 1 "chemo-intolerable": a record of the set on or before the index date
    levels = ["yes", "no"]
    if not ctx.captured(["chemo_intolerance"]):
        na = NOT_AVAILABLE
        note = "not recorded in this CDM"
        return [categorical("chemo_intolerance", [na], na, note=note, unavailable=[na])]
    ev = condition_events(ctx.source, ctx.vocab, None, "chemo_intolerance")
    hits = in_window(with_offset(ctx.units, ev), (None, 0)).select("person_id", "group").distinct()
    query = query_values(hits, ibis.literal("yes"))
    return [categorical("chemo_intolerance", levels, "no", query=query)]


def _not_recorded(name: str, keys: Sequence[str]) -> BaselineVariable:
    """Return a variable of sets the CDM never records: one level, "not available", no 0 %.

    Its usual levels ("yes"/"no"...) are left out, so no count of 0 is shown for them.
    """
    na = NOT_AVAILABLE
    note = f"not available: no record of {', '.join(keys)} in this CDM"
    return categorical(name, [na], na, note=note, unavailable=[na])


def _prior(name: str, keys: Sequence[str]) -> VariableBuilder:
    def build(ctx: BaselineContext) -> list[BaselineVariable]:
        if not ctx.captured(keys):
            return [_not_recorded(name, keys)]
        lookback = ctx.spec.windows.prior_lookback_days
        ev = concept_events(ctx.source, ctx.vocab, None, list(keys))
        window = (None if lookback is None else -lookback, -1)
        hits = in_window(with_offset(ctx.units, ev), window).select("person_id", "group").distinct()
        query = query_values(hits, ibis.literal("yes"))
        return [categorical(name, ["yes", "no"], "no", query=query)]

    return build


def _refractory_last_therapy(ctx: BaselineContext) -> list[BaselineVariable]:
    lookback = ctx.spec.classification.lookback_days
    ev = concept_events(ctx.source, ctx.vocab, None, ["refractory", "relapse", "remission"])
    j = in_window(
        with_offset(ctx.units, ev, _set="concept_set"), (None if lookback is None else -lookback, 0)
    )
    # ifelse, not a cast: PostgreSQL cannot cast a boolean to bigint.
    j = j.mutate(_refr=ibis.ifelse(j._set == "refractory", 1, 0).cast("int64"))
    latest = first_per_unit(j, [ibis.desc(j._date), ibis.desc(j._refr), ibis.desc(j._rid)])
    level = ibis.ifelse(latest._refr == 1, "yes", "no")
    return [
        categorical(
            "refractory_last_therapy", ["yes", "no"], "no", query=query_values(latest, level)
        )
    ]


def _disease_status(ctx: BaselineContext) -> list[BaselineVariable]:
    ev = concept_events(ctx.source, ctx.vocab, None, ["remission", "relapse", "refractory"])
    cond = in_window(with_offset(ctx.units, ev, _set="concept_set"), ctx.window)
    cond = cond.select(
        "person_id", "group", "_date", "_rid", _prio=ibis.literal(1), _cr=cond._set == "remission"
    )
    blasts = in_window(
        with_offset(ctx.units, _measurements(ctx, "marrow_blasts"), _value="value_as_number"),
        ctx.window,
    )
    limit = ctx.spec.outcomes.response.marrow_blasts_max_pct
    blasts = blasts.select(
        "person_id", "group", "_date", "_rid", _prio=ibis.literal(0), _cr=blasts._value <= limit
    )
    both = ibis.union(cond, blasts, distinct=False)
    # A marrow examination on the same day outranks a coded status: it is the measurement the
    # status was coded from.
    latest = first_per_unit(both, [ibis.desc(both._date), both._prio, ibis.desc(both._rid)])
    level = ibis.ifelse(latest._cr, "CR", "non-CR")
    levels = ["CR", "non-CR", "unknown"]
    return [categorical("disease_status", levels, "unknown", query=query_values(latest, level))]


def _mrd_status(ctx: BaselineContext) -> list[BaselineVariable]:
    latest = _latest_value(ctx, "mrd", ctx.window)
    thr = ctx.spec.outcomes.mrd_threshold_pct
    levels = [f"positive (>={thr:g}%)", f"negative (<{thr:g}%)", "unknown"]
    level = ibis.ifelse(latest._value >= thr, levels[0], levels[1])
    return [categorical("mrd_status", levels, "unknown", query=query_values(latest, level))]


def _genetic_features(ctx: BaselineContext) -> list[BaselineVariable]:
    members = [cs.key for cs in ctx.vocab.members("genetic_features")]
    label = VARIABLE_LABELS["genetic_features"]
    if not ctx.captured(["genetic_features"]):
        return [
            BaselineVariable(
                "genetic_features",
                "multi",
                (*members, "unknown"),
                "unknown",
                label=label,
                note="not recorded in this CDM",
            )
        ]
    # each feature read from its set's table: Ph-like's standard concept is an Observation
    ev = concept_events(
        ctx.source, ctx.vocab, None, "genetic_features", domains=("condition", "observation")
    )
    j = with_offset(ctx.units, ev, _set="concept_set")
    hits = j.select("person_id", "group", "_set").distinct()
    # A feature the CDM never records (for anyone) is not available, not absent.
    unrecorded = tuple(m for m in members if not ctx.captured([m]))
    return [
        BaselineVariable(
            "genetic_features",
            "multi",
            (*members, "none recorded"),
            "none recorded",
            query=query_values(hits, hits._set),
            label=label,
            unavailable=unrecorded,
        )
    ]


def _relapse_category(ctx: BaselineContext) -> list[BaselineVariable]:
    # the rule and its timing: allrwe.cohort.relapse (docs/baseline-and-safety.md)
    events, status = cohort_line_inputs(ctx.source, ctx.vocab, ctx.cohort)
    transplant = [s.key for s in expand_keys(ctx.vocab, ctx.spec.patterns.lines.transplant)]
    level = relapse_category(ctx.frame, events, status, transplant)
    frame = frame_values(ctx, level)
    return [categorical("relapse_category", RELAPSE_CATEGORIES, "unknown", frame=frame)]


def _post_hct_relapse(ctx: BaselineContext) -> list[BaselineVariable]:
    # the rule and its timing: allrwe.cohort.relapse.post_hct_relapse
    transplant = [s.key for s in expand_keys(ctx.vocab, ctx.spec.patterns.lines.transplant)]
    if not ctx.captured(transplant):
        return [_not_recorded("post_hct_relapse", transplant)]
    events, status = cohort_line_inputs(ctx.source, ctx.vocab, ctx.cohort)
    level = post_hct_relapse(ctx.frame, events, status, transplant)
    frame = frame_values(ctx, level)
    return [categorical("post_hct_relapse", POST_HCT_LEVELS, POST_HCT_LEVELS[0], frame=frame)]


#: builders of the variables read from CDM records, by name
CLINICAL_BUILDERS: dict[str, VariableBuilder] = {
    "labs": _labs,
    "ph_status": _ph_status,
    "marrow_blasts_at_diagnosis": _marrow_blasts_at_diagnosis,
    "cns_involvement": _cns_involvement,
    "chemo_intolerance": _chemo_intolerance,
    "prior_hsct": _prior("prior_hsct", ["allo_hsct"]),
    "relapse_category": _relapse_category,
    "post_hct_relapse": _post_hct_relapse,
    "prior_car_t": _prior("prior_car_t", ["car_t"]),
    "prior_inotuzumab": _prior("prior_inotuzumab", ["inotuzumab_ozogamicin"]),
    "prior_blinatumomab": _prior("prior_blinatumomab", ["blinatumomab"]),
    "refractory_last_therapy": _refractory_last_therapy,
    "disease_status": _disease_status,
    "mrd_status": _mrd_status,
    "genetic_features": _genetic_features,
}
