"""Rules about deaths, vocabulary coverage and clinically implausible values.

The lab and adverse-event rules read the concept sets in force (bundled or user vocabulary), so
they follow a site's own concept choices.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

from allrwe.io.check._context import Check, CheckContext
from allrwe.io.check.rules import EVENT_DATES, PERIODS

__all__ = ["CLINICAL_RULES"]

_PERCENT_UNIT = 8554
_CONCEPT_GROUPS = ("clinical", "derived")
_AE_GROUP = "adverse_events"


def empty_required_tables(ctx: CheckContext) -> list[Check]:
    """Flag ``person`` or ``observation_period`` present but empty (warning)."""
    out = []
    for table in ("person", "observation_period"):
        if table in ctx.usable:
            # the whole table: kept rows (a study's persons) may be none where the table is not
            t = ctx.source.table(table)
            expr = ibis.ifelse(t.count() == 0, 1, 0)
            msg = f"{table} has no rows"
            out.append(Check("empty_table", "warning", table, None, msg, expr=expr))
    return out


def death_plausibility(ctx: CheckContext) -> list[Check]:
    """Count deaths before birth (error), long after observation, repeated, or followed by care."""
    if not ctx.has("death", "person_id", "death_date"):
        if "death" in ctx.usable:
            ctx.skipped += 1
        return []
    death = ctx.table("death")
    deaths = death.select(d_person_id=death.person_id, d_date=ctx.col(death, "death", "death_date"))
    out = [*_death_vs_birth(ctx, deaths), *_death_vs_observation(ctx, deaths)]
    groups = deaths.group_by("d_person_id").aggregate(n=ibis._.count())
    expr = groups.filter(groups.n > 1).n.sum()
    msg = "{rows:,} death rows share their person_id with another death record"
    out.append(Check("duplicate_death", "warning", "death", "person_id", msg, expr=expr))
    grace = ibis.interval(days=ctx.death_grace_days)
    for table, column in EVENT_DATES.items():
        if not ctx.require(table, "person_id", column):
            continue
        t = ctx.table(table)
        events = t.select(ev_person_id=t.person_id, ev_date=ctx.col(t, table, column))
        joined = events.join(deaths, events.ev_person_id == deaths.d_person_id)
        expr = joined.filter(joined.ev_date > joined.d_date + grace).count()
        msg = (
            f"{{rows:,}} {table} rows are dated ({column}) more than "
            f"{ctx.death_grace_days} days after the person's death"
        )
        out.append(Check("after_death", "warning", table, column, msg, expr=expr))
    return out


def _death_vs_birth(ctx: CheckContext, deaths: ibis.Table) -> list[Check]:
    if not ctx.require("person", "person_id", "year_of_birth"):
        return []
    person = ctx.table("person")
    births = person.select(p_person_id=person.person_id, yob=person.year_of_birth)
    joined = deaths.join(births, deaths.d_person_id == births.p_person_id)
    msg = "{rows:,} death rows are dated (death_date) before the person's year_of_birth"
    predicate = joined.d_date.year() < joined.yob
    return [
        Check(
            "death_before_birth",
            "error",
            "death",
            "death_date",
            msg,
            base=joined,
            predicate=predicate,
        )
    ]


def _death_vs_observation(ctx: CheckContext, deaths: ibis.Table) -> list[Check]:
    _, end = PERIODS["observation_period"]
    if not ctx.require("observation_period", "person_id", end):
        return []
    op = ctx.table("observation_period")
    last = op.group_by(op_person_id=op.person_id).aggregate(
        op_end=ctx.col(op, "observation_period", end).max()
    )
    joined = deaths.join(last, deaths.d_person_id == last.op_person_id)
    grace = ibis.interval(days=ctx.death_grace_days)
    msg = (
        f"{{rows:,}} death rows are dated (death_date) more than {ctx.death_grace_days} days "
        "after the end of the person's last observation period"
    )
    predicate = joined.d_date > joined.op_end + grace
    return [
        Check(
            "death_after_observation",
            "warning",
            "death",
            "death_date",
            msg,
            base=joined,
            predicate=predicate,
        )
    ]


def concept_in_vocabulary(ctx: CheckContext) -> list[Check]:
    """Count concept ids absent from ``concept`` when the CDM has one (warning; 0 is allowed)."""
    if not ctx.has("concept", "concept_id"):
        return []
    concept = ctx.table("concept").select("concept_id")
    out = []
    for table in ctx.usable:
        tspec = ctx.spec.table(table)
        if tspec.group not in _CONCEPT_GROUPS:
            continue
        for name in tspec.columns:
            if not name.endswith("_concept_id") or not ctx.has(table, name):
                continue
            t = ctx.table(table)
            coded = t.filter(t[name].notnull(), t[name] != 0)
            expr = coded.anti_join(concept, coded[name] == concept.concept_id).count()
            msg = f"{{rows:,}} {table} rows have a {name} that is not in concept"
            out.append(Check("concept_not_in_vocabulary", "warning", table, name, msg, expr=expr))
    return out


def _measurement_sets(ctx: CheckContext) -> list[tuple[str, list[int], list[int]]]:
    """Key, concept ids and accepted units (the set's, then those converted) of the lab sets."""
    return [
        (key, s.concept_ids, list(s.unit_factor()))
        for key, s in sorted(ctx.vocabulary.sets.items())
        if s.domain == "measurement" and s.concept_ids
    ]


def lab_values(ctx: CheckContext) -> list[Check]:
    """Count negative lab values, percentages over 100, units other than the set's (warnings)."""
    out: list[Check] = []
    if not ctx.require("measurement", "measurement_concept_id", "value_as_number"):
        return out
    m = ctx.table("measurement")
    sets = _measurement_sets(ctx)
    ids = sorted({i for _, set_ids, _ in sets for i in set_ids})
    if ids:
        msg = (
            "{rows:,} measurement rows of allrwe's lab concept sets have a negative value_as_number"
        )
        pred = m.measurement_concept_id.isin(ids) & (m.value_as_number < 0)
        out.append(
            Check("negative_lab_value", "warning", "measurement", "value_as_number", msg, m, pred)
        )
    if not ctx.has("measurement", "unit_concept_id"):
        return out
    msg = (
        f"{{rows:,}} measurement rows in percent (unit {_PERCENT_UNIT}) have a value_as_number "
        "over 100"
    )
    pred = (m.unit_concept_id == _PERCENT_UNIT) & (m.value_as_number > 100)
    out.append(Check("percent_over_100", "warning", "measurement", "value_as_number", msg, m, pred))
    for key, set_ids, units in sets:
        if not units:
            continue
        # as the analyses: no unit (null or 0) is the set's unit, accepted units are converted
        msg = (
            f"{{rows:,}} measurement rows of concept set {key!r} have a unit_concept_id "
            f"other than {', '.join(str(u) for u in units)} (left out by the analyses)"
        )
        pred = (
            m.measurement_concept_id.isin(set_ids)
            & m.unit_concept_id.notnull()
            & (m.unit_concept_id != 0)
            & ~m.unit_concept_id.isin(units)
        )
        out.append(
            Check("unexpected_unit", "warning", "measurement", "unit_concept_id", msg, m, pred)
        )
    return out


def adverse_event_grades(ctx: CheckContext) -> list[Check]:
    """Count CTCAE grades outside 1-5 or fractional on adverse-event records (warning)."""
    if _AE_GROUP not in ctx.vocabulary.groups:
        return []
    if not ctx.require("observation", "observation_concept_id", "value_as_number"):
        return []
    ids = sorted({i for s in ctx.vocabulary.members(_AE_GROUP) for i in s.concept_ids})
    o = ctx.table("observation")
    v = o.value_as_number
    pred = o.observation_concept_id.isin(ids) & v.notnull() & ((v < 1) | (v > 5) | (v != v.floor()))
    msg = (
        "{rows:,} observation rows of adverse-event concept sets have a grade (value_as_number) "
        "that is not a whole number from 1 to 5"
    )
    return [
        Check("ae_grade_out_of_range", "warning", "observation", "value_as_number", msg, o, pred)
    ]


#: the rules of this module, in report order
CLINICAL_RULES: tuple[Callable[[CheckContext], list[Check]], ...] = (
    empty_required_tables,
    death_plausibility,
    concept_in_vocabulary,
    lab_values,
    adverse_event_grades,
)
