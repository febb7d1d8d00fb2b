"""Data-quality rules: each yields checks that count offending rows in the engine.

Every rule is a small function ``rule(ctx) -> list[Check]``; a check whose columns are missing or
unusable is not built (the structure findings already say why) and is counted as skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

from allrwe.io.check._context import Check, CheckContext
from allrwe.io.check.report import Severity

__all__ = ["EVENT_DATES", "GENERIC_RULES", "PERIODS"]

#: tables with a start and an end date
PERIODS: dict[str, tuple[str, str]] = {
    "observation_period": ("observation_period_start_date", "observation_period_end_date"),
    "visit_occurrence": ("visit_start_date", "visit_end_date"),
    "visit_detail": ("visit_detail_start_date", "visit_detail_end_date"),
    "condition_occurrence": ("condition_start_date", "condition_end_date"),
    "drug_exposure": ("drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": ("procedure_date", "procedure_end_date"),
    "device_exposure": ("device_exposure_start_date", "device_exposure_end_date"),
    "episode": ("episode_start_date", "episode_end_date"),
    "drug_era": ("drug_era_start_date", "drug_era_end_date"),
    "dose_era": ("dose_era_start_date", "dose_era_end_date"),
    "condition_era": ("condition_era_start_date", "condition_era_end_date"),
    "payer_plan_period": ("payer_plan_period_start_date", "payer_plan_period_end_date"),
    "cohort": ("cohort_start_date", "cohort_end_date"),
}

#: the date each person-level event happened on
EVENT_DATES: dict[str, str] = {
    "visit_occurrence": "visit_start_date",
    "visit_detail": "visit_detail_start_date",
    "condition_occurrence": "condition_start_date",
    "drug_exposure": "drug_exposure_start_date",
    "procedure_occurrence": "procedure_date",
    "device_exposure": "device_exposure_start_date",
    "measurement": "measurement_date",
    "observation": "observation_date",
    "specimen": "specimen_date",
    "note": "note_date",
    "episode": "episode_start_date",
}

_NON_NEGATIVE: tuple[tuple[str, str, str], ...] = (
    ("drug_exposure", "quantity", "negative_quantity"),
    ("drug_exposure", "days_supply", "negative_days_supply"),
    ("drug_exposure", "refills", "negative_refills"),
    ("procedure_occurrence", "quantity", "negative_quantity"),
    ("device_exposure", "quantity", "negative_quantity"),
    ("specimen", "quantity", "negative_quantity"),
)

_MAX_AGE_YEARS = 120
_PERCENT_UNIT = 8554


def _pred(
    rule: str,
    severity: Severity,
    table: str,
    column: str | None,
    message: str,
    base: ibis.Table,
    predicate: ibis.BooleanValue,
) -> Check:
    return Check(rule, severity, table, column, message, base=base, predicate=predicate)


#: required fields a null of which the reader fills in by a documented rule: a warning, not an
#: error. A null ``drug_exposure_end_date`` is common in real ETLs (claims with only a days'
#: supply); allrwe takes ``start + days_supply - 1``, else the start, as the OHDSI drug-era
#: script does (docs/cdm-conventions.md).
DERIVED_WHEN_NULL: dict[tuple[str, str], str] = {
    ("drug_exposure", "drug_exposure_end_date"): (
        "their end is taken as drug_exposure_start_date + days_supply - 1, else the start date"
    ),
}


def null_required(ctx: CheckContext) -> list[Check]:
    """Count required fields that are null (error; a warning where :data:`DERIVED_WHEN_NULL`)."""
    out = []
    for table in ctx.usable:
        for f in ctx.spec.table(table).required_fields:
            if ctx.require(table, f.name):
                t = ctx.table(table)
                rule = DERIVED_WHEN_NULL.get((table, f.name))
                msg = f"{{rows:,}} {table} rows have no {f.name} (a required field)"
                severity: Severity = "error" if rule is None else "warning"
                if rule is not None:
                    msg += f"; {rule}"
                pred = t[f.name].isnull()
                out.append(_pred("null_required", severity, table, f.name, msg, t, pred))
    return out


def duplicate_primary_key(ctx: CheckContext) -> list[Check]:
    """Count rows whose primary key another row shares (error)."""
    out = []
    for table in ctx.usable:
        pk = ctx.spec.table(table).primary_key
        if pk is None or not ctx.require(table, pk):
            continue
        t = ctx.table(table)
        groups = t.filter(t[pk].notnull()).group_by(pk).aggregate(n=ibis._.count())
        expr = groups.filter(groups.n > 1).n.sum()
        msg = f"{{rows:,}} {table} rows share their {pk} with another row"
        out.append(Check("duplicate_primary_key", "error", table, pk, msg, expr=expr))
    return out


def end_before_start(ctx: CheckContext) -> list[Check]:
    """Count records that end before they start (error)."""
    out = []
    for table, (start, end) in PERIODS.items():
        if ctx.require(table, start, end):
            t = ctx.table(table)
            msg = f"{{rows:,}} {table} rows end ({end}) before they start ({start})"
            pred = ctx.col(t, table, end) < ctx.col(t, table, start)
            out.append(_pred("end_before_start", "error", table, end, msg, t, pred))
    return out


def future_date(ctx: CheckContext) -> list[Check]:
    """Count event dates after ``today`` (warning)."""
    targets = [*EVENT_DATES.items(), ("death", "death_date")]
    targets.append(("observation_period", "observation_period_start_date"))
    out = []
    for table, column in targets:
        if ctx.require(table, column):
            t = ctx.table(table)
            msg = f"{{rows:,}} {table} rows have a {column} after {ctx.today.isoformat()}"
            pred = ctx.col(t, table, column) > ctx.today_literal
            out.append(_pred("future_date", "warning", table, column, msg, t, pred))
    return out


def unknown_person(ctx: CheckContext) -> list[Check]:
    """Count rows whose person_id is not in ``person`` (error)."""
    if not ctx.has("person", "person_id"):
        return []
    person = ctx.table("person").select("person_id")
    out = []
    for table in ctx.usable:
        if table == "person" or "person_id" not in ctx.spec.table(table):
            continue
        if ctx.require(table, "person_id"):
            t = ctx.table(table)
            known = t.filter(t.person_id.notnull())
            expr = known.anti_join(person, "person_id").count()
            msg = f"{{rows:,}} {table} rows belong to a person_id that is not in person"
            out.append(Check("unknown_person", "error", table, "person_id", msg, expr=expr))
    return out


def _periods(ctx: CheckContext, *, with_id: bool = False) -> ibis.Table | None:
    start, end = PERIODS["observation_period"]
    if not ctx.has("observation_period", "person_id", start, end):
        return None
    op = ctx.table("observation_period")
    extra = {"op_id": op.observation_period_id} if with_id else {}
    return op.select(
        op_person_id=op.person_id,
        op_start=ctx.col(op, "observation_period", start),
        op_end=ctx.col(op, "observation_period", end),
        **extra,
    )


def outside_observation(ctx: CheckContext) -> list[Check]:
    """Count events dated outside every observation period of their person (warning)."""
    periods = _periods(ctx)
    if periods is None:
        return []
    out = []
    for table, column in EVENT_DATES.items():
        if not ctx.require(table, "person_id", column):
            continue
        t = ctx.table(table)
        events = t.select(ev_person_id=t.person_id, ev_date=ctx.col(t, table, column))
        inside = [
            events.ev_person_id == periods.op_person_id,
            events.ev_date >= periods.op_start,
            events.ev_date <= periods.op_end,
        ]
        expr = events.anti_join(periods, inside).count()
        msg = f"{{rows:,}} {table} rows are dated ({column}) outside every observation period"
        out.append(Check("outside_observation", "warning", table, column, msg, expr=expr))
    return out


def observation_coverage(ctx: CheckContext) -> list[Check]:
    """Count persons without an observation period, and overlapping periods (warnings)."""
    periods = _periods(ctx)
    out = []
    if periods is not None and ctx.require("person", "person_id"):
        person = ctx.table("person")
        expr = person.anti_join(periods, person.person_id == periods.op_person_id).count()
        msg = "{rows:,} persons have no observation period"
        out.append(Check("person_without_observation", "warning", "person", None, msg, expr=expr))
    if periods is not None and ctx.require("observation_period", "observation_period_id"):
        a = _periods(ctx, with_id=True)
        assert a is not None
        b = a.view()
        overlap = [
            a.op_person_id == b.op_person_id,
            a.op_id != b.op_id,
            a.op_start <= b.op_end,
            b.op_start <= a.op_end,
        ]
        expr = a.semi_join(b, overlap).count()
        msg = (
            "{rows:,} observation_period rows overlap (observation_period_start_date to "
            "observation_period_end_date) another period of the same person"
        )
        out.append(
            Check(
                "overlapping_observation_periods",
                "warning",
                "observation_period",
                "observation_period_start_date",
                msg,
                expr=expr,
            )
        )
    return out


def _with_birth_year(ctx: CheckContext, table: str, column: str) -> ibis.Table:
    t = ctx.table(table)
    person = ctx.table("person")
    events = t.select(ev_person_id=t.person_id, ev_year=ctx.col(t, table, column).year())
    births = person.select(p_person_id=person.person_id, yob=person.year_of_birth)
    return events.join(births, events.ev_person_id == births.p_person_id)


def age_plausibility(ctx: CheckContext) -> list[Check]:
    """Count records at an age over 120 or before the year of birth, and future births."""
    out = []
    if ctx.require("person", "year_of_birth"):
        p = ctx.table("person")
        year = ctx.today.year
        msg = f"{{rows:,}} persons have a year_of_birth after {year}"
        pred = p.year_of_birth > year
        out.append(
            _pred("year_of_birth_future", "warning", "person", "year_of_birth", msg, p, pred)
        )
    if not ctx.has("person", "person_id", "year_of_birth"):
        return out
    for table, column in EVENT_DATES.items():
        if not ctx.require(table, "person_id", column):
            continue
        joined = _with_birth_year(ctx, table, column)
        old = (
            f"{{rows:,}} {table} rows are dated ({column}) when the person was over "
            f"{_MAX_AGE_YEARS}"
        )
        early = f"{{rows:,}} {table} rows are dated ({column}) before the person's year of birth"
        pred = joined.ev_year - joined.yob > _MAX_AGE_YEARS
        out.append(_pred("implausible_age", "warning", table, column, old, joined, pred))
        pred = joined.ev_year < joined.yob
        out.append(_pred("before_birth", "warning", table, column, early, joined, pred))
    return out


def non_negative(ctx: CheckContext) -> list[Check]:
    """Count negative quantities, days of supply and refills (warnings)."""
    out = []
    for table, column, rule in _NON_NEGATIVE:
        if ctx.require(table, column):
            t = ctx.table(table)
            msg = f"{{rows:,}} {table} rows have a negative {column}"
            out.append(_pred(rule, "warning", table, column, msg, t, t[column] < 0))
    return out


#: the largest magnitude a CDM number may have; beyond it (1e308, say) a value is a placeholder
#: or a unit error, and it would swamp a mean
MAX_MAGNITUDE = 1e15


def numbers(ctx: CheckContext) -> list[Check]:
    """Count NaN, infinite and absurd (beyond ±1e15) values of number fields (errors).

    They never reach an analysis: a mean over them is NaN or meaningless.
    """
    out = []
    for table, columns in ctx.usable.items():
        tspec = ctx.spec.table(table)
        for column, dtype in columns.items():
            if column not in tspec or tspec.field(column).type != "float":
                continue
            if not (dtype.is_floating() or dtype.is_decimal()) or not ctx.require(table, column):
                continue
            t = ctx.table(table)
            value = t[column]
            if dtype.is_floating():
                msg = f"{{rows:,}} {table} rows have a {column} that is NaN or infinite"
                pred = value.isnan() | value.isinf()
                out.append(_pred("non_finite_number", "error", table, column, msg, t, pred))
                value = ibis.ifelse(value.isnan() | value.isinf(), ibis.null(), value)
            msg = (
                f"{{rows:,}} {table} rows have a {column} beyond ±{MAX_MAGNITUDE:.0e} "
                "(a placeholder or a unit error)"
            )
            pred = value.abs() > MAX_MAGNITUDE
            out.append(_pred("absurd_number", "error", table, column, msg, t, pred))
    return out


def _days_in_month(year: ibis.IntegerValue, month: ibis.IntegerValue) -> ibis.IntegerValue:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    thirty = month.isin([4, 6, 9, 11])
    return ibis.cases((month == 2, ibis.ifelse(leap, 29, 28)), (thirty, 30), else_=31)


def birth_date(ctx: CheckContext) -> list[Check]:
    """Count impossible months and days of birth: month 13, 31 February (errors).

    Ages are computed from the whole birth date, so an impossible one would shift them.
    """
    out = []
    # optional columns: a CDM without them has nothing to check (not a skipped check)
    if ctx.has("person", "month_of_birth"):
        p = ctx.table("person")
        month = p.month_of_birth
        msg = "{rows:,} person rows have a month_of_birth outside 1 to 12"
        pred = (month < 1) | (month > 12)
        out.append(
            _pred("impossible_birth_date", "error", "person", "month_of_birth", msg, p, pred)
        )
    if ctx.has("person", "year_of_birth", "month_of_birth", "day_of_birth"):
        p = ctx.table("person")
        year, month, day = p.year_of_birth, p.month_of_birth, p.day_of_birth
        msg = (
            "{rows:,} person rows have a day_of_birth their month does not have "
            "(such as 31 February)"
        )
        known = month.between(1, 12)
        last = _days_in_month(year.cast("int64"), month.cast("int64"))
        pred = (day < 1) | (day > 31) | (known & (day > last))
        out.append(_pred("impossible_birth_date", "error", "person", "day_of_birth", msg, p, pred))
    return out


#: the rules of this module, in report order
GENERIC_RULES: tuple[Callable[[CheckContext], list[Check]], ...] = (
    null_required,
    duplicate_primary_key,
    end_before_start,
    future_date,
    unknown_person,
    outside_observation,
    observation_coverage,
    age_plausibility,
    non_negative,
    numbers,
    birth_date,
)
