"""Safety tables of a cohort as long records.

Graded adverse events, AEs of special interest, discontinuation due to an AE, deaths by cause,
early deaths and severe adverse events per cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.baseline import BaselineContext, build_variables, collect_values
from allrwe.analyses.baseline.records import (
    OVERALL,
    Cell,
    add_margins,
    cells_frame,
    status_records,
)
from allrwe.analyses.baseline.units import (
    STRATUM_VARIABLES,
    StratumSpec,
    UnitValues,
    columns,
    strata_masks,
    stratum_parts,
    table_strata,
)
from allrwe.analyses.entry import CdmRows
from allrwe.analyses.safety.events import (
    UNKNOWN_CAUSE,
    deaths,
    grades_available,
    term_keys,
    worst_grades,
)
from allrwe.analyses.safety.tables import (
    GradeLevels,
    cycle_cells,
    flag_cells,
    grade_categories,
    graded_cells,
    partition_cells,
    persons_cell,
    row_index,
)
from allrwe.analyses.safety.windows import SafetyWindows, safety_windows
from allrwe.analyses.therapy import prepare_inputs
from allrwe.cohort import (
    Cohort,
    cohort_line_inputs,
    expand_keys,
    followup_end_dates,
    recorded_sets,
)
from allrwe.errors import StudySpecError
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = [
    "AESI_FOLLOWUP_ANALYSIS",
    "AESI_TREATMENT_ANALYSIS",
    "AE_ANALYSIS",
    "DEATHS_ANALYSIS",
    "DISCONTINUATION_ANALYSIS",
    "DLT_ANALYSIS",
    "GRADED_ANALYSES",
    "OTHER_AE",
    "summarise_safety",
]

#: adverse events in the treatment window, by term and grade (seed 001 table 3)
AE_ANALYSIS = "safety_ae"
#: AEs of special interest in the treatment window
AESI_TREATMENT_ANALYSIS = "safety_aesi_treatment"
#: AEs of special interest over all follow-up (index to the end of observation)
AESI_FOLLOWUP_ANALYSIS = "safety_aesi_followup"
#: discontinuation of the index treatment due to an adverse event
DISCONTINUATION_ANALYSIS = "safety_discontinuation"
#: persons with a severe adverse event per cycle of the index drug (seed 002)
DLT_ANALYSIS = "safety_dlt"
#: deaths by cause and early deaths
DEATHS_ANALYSIS = "safety_deaths"
#: the analyses that need graded adverse events
GRADED_ANALYSES = (
    AE_ANALYSIS,
    AESI_TREATMENT_ANALYSIS,
    AESI_FOLLOWUP_ANALYSIS,
    DISCONTINUATION_ANALYSIS,
    DLT_ANALYSIS,
)

_Stratum = tuple[str, str]
_CellMaker = Callable[[str, _Stratum, np.ndarray], list[Cell]]


@dataclass(frozen=True)
class _Layout:
    """The columns and strata every safety table is cut by."""

    values: UnitValues
    groups: list[str]
    strata: list[StratumSpec]

    def masks(self) -> Iterator[tuple[str, _Stratum, np.ndarray]]:
        cols = columns(self.values.frame, self.groups)
        for stratum, in_stratum in strata_masks(self.values, self.strata):
            for group, in_group in cols:
                yield group, stratum, in_group & in_stratum

    def cells(self, analysis: str, make: _CellMaker) -> list[Cell]:
        out: list[Cell] = []
        for group, stratum, mask in self.masks():
            out.append(persons_cell(analysis, group, stratum, mask))
            out.extend(make(group, stratum, mask))
        return out


def _layout(ctx: BaselineContext) -> _Layout:
    strata = table_strata(ctx.spec)
    names = [STRATUM_VARIABLES[s] for s in stratum_parts(strata) if s != "group"]
    values = collect_values(ctx, build_variables(ctx, list(dict.fromkeys(names))))
    return _Layout(values, list(ctx.spec.index_groups), strata)


def _death_cells(
    layout: _Layout, died: pd.DataFrame, spec: StudySpec, cohort: pd.DataFrame
) -> list[Cell]:
    units = layout.values.frame
    # one death rule with overall survival: a death after the end of follow-up is not counted
    ends = cohort[["person_id", "group"]].assign(_end=followup_end_dates(cohort, spec).to_numpy())
    merged = units[["person_id", "group", "index_date"]].merge(
        ends, on=["person_id", "group"], how="left"
    )
    merged = merged.merge(died, on="person_id", how="left")
    death_date = pd.to_datetime(merged["death_date"])
    offset = (death_date - pd.to_datetime(merged["index_date"])).dt.days.to_numpy(
        dtype="float64", na_value=np.nan
    )
    observed = (death_date <= pd.to_datetime(merged["_end"])).to_numpy(dtype=bool)
    after = ~np.isnan(offset) & (offset >= 0) & observed
    cause = merged["cause"].to_numpy(dtype=object).copy()
    cause[~after] = None
    found = sorted({str(c) for c in cause if c is not None} - {UNKNOWN_CAUSE})
    # no counted death has a cause: the causes are not available (causes_recorded), not a
    # 100 % "unknown" row; "any" still counts the deaths
    unknown = [UNKNOWN_CAUSE] if found and UNKNOWN_CAUSE in set(cause.tolist()) else []
    levels = found + unknown
    early = {
        f"death_within_{d:g}_days": after & (offset <= d) for d in spec.safety.early_death_days
    }

    def make(group: str, stratum: _Stratum, mask: np.ndarray) -> list[Cell]:
        out = partition_cells(
            DEATHS_ANALYSIS, group, stratum, "death", cause, mask, levels, total_level="any"
        )
        for name, flag in early.items():
            out += flag_cells(DEATHS_ANALYSIS, group, stratum, name, flag, mask)
        return out

    return layout.cells(DEATHS_ANALYSIS, make)


def _graded_table(
    layout: _Layout,
    analysis: str,
    categories: dict[str, np.ndarray],
    levels: GradeLevels,
) -> list[Cell]:
    def make(group: str, stratum: _Stratum, mask: np.ndarray) -> list[Cell]:
        out: list[Cell] = []
        for term, cat in categories.items():
            out += graded_cells(analysis, group, stratum, term, cat, mask, levels)
        return out

    return layout.cells(analysis, make)


def _discontinued(units: pd.DataFrame, grades: pd.DataFrame, severe_grade: int) -> np.ndarray:
    sel = grades[(grades["window"] == "discontinuation") & (grades["max_grade"] >= severe_grade)]
    at = row_index(units, sel)
    flag = np.zeros(len(units), dtype=bool)
    flag[at[at >= 0]] = True
    return flag


def _discontinued_for_progression(
    units: pd.DataFrame, windows: pd.DataFrame, status: pd.DataFrame
) -> np.ndarray:
    """Flag rows whose last cycle is incomplete with relapse/refractory disease recorded then.

    The window is the discontinuation window of the AE rule (the last cycle's first to last
    treated day, ± ``safety.discontinuation_window_days``); the record must come after the
    index date (a relapse coded on or before it is the one being treated).
    """
    flag = np.zeros(len(units), dtype=bool)
    win = windows[windows["window"] == "discontinuation"]
    rr = status[status["kind"].astype(str) == "rr"]
    if win.empty or rr.empty:
        return flag
    days = pd.to_datetime(rr["date"]).to_numpy().astype("datetime64[D]").astype("int64")
    rr_days = pd.DataFrame({"person_id": rr["person_id"].to_numpy(dtype="int64"), "_day": days})
    index = units[["person_id", "group", "index_date"]].assign(
        _index=pd.to_datetime(units["index_date"])
        .to_numpy()
        .astype("datetime64[D]")
        .astype("int64")
    )
    j = win.merge(rr_days, on="person_id").merge(
        index[["person_id", "group", "_index"]], on=["person_id", "group"]
    )
    hit = j[(j["_day"] >= j["w_start"]) & (j["_day"] <= j["w_end"]) & (j["_day"] > j["_index"])]
    at = row_index(units, hit)
    flag[at[at >= 0]] = True
    return flag


def _cycle_matrices(
    units: pd.DataFrame, sw: SafetyWindows, grades: pd.DataFrame, severe_grade: int
) -> tuple[np.ndarray, np.ndarray]:
    n_cycles = int(sw.cycles["cycle"].max()) if len(sw.cycles) else 0
    started = np.zeros((len(units), n_cycles), dtype=bool)
    severe = np.zeros((len(units), n_cycles), dtype=bool)
    at = row_index(units, sw.cycles)
    ok = at >= 0
    started[at[ok], sw.cycles["cycle"].to_numpy(dtype="int64")[ok] - 1] = True
    sel = grades[grades["window"].str.startswith("cycle:") & (grades["max_grade"] >= severe_grade)]
    at = row_index(units, sel)
    cycle = sel["window"].str.removeprefix("cycle:").astype("int64").to_numpy()
    ok = at >= 0
    severe[at[ok], cycle[ok] - 1] = True
    return started, severe


#: ``variable`` of the row pooling the terms of ``safety.other_terms`` (seed 001's "Others")
OTHER_AE = "other_ae"


def _ae_categories(
    ctx: BaselineContext,
    units: pd.DataFrame,
    grades: pd.DataFrame,
    ae_terms: list[str],
    levels: GradeLevels,
) -> dict[str, np.ndarray]:
    """Grade levels per row of each shown term, of :data:`OTHER_AE` and of ``any_ae``.

    The terms of ``safety.other_terms`` are not rows of their own: one row, ``other_ae``,
    counts the persons with any of them by their worst grade among them (seed 001 Table 3's
    "Others"). ``any_ae`` still spans every term. A person may have several terms, so neither
    ``any_ae`` nor ``other_ae`` is a sum of rows: no pooled term's count follows from them by
    subtraction, and each row's grade levels add up to its ``any grade`` (the only margin).
    """
    pooled = set(term_keys(ctx.vocab, ctx.spec.safety.other_terms))
    cats = grade_categories(units, grades, "treatment", ae_terms, levels, any_name="any_ae")
    others = [t for t in ae_terms if t in pooled]
    out = {k: v for k, v in cats.items() if k not in pooled}
    if others:
        out[OTHER_AE] = grade_categories(
            units, grades, "treatment", others, levels, any_name=OTHER_AE
        )[OTHER_AE]
    return out


def _graded_cells(
    ctx: BaselineContext, layout: _Layout, ae_terms: list[str], aesi_terms: list[str]
) -> list[Cell]:
    safety = ctx.spec.safety
    levels = GradeLevels(safety.severe_grade)
    units = layout.values.frame
    if len(units):
        sw = safety_windows(prepare_inputs(ctx.source, ctx.vocab, ctx.cohort), safety)
    else:
        sw = SafetyWindows(
            pd.DataFrame(), pd.DataFrame(columns=["person_id", "group", "cycle"]), pd.DataFrame()
        )
    keys = list(dict.fromkeys([*ae_terms, *aesi_terms]))
    grades = worst_grades(ctx.source, ctx.vocab, ctx.cohort, sw.windows, keys)
    cells = _graded_table(
        layout, AE_ANALYSIS, _ae_categories(ctx, units, grades, ae_terms, levels), levels
    )
    for analysis, window in (
        (AESI_TREATMENT_ANALYSIS, "treatment"),
        (AESI_FOLLOWUP_ANALYSIS, "followup"),
    ):
        cats = grade_categories(units, grades, window, aesi_terms, levels, any_name="any_aesi")
        cells += _graded_table(layout, analysis, cats, levels)
    stop = _discontinued(units, grades, safety.severe_grade)
    _, status = cohort_line_inputs(ctx.source, ctx.vocab, ctx.cohort)
    progressed = _discontinued_for_progression(units, sw.windows, status)
    cells += layout.cells(
        DISCONTINUATION_ANALYSIS,
        lambda g, s, m: (
            flag_cells(DISCONTINUATION_ANALYSIS, g, s, "discontinued_due_to_ae", stop, m)
            + flag_cells(
                DISCONTINUATION_ANALYSIS, g, s, "discontinued_for_progression", progressed, m
            )
        ),
    )
    started, severe = _cycle_matrices(units, sw, grades, safety.severe_grade)
    cells += layout.cells(
        DLT_ANALYSIS, lambda g, s, m: cycle_cells(DLT_ANALYSIS, g, s, started, severe, m)
    )
    return cells


#: why a term of a graded table is "not available" (cdm-conventions: present in the CDM)
UNRECORDED_REASON = "no record of the adverse event in this CDM"


def _unrecorded_terms(analysis: str, columns_: list[str], terms: list[str]) -> pd.DataFrame:
    """One "not available" record per column for each term the CDM holds no record of.

    ``variable`` is the term, ``variable_level`` "not available", the reason in
    ``strata_level`` (``strata_name="reason"``): the table shows the term as not available,
    never as 0 %.
    """
    frames = [
        status_records(analysis, columns_, UNRECORDED_REASON).assign(variable=t) for t in terms
    ]
    if not frames:
        return status_records(analysis, columns_, UNRECORDED_REASON).iloc[0:0]
    return pd.concat(frames, ignore_index=True)


#: why the causes of death are "not available": no counted death has a cause concept
NO_CAUSE_REASON = "no death of the cohort has a cause (death.cause_concept_id 0 or empty)"
#: ``variable`` of the "not available" record of the causes of death
CAUSE_VARIABLE = "death_cause"


def _causes_unavailable(records: pd.DataFrame, columns_: list[str]) -> pd.DataFrame:
    """Return a "not available" record per column for the causes when deaths have none.

    Deaths are counted (``death`` / ``any``) but none of them carries a cause concept (OMOP
    ``death.cause_concept_id`` 0 or NULL): the table says "not available" for the cause,
    never a 100 % "unknown" nor a 0 % cause.
    """
    deaths = records[(records["analysis"] == DEATHS_ANALYSIS) & (records["variable"] == "death")]
    any_death = deaths[(deaths["variable_level"] == "any") & (deaths["estimate_name"] == "count")]
    has_cause = (deaths["variable_level"] != "any").any()
    if has_cause or not (pd.to_numeric(any_death["value"]) > 0).any():
        return status_records(DEATHS_ANALYSIS, columns_, NO_CAUSE_REASON).iloc[0:0]
    return status_records(DEATHS_ANALYSIS, columns_, NO_CAUSE_REASON).assign(
        variable=CAUSE_VARIABLE
    )


def summarise_safety(
    source: CdmSource, vocab: Vocabulary, cohort: Cohort, spec: StudySpec
) -> pd.DataFrame:
    """Safety tables of a cohort as long records, by index group and stratum.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force.
    cohort : Cohort
        The study cohort.
    spec : StudySpec
        The study specification: ``safety`` (window, sets, severe grade, early-death days,
        discontinuation settings), ``strata`` and ``patterns`` (index treatment and cycles).

    Returns
    -------
    pandas.DataFrame
        Records of the analyses ``safety_ae`` (adverse events in the treatment window: per
        term and ``any_ae``, persons at ``any grade`` = the total of ``grade 1-2``,
        ``grade >=3`` and ``grade unknown`` by the worst grade), ``safety_aesi_treatment`` and
        ``safety_aesi_followup`` (AEs of special interest in the treatment window and over all
        follow-up; a term the CDM holds no record of at all, for anyone, is one record per
        column with ``variable_level`` "not available" instead of counts),
        ``safety_discontinuation``, ``safety_dlt`` (per cycle: persons starting it and with a
        severe AE onset in it) and ``safety_deaths`` (deaths after index by
        cause, and within each of ``early_death_days``; when no counted death has a cause,
        ``death_cause`` is "not available"); percentages are of the persons of
        the column and stratum. Without graded adverse events (claims) the graded analyses
        hold one ``status`` record per group saying ``"not available"`` (the reason in
        ``strata_level``, ``strata_name="reason"``).

    Notes
    -----
    Definitions are in ``docs/baseline-and-safety.md``.
    """
    ctx = BaselineContext(source, vocab, cohort, spec)
    layout = _layout(ctx)
    ae_terms = term_keys(vocab, spec.safety.adverse_events)
    aesi_terms = term_keys(vocab, spec.safety.special_interest)
    pooled = [cs.key for cs in expand_keys(vocab, list(spec.safety.other_terms))]
    stray = [t for t in pooled if t not in ae_terms]
    if stray:
        raise StudySpecError(
            f"safety.other_terms {stray} are not among the terms of safety.adverse_events "
            f"{ae_terms}: only a term of the table can be pooled into its 'other' row"
        )
    recorded = recorded_sets(source, vocab, list(dict.fromkeys([*ae_terms, *aesi_terms])))
    absent = {
        AE_ANALYSIS: [t for t in ae_terms if not recorded[t]],
        AESI_TREATMENT_ANALYSIS: [t for t in aesi_terms if not recorded[t]],
        AESI_FOLLOWUP_ANALYSIS: [t for t in aesi_terms if not recorded[t]],
    }
    ae_terms = [t for t in ae_terms if recorded[t]]
    aesi_terms = [t for t in aesi_terms if recorded[t]]
    cells = _death_cells(layout, deaths(source, vocab, cohort), spec, cohort.frame)
    parts = []
    columns_ = [*layout.groups, OVERALL]
    if grades_available(source, vocab, spec.safety, [*ae_terms, *aesi_terms]):
        cells += _graded_cells(ctx, layout, ae_terms, aesi_terms)
        parts = [_unrecorded_terms(a, columns_, terms) for a, terms in absent.items()]
    else:
        reason = (
            "no graded adverse events in the CDM"
            if spec.safety.ae_grades == "auto"
            else "graded adverse events are declared not available (safety.ae_grades)"
        )
        parts = [status_records(a, columns_, reason) for a in GRADED_ANALYSES]
    disjoint = bool(layout.values.frame["person_id"].is_unique)
    records = add_margins(cells_frame(cells), groups_disjoint=disjoint)
    parts.append(_causes_unavailable(records, columns_))
    for analysis, kept in (
        (AE_ANALYSIS, ae_terms),
        (AESI_TREATMENT_ANALYSIS, aesi_terms),
        (AESI_FOLLOWUP_ANALYSIS, aesi_terms),
    ):
        if absent[analysis] and not kept:
            # every term of the table is unrecorded: the table, "any" row included, is not
            # available (an "any AE of special interest" of 0 % would be a made-up zero)
            records = records[records["analysis"] != analysis]
            parts = [p[p["analysis"] != analysis] for p in parts]
            parts.append(status_records(analysis, columns_, UNRECORDED_REASON))
    return pd.concat([records, *parts], ignore_index=True)


def analyse_safety(cohort: Cohort, spec: StudySpec, rows: CdmRows) -> pd.DataFrame:
    """Safety tables of the cohort as records (the entry point, :mod:`allrwe.analyses.entry`)."""
    return summarise_safety(rows.source, rows.vocab, cohort, spec)
