"""Baseline variables of the relapse treated at index: its site (seed 003) and GVHD (seed 004).

* ``relapse_site``: bone marrow, extramedullary or both, by the rule of
  :func:`allrwe.cohort.relapse_site` (marrow blasts and ``extramedullary_relapse`` records
  within :data:`~allrwe.cohort.relapse.RELAPSE_SITE_WINDOW_DAYS` of the last
  relapse/refractory record on or before index).
* ``gvhd_at_index``: a ``gvhd`` record in the :data:`GVHD_ACTIVE_DAYS` days before index, the
  index day included (seed 004's "active GVHD" when blinatumomab starts). Set beside
  ``safety.special_interest: [gvhd]``, the GVHD records of the treatment window by this
  stratum are what the seed calls GVHD aggravation.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from allrwe.analyses.baseline._engine import in_window, with_offset
from allrwe.analyses.baseline.variables import (
    BaselineContext,
    BaselineVariable,
    VariableBuilder,
    categorical,
    frame_values,
    query_values,
)
from allrwe.cohort import (
    RELAPSE_SITES,
    cohort_line_inputs,
    condition_events,
    measurement_values,
    relapse_site,
    with_unit_factor,
)

__all__ = ["GVHD_ACTIVE_DAYS", "TRANSPLANT_BUILDERS"]

#: a GVHD record this many days before index (or on the index day) makes GVHD active at index
GVHD_ACTIVE_DAYS = 90


def _records(ctx: BaselineContext, table: ir.Table, value: str | None = None) -> pd.DataFrame:
    """Execute the cohort persons' records of ``table`` as ``person_id, date[, value]``."""
    persons = ctx.units.select("person_id").distinct()
    t = table.semi_join(persons, "person_id")
    cols = {"person_id": t.person_id, "date": t.start_date}
    if value is not None:
        cols["value"] = t[value]
    return t.select(**cols).execute()


def _relapse_site(ctx: BaselineContext) -> list[BaselineVariable]:
    # the rule and its timing: allrwe.cohort.relapse.relapse_site (docs/baseline-and-safety.md)
    _, status = cohort_line_inputs(ctx.source, ctx.vocab, ctx.cohort)
    sites = _records(ctx, condition_events(ctx.source, ctx.vocab, None, "extramedullary_relapse"))
    values = with_unit_factor(
        measurement_values(ctx.source, ctx.vocab, None, "marrow_blasts"), ctx.vocab
    )
    values = values.filter(values.value_as_number.notnull() & values.unit_factor.notnull())
    values = values.mutate(value_as_number=values.value_as_number * values.unit_factor)
    blasts = _records(ctx, values, "value_as_number")
    limit = ctx.spec.outcomes.response.marrow_blasts_max_pct
    level = relapse_site(ctx.frame, status, sites, blasts, blast_pct=limit)
    note = "" if ctx.captured(["extramedullary_relapse"]) else "no extramedullary site recorded"
    frame = frame_values(ctx, level)
    return [categorical("relapse_site", RELAPSE_SITES, RELAPSE_SITES[3], frame=frame, note=note)]


def _gvhd_at_index(ctx: BaselineContext) -> list[BaselineVariable]:
    levels = ["yes", "no"]
    if not ctx.captured(["gvhd"]):
        return [categorical("gvhd_at_index", [*levels, "unknown"], "unknown",
                            note="not recorded in this CDM")]  # fmt: skip
    ev = condition_events(ctx.source, ctx.vocab, None, "gvhd")
    hits = in_window(with_offset(ctx.units, ev), (-GVHD_ACTIVE_DAYS, 0))
    hits = hits.select("person_id", "group").distinct()
    query = query_values(hits, ibis.literal("yes"))
    return [categorical("gvhd_at_index", levels, "no", query=query)]


#: builders of the transplant-related variables, by name
TRANSPLANT_BUILDERS: dict[str, VariableBuilder] = {
    "relapse_site": _relapse_site,
    "gvhd_at_index": _gvhd_at_index,
}
