"""The report's structure: sections built from a suppressed result set (and the spec).

:func:`build_report` reads the suppressed records only, so every count, percentage and
estimate in the report passed small-cell suppression. The spec adds the methods text and the
order of groups; :class:`~allrwe.report.model.ReportMeta` adds the title block.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from allrwe import __version__
from allrwe.analyses.baseline import RANGE_LABEL, VARIABLE_LABELS, table_one
from allrwe.errors import DisclosureError
from allrwe.report._blocks import (
    OVERALL_NOTE,
    Context,
    group_header,
    make_table,
    na_text,
    overall_header,
    policy_statement,
    slug,
    stratum_words,
)
from allrwe.report._view import (
    NOT_ESTIMABLE,
    SUPPRESSED,
    ResultView,
    fmt_count,
    level_sort_key,
)
from allrwe.report.figures import therapy_colours
from allrwe.report.labels import relabel_section
from allrwe.report.model import (
    Details,
    Flow,
    FlowStep,
    ReportDocument,
    ReportMeta,
    Row,
    Section,
    Table,
    Text,
)
from allrwe.report.sections.efficacy import efficacy_tables
from allrwe.report.sections.incidence import cumulative_incidence_section
from allrwe.report.sections.methods import methods_section
from allrwe.report.sections.pathways import pathway_therapies
from allrwe.report.sections.response import response_section
from allrwe.report.sections.safety import safety_section
from allrwe.report.sections.smd import SMD_NO_VALUE_NOTE, no_value_smds
from allrwe.report.sections.survival import survival_section
from allrwe.report.sections.therapy import patterns_section
from allrwe.results import ResultSet
from allrwe.spec import StudySpec

__all__ = ["SECTION_IDS", "build_report", "meta_from_results"]

#: the top-level sections, in order
SECTION_IDS = (
    "attrition",
    "baseline",
    "patterns",
    "response",
    "survival",
    "cumulative-incidence",
    "safety",
    "methods",
    "notes",
)


def meta_from_results(results: ResultSet, spec: StudySpec) -> ReportMeta:
    """Collect the title block from the provenance of ``results`` and the spec.

    Everything the report shows comes from the records, the provenance and the spec, so a
    report can be rebuilt from an output folder (``allrwe report``).

    Parameters
    ----------
    results : ResultSet
        The suppressed results; ``provenance.cdm`` gives the ``cdm_source`` fields
        (``cdm_source_name``, ``source_description``, ``cdm_version``, ...) and
        ``provenance.settings["pathways"]`` the settings of the pathway analysis.
    spec : StudySpec
        The study specification.
    """
    prov = results.provenance
    info = {str(k): str(v) for k, v in (prov.cdm or {}).items()}
    parts = [info.get("cdm_source_name", ""), info.get("source_description", "")]
    data_source = "; ".join(p for p in parts if p) or prov.cdm_source
    suppression = prov.suppression
    pathway_settings = (prov.settings or {}).get("pathways") or {}
    return ReportMeta(
        title=spec.report.title or spec.name,
        subtitle=spec.report.subtitle or "",
        authors=tuple(spec.report.authors),
        study_name=spec.name,
        description=" ".join(spec.description.split()),
        data_source=data_source,
        cdm_source=prov.cdm_source,
        allrwe_version=prov.allrwe_version or __version__,
        spec_hash=prov.spec_hash,
        run_date=prov.created_at[:10],
        min_cell_count=suppression.min_cell_count if suppression is not None else 1,
        suppression=suppression.to_dict() if suppression is not None else {},
        source_info=info,
        pathway_settings=dict(pathway_settings or {}),
        # sorted: provenance.json keeps its keys sorted, and allrwe report rebuilds from it
        unrecorded_sets=tuple(
            sorted(
                str(k) for k, v in (prov.concept_sets or {}).items() if v.get("recorded") is False
            )
        ),
    )


# ------------------------------------------------------------------ attrition


def _attrition_group(ctx: Context, group: str) -> tuple[Table, Flow]:
    view = ctx.view
    levels = sorted(view.levels("attrition", "variable_level", group=group, variable="step"))
    rows, steps = [], []
    for level in levels:
        number, _, reason = level.partition(" ")

        def get(name: str, lv: str = level) -> Any:
            return view.get("attrition", group, "overall", "overall", "step", lv, name)

        persons, excluded = fmt_count(get("n_persons")), get("n_excluded")
        rows.append(
            Row(
                (
                    str(int(number)),
                    reason,
                    persons,
                    fmt_count(excluded),
                    fmt_count(get("n_records")),
                )
            )
        )
        shown = None if excluded.present and excluded.value == 0 else fmt_count(excluded)
        steps.append(FlowStep(reason, persons, shown if int(number) > 1 else None))
    table = make_table(
        ctx,
        f"attrition-{group}",
        f"Attrition of group {group}",
        ("Step", "Criterion", "Persons", "Excluded", "Records"),
        rows,
        ("Persons: remaining after the step; Excluded: persons the step removed.",),
    )
    return table, Flow(f"flow-{group}", group, tuple(steps))


def attrition_section(ctx: Context) -> Section:
    """Attrition table and flow diagram per group."""
    groups = ctx.present_groups("attrition")
    if not groups:
        return Section("attrition", "Cohort attrition", (na_text("Attrition", None),), (), False)
    blocks: list[Any] = []
    for group in groups:
        table, flow = _attrition_group(ctx, group)
        blocks += [flow, table]
    return Section("attrition", "Cohort attrition", tuple(blocks))


# ------------------------------------------------------------------ Table 1

_STAT_ROWS = ("n", "mean (SD)", "median (IQR)", "min, max", RANGE_LABEL)
_LABEL_ORDER = {label: i for i, label in enumerate(VARIABLE_LABELS.values())}


def _display(text: str) -> str:
    # table_one writes "–" when not estimable and "suppressed" when hidden; the report's
    # markers are "NE" and "–".
    return str(text).replace("–", NOT_ESTIMABLE).replace("suppressed", SUPPRESSED)


def _table_one_rows(wide: pd.DataFrame) -> list[Row]:
    # Cells and index levels are read once as plain lists: selecting rows of a frame of
    # (Arrow-backed) strings one at a time is slow.
    cells = [[_display(v) for v in row] for row in wide.to_numpy(dtype=object).tolist()]
    variables = [str(v) for v in wide.index.get_level_values("variable")]
    smd_columns = [j for j, c in enumerate(wide.columns) if str(c).startswith("SMD ")]
    levels_of = [str(lv) for lv in wide.index.get_level_values("level")]
    positions: dict[str, list[int]] = {}
    for i, label in enumerate(variables):
        positions.setdefault(label, []).append(i)
    labels = sorted(positions, key=lambda lab: (_LABEL_ORDER.get(lab, len(_LABEL_ORDER)), lab))
    rows: list[Row] = []
    for label in labels:
        at = positions[label]
        levels = [levels_of[i] for i in at]
        if levels == [""]:
            rows.append(Row((label, *cells[at[0]]), strong=True))
            continue
        stats = all(lv in _STAT_ROWS for lv in levels)
        order = levels if stats else sorted(levels, key=level_sort_key)
        level_cells = [list(cells[at[levels.index(level)]]) for level in order]
        head = _variable_smd(level_cells, smd_columns)
        rows.append(Row((label, *head), strong=True))
        rows += [Row((lv, *c), indent=1) for lv, c in zip(order, level_cells, strict=True)]
    return rows


def _variable_smd(level_cells: list[list[str]], smd_columns: list[int]) -> list[str]:
    """Move a variable's one SMD from a level's row to the variable's row; return that row.

    table_one writes the SMD of a categorical or continuous variable once, on the row of
    one level (its first, before the report orders the levels): read there it looks like
    the SMD of that level (``female``, ``35 to <55``). An SMD column with exactly one filled
    level row is that variable's SMD and goes to the variable's row; a column with several
    (a multi-response variable, such as the genetic features: one SMD per level) stays.
    """
    width = len(level_cells[0]) if level_cells else 0
    head = [""] * width
    for j in smd_columns:
        filled = [c for c in level_cells if c[j] != ""]
        if len(filled) == 1:
            head[j], filled[0][j] = filled[0][j], ""
    return head


def _without_empty_columns(header: list[str], rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Drop the columns with no estimate in any row (the SMD of a one-group study)."""
    keep = [0] + [
        j
        for j in range(1, len(header))
        if any(j < len(r.cells) and r.cells[j] not in ("", NOT_ESTIMABLE) for r in rows)
    ]
    return [header[j] for j in keep], [
        Row(tuple(r.cells[j] for j in keep), r.indent, r.strong) for r in rows
    ]


