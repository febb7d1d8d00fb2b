"""``check_cdm``: tell whether an OMOP CDM v5.4 is fit for allrwe.

Structure (required tables, required columns, column types) is read from the schema; every data
rule is an aggregate query run in the database engine, one count per rule and table, so no row
and no person identifier ever reaches Python. Rules sharing a table are counted in one query;
rules on the rows a study keeps (small, in the engine) are all counted in one query.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from itertools import accumulate

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops

from allrwe.io.cdm import CdmSource
from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.io.check._context import Check, CheckContext
from allrwe.io.check.report import SEVERITIES, CheckReport, Finding, Severity
from allrwe.io.check.rules import GENERIC_RULES
from allrwe.io.check.rules_clinical import CLINICAL_RULES
from allrwe.io.check.structure import cdm_version_finding, inspect_structure, type_compatibility
from allrwe.io.kept import CachedRows
from allrwe.io.vocabulary import Vocabulary, load_vocabulary

__all__ = [
    "READ_TABLES",
    "SEVERITIES",
    "STUDY_TABLES",
    "CheckReport",
    "Finding",
    "Severity",
    "check_cdm",
    "type_compatibility",
]

log = logging.getLogger(__name__)

#: days a death may follow the end of observation, or care may follow a death, unremarked
DEATH_GRACE_DAYS = 30

#: the CDM tables a study reads records from; the run's data checks cover these
STUDY_TABLES = (
    "person",
    "observation_period",
    "death",
    "drug_exposure",
    "condition_occurrence",
    "procedure_occurrence",
    "measurement",
    "observation",
    "drug_strength",
)
#: every table an analysis reads, vocabulary included: structural errors elsewhere are warnings
READ_TABLES = (*STUDY_TABLES, "concept", "concept_ancestor", "concept_relationship")


def _ancestor_finding(source: CdmSource, vocabulary: Vocabulary) -> Finding | None:
    """Warn of an empty ``concept_ancestor`` when concept sets bring descendants."""
    uses = any(c.include_descendants for s in vocabulary.sets.values() for c in s.concepts)
    if not uses or not source.has("concept_ancestor"):
        return None
    if int(source.execute(source.table("concept_ancestor").limit(1).count())):
        return None
    return Finding(
        "warning",
        "concept_ancestor",
        None,
        "empty_concept_ancestor",
        None,
        "concept_ancestor is empty: concept sets are matched on their own concepts, without "
        "descendants (load the vocabulary's concept_ancestor to match those)",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _finding(check: Check, rows: int) -> Finding:
    return Finding(
        check.severity, check.table, check.column, check.rule, rows, check.message.format(rows=rows)
    )


def _failed(check: Check, exc: BaseException) -> Finding:
    return Finding(
        "error",
        check.table,
        check.column,
        "query_failed",
        None,
        f"rule {check.rule} could not run on {check.table}: {_first_line(exc)}",
    )


def _count(value: object) -> int:
    # SUM over no rows is NULL, which pandas hands back as None or NaN
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def _one_row(unit: Sequence[Check], first: int) -> ibis.Table:
    """Return the counts of ``unit`` as one row, column ``c{first + i}`` for its i-th check."""
    head = unit[0]
    if head.expr is not None:
        return head.expr.name(f"c{first}").as_table()
    assert head.base is not None
    metrics = [
        ibis.ifelse(c.predicate, 1, 0).sum().name(f"c{first + i}") for i, c in enumerate(unit)
    ]
    return head.base.aggregate(metrics)


def _unit_counts(source: CdmSource, unit: Sequence[Check]) -> list[int]:
    row = source.execute(_one_row(unit, 0)).iloc[0]
    return [_count(row[f"c{i}"]) for i in range(len(unit))]


def _run_unit(source: CdmSource, unit: Sequence[Check]) -> list[Finding]:
    """Run one unit in one query; when it fails, each check alone, so the failing one is named."""
    try:
        counts = _unit_counts(source, unit)
    except Exception as exc:  # backend errors become findings, never tracebacks
        if len(unit) == 1:
            log.debug("check %s on %s failed", unit[0].rule, unit[0].table, exc_info=True)
            return [_failed(unit[0], exc)]
        return [f for c in unit for f in _run_unit(source, [c])]
    return [_finding(c, n) for c, n in zip(unit, counts, strict=True) if n]


def _units(checks: Sequence[Check]) -> list[list[Check]]:
    """Group checks into queries: each scalar check alone, then the predicate checks by base."""
    scalars: list[list[Check]] = []
    batches: dict[int, list[Check]] = {}
    for c in checks:
        if c.expr is not None:
            scalars.append([c])
        else:
            batches.setdefault(id(c.base), []).append(c)
    return [*scalars, *batches.values()]


def _tables_read(unit: Sequence[Check]) -> set[ops.Node]:
    """Return the tables (as Ibis operations) the queries of ``unit`` read."""
    exprs = [e for c in unit for e in (c.expr, c.base, c.predicate) if e is not None]
    return {node for e in exprs for node in e.op().find(ops.PhysicalTable)}


def _nothing_to_count(check: Check, kept: Mapping[str, CachedRows]) -> bool:
    """Whether ``check`` reads the kept rows of its own table, and none are kept."""
    rows = kept.get(check.table)
    return rows is not None and rows.rows == 0 and rows.table.op() in _tables_read([check])


def _counts_together(source: CdmSource, units: Sequence[Sequence[Check]]) -> list[list[int]] | None:
    """Count every unit in one query (their one-row results side by side); None if it fails."""
    firsts = list(accumulate((len(u) for u in units), initial=0))
    try:
        parts = [_one_row(u, first) for u, first in zip(units, firsts, strict=False)]
        row = source.execute(parts[0].cross_join(*parts[1:])).iloc[0]
        return [
            [_count(row[f"c{first + i}"]) for i in range(len(u))]
            for u, first in zip(units, firsts, strict=False)
        ]
    except Exception:  # one unit the engine cannot run: each runs alone to name it
        log.debug("the %d checks on kept rows failed together", len(units), exc_info=True)
        return None


def _run(
    source: CdmSource, checks: Sequence[Check], kept: Mapping[str, CachedRows] | None = None
) -> list[Finding]:
    """Run the checks; return their findings, those of each query unit in turn.

    Checks that read nothing but ``kept`` rows (small, in the engine) are counted in one query;
    every other unit runs alone, as a scan of whole tables is best not shared. A check that
    reads the kept rows of its own table, and there are none, has no row to count: it is not
    run.
    """
    kept = kept or {}
    units = _units([c for c in checks if not _nothing_to_count(c, kept)])
    small = {k.table.op() for k in kept.values()}
    together = [u for u in units if _tables_read(u) <= small]
    counted: dict[int, list[int]] = {}
    if len(together) > 1:
        counts = _counts_together(source, together)
        if counts is not None:
            counted = {id(u): n for u, n in zip(together, counts, strict=True)}
    findings: list[Finding] = []
    for unit in units:
        if id(unit) in counted:
            pairs = zip(unit, counted[id(unit)], strict=True)
            findings.extend(_finding(c, n) for c, n in pairs if n)
        else:
            findings.extend(_run_unit(source, unit))
    return findings


def _kept_rows(
    source: CdmSource, usable: dict[str, dict[str, dt.DataType]], tables: Collection[str] | None
) -> dict[str, CachedRows]:
    """Return the kept rows of the checked tables; their usable columns shrink to the kept ones."""
    if tables is None:
        return {}
    out: dict[str, CachedRows] = {}
    keeper = source.kept
    if keeper is None:
        return out
    for name in sorted({t.lower() for t in tables}):
        kept = keeper.cached_rows(name)
        if kept is not None and name in usable:
            out[name] = kept
            usable[name] = {c: t for c, t in usable[name].items() if c in kept.table.columns}
    return out


def _bundled() -> Vocabulary:
    return load_vocabulary()


def check_cdm(
    source: CdmSource,
    *,
    today: date | None = None,
    vocabulary: Vocabulary | None = None,
    death_grace_days: int = DEATH_GRACE_DAYS,
    tables: Collection[str] | None = None,
    data: bool = True,
    read: Collection[str] | None = None,
) -> CheckReport:
    """Check an OMOP CDM v5.4 for structure and data quality.

    Parameters
    ----------
    source : CdmSource
        The CDM, opened read-only with :func:`allrwe.io.source.connect`, or the rows a run
        keeps of it (:class:`~allrwe.io.kept.KeptRows`).
    today : datetime.date, optional
        The date against which dates count as in the future; defaults to today.
    vocabulary : Vocabulary, optional
        Concept sets for the lab and adverse-event rules; defaults to the bundled ones.
    death_grace_days : int, default 30
        Days a death may follow the end of the last observation period (and care may follow a
        death) before a warning.
    tables : collection of str, optional
        Run the data rules only on these tables, and, when ``source`` is a
        :class:`~allrwe.io.kept.KeptRows`, on the rows of them it keeps where there are any
        (what a study reads); default every table, every row. Structure is always checked on
        every table.
    data : bool, default True
        Run the data rules at all; ``False`` checks the structure only.
    read : collection of str, optional
        The tables the analyses read (:data:`READ_TABLES` for a study); a structural error on
        any other table is a warning. Default: every table counts as read.

    Returns
    -------
    CheckReport
        Typed findings (severity, table, column, rule, rows, message), counts only.

    Examples
    --------
    >>> import tempfile
    >>> from allrwe.io.example import example_cdm_path
    >>> from allrwe.io.source import connect
    >>> url = example_cdm_path("duckdb", tempfile.mkdtemp())
    >>> with connect(url) as cdm:
    ...     report = check_cdm(cdm)
    >>> report.ok
    True
    """
    spec = load_cdm_spec()
    structure, usable = inspect_structure(source, spec, read=read)
    noticed = (cdm_version_finding(source), _ancestor_finding(source, vocabulary or _bundled()))
    structure += [f for f in noticed if f is not None]
    kept = _kept_rows(source, usable, tables)
    ctx = CheckContext(
        source=source,
        spec=spec,
        today=today or date.today(),
        vocabulary=vocabulary or _bundled(),
        death_grace_days=death_grace_days,
        usable=usable,
        rows={name: rows.table for name, rows in kept.items()},
    )
    checks = [c for rule in (*GENERIC_RULES, *CLINICAL_RULES) for c in rule(ctx)] if data else []
    if tables is not None:
        wanted = {name.lower() for name in tables}
        checks = [c for c in checks if c.table in wanted]
    findings = structure + _run(source, checks, kept)
    report = CheckReport.build(
        findings,
        source=source.description,
        kind=source.kind,
        today=ctx.today,
        tables=tuple(source.tables),
        checks_run=len(checks),
        checks_skipped=ctx.skipped,
    )
    log.info("%s", report.summary())
    return report