def baseline_section(ctx: Context) -> Section:
    """Table 1 from the ``baseline`` records (overall; strata folded)."""
    title = "Baseline characteristics"
    reason = ctx.view.not_available("baseline")
    records = ctx.view.frame("baseline")
    if records.empty or reason is not None:
        return Section("baseline", title, (na_text("Baseline characteristics", reason),), (), False)
    # an SMD of a variable nobody of the two groups has reads NE, not 0.000 (the records keep
    # the analysis' value)
    blank = no_value_smds(records)
    records = records.assign(value=records["value"].mask(blank))
    hidden = records.loc[blank]
    noted = set(zip(hidden["strata_name"], hidden["strata_level"], strict=True))

    wide = table_one(records)
    groups = [c for c in wide.columns if c != "Overall" and not str(c).startswith("SMD ")]
    if len(groups) == 1:  # one group: its column only, not the same column again as Overall
        wide = wide.drop(columns="Overall", errors="ignore")
    overall_note = (OVERALL_NOTE,) if "Overall" in wide.columns else ()

    def notes(stratum: tuple[str, str]) -> tuple[str, ...]:
        return (*overall_note, *((SMD_NO_VALUE_NOTE,) if stratum in noted else ()))

    header = ["Characteristic", *(str(c) for c in wide.columns)]
    names = wide.index.get_level_values("strata_name")
    # each group's column headed with its size, as seed 001's "N = 96"
    overall = [
        header[0],
        *(
            group_header(ctx, c) if c in groups else overall_header(ctx) if c == "Overall" else c
            for c in header[1:]
        ),
    ]
    blocks: list[Any] = [
        make_table(
            ctx,
            "table-one",
            "Baseline characteristics at index (Table 1)",
            *_without_empty_columns(overall, _table_one_rows(wide[names == "overall"])),
            notes(("overall", "overall")),
        )
    ]
    for name in dict.fromkeys(n for n in names if n != "overall"):
        part = wide[names == name]
        tables = []
        for level in sorted(
            dict.fromkeys(part.index.get_level_values("strata_level")), key=level_sort_key
        ):
            sub = part[part.index.get_level_values("strata_level") == level]
            columns = [
                overall_header(ctx, (name, level))
                if c == "Overall"
                else group_header(ctx, c, (name, level))
                for c in header[1:]
            ]
            tables.append(
                make_table(
                    ctx,
                    f"table-one-{slug(name)}-{slug(level)}",
                    f"Table 1 by {stratum_words(name, level)}",
                    *_without_empty_columns([header[0], *columns], _table_one_rows(sub)),
                    notes((name, level)),
                )
            )
        blocks.append(Details(f"Table 1 by {name}", tuple(tables)))
    return Section("baseline", title, tuple(blocks))


# ------------------------------------------------------------------ notes


def notes_section(ctx: Context, meta: ReportMeta, n_records: int) -> Section:
    """How to read the report, and the provenance of the run."""
    m = meta.min_cell_count
    text = Text(
        (
            policy_statement(meta.suppression, m),
            f"Hidden values are shown as {SUPPRESSED}, with every statistic of a hidden count. "
            f"Zero is shown: it describes nobody. {NOT_ESTIMABLE}: not estimable; NR: not "
            "reached.",
            "Everything in this report comes from the suppressed result records that are "
            f"exported beside it (results.csv, .parquet, .xlsx, .json; {n_records} records).",
        )
    )
    s = meta.suppression
    rows = [
        Row(("Study", meta.study_name)),
        Row(("Study specification (SHA-256)", meta.spec_hash)),
        Row(("CDM", meta.cdm_source)),
        Row(("allrwe version", meta.allrwe_version)),
        # the report is the same for the same inputs: the time of the run is only in
        # provenance.json
        Row(("Time of the run", "in provenance.json")),
        Row(("Minimum cell count", str(m))),
        Row(("Suppression policy", str(s.get("policy", "complementary")))),
        Row(("Suppressed count records", str(s.get("suppressed_count_cells", 0)))),
        Row(("Suppressed linked records", str(s.get("suppressed_linked", 0)))),
    ]
    table = Table("provenance", "Provenance of the run", ("Item", "Value"), tuple(rows))
    return Section("notes", "Notes on the outputs", (text, table))


def _with_table_two(ctx: Context, spec: StudySpec, section: Section) -> Section:
    """Put seed 001's Table 2 (efficacy by setting and line) at the head of the outcomes."""
    if not section.available:
        return section
    return replace(section, blocks=(*efficacy_tables(ctx, spec), *section.blocks))


def build_report(results: ResultSet, spec: StudySpec, meta: ReportMeta) -> ReportDocument:
    """Build the report's sections from suppressed results.

    Parameters
    ----------
    results : ResultSet
        Suppressed results of one run.
    spec : StudySpec
        The study specification.
    meta : ReportMeta
        Title block (see :func:`meta_from_results`).

    Returns
    -------
    ReportDocument
        The sections of :data:`SECTION_IDS`, in that order.

    Raises
    ------
    DisclosureError
        If ``results`` has not been suppressed.
    """
    if not results.is_suppressed:
        raise DisclosureError(
            "the report shows suppressed results only; call allrwe.results.suppress first"
        )
    view = ResultView(results.records)
    colours = therapy_colours(
        spec.index_groups,
        spec.patterns.therapy_classes,
        pathway_therapies(view.frame("pathways")),
    )
    ctx = Context(
        view,
        list(spec.index_groups),
        meta.min_cell_count,
        colours,
        hides_below=spec.hides_below,
        pathway_settings=meta.pathway_settings,
    )
    sections = (
        attrition_section(ctx),
        baseline_section(ctx),
        patterns_section(ctx, spec),
        response_section(ctx, spec),
        _with_table_two(ctx, spec, survival_section(ctx, spec)),
        cumulative_incidence_section(ctx, spec),
        safety_section(ctx),
        methods_section(spec, meta),
        notes_section(ctx, meta, len(results)),
    )
    # Methods and notes write their keys with labels themselves and name identifiers (the
    # study, OMOP tables) that must stay as they are.
    verbatim = {"methods", "notes"}
    return ReportDocument(
        meta, tuple(s if s.id in verbatim else relabel_section(s) for s in sections)
    )
