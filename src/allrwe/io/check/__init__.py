"""``check_cdm``: tell whether an OMOP CDM v5.4 is fit for allrwe.

Structure (required tables, required columns, column types) is read from the schema; every data
rule is an aggregate query run in the database engine, one count per rule and table, so no row
and no person identifier ever reaches Python. Rules sharing a table are counted in one query.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date

import ibis
import ibis.expr.datatypes as dt

from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.io.check._context import Check, CheckContext
from allrwe.io.check.report import SEVERITIES, CheckReport, Finding, Severity
from allrwe.io.check.rules import GENERIC_RULES
from allrwe.io.check.rules_clinical import CLINICAL_RULES
from allrwe.io.check.structure import inspect_structure, type_compatibility
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary, load_vocabulary

__all__ = [
    "SEVERITIES",
    "CheckReport",
    "Finding",
    "Severity",
    "check_cdm",
    "type_compatibility",
]

log = logging.getLogger(__name__)

#: days a death may follow the end of observation, or care may follow a death, unremarked
DEATH_GRACE_DAYS = 30


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


def _run_scalar(source: CdmSource, check: Check) -> Finding | None:
    try:
        rows = _count(source.execute(check.expr))
    except Exception as exc:  # backend errors become findings, never tracebacks
        log.debug("check %s on %s failed", check.rule, check.table, exc_info=True)
        return _failed(check, exc)
    return _finding(check, rows) if rows else None


def _batch_counts(source: CdmSource, checks: list[Check]) -> list[int]:
    base = checks[0].base
    assert base is not None
    metrics = [ibis.ifelse(c.predicate, 1, 0).sum().name(f"c{i}") for i, c in enumerate(checks)]
    row = source.execute(base.aggregate(metrics)).iloc[0]
    return [_count(row[f"c{i}"]) for i in range(len(checks))]


def _run_batch(source: CdmSource, checks: list[Check]) -> list[Finding]:
    try:
        counts = _batch_counts(source, checks)
    except Exception as exc:  # backend errors become findings, never tracebacks
        if len(checks) == 1:
            return [_failed(checks[0], exc)]
        # run each check alone to find the one that fails
        return [f for c in checks for f in _run_batch(source, [c])]
    return [_finding(c, n) for c, n in zip(checks, counts, strict=True) if n]


def _run(source: CdmSource, checks: Sequence[Check]) -> list[Finding]:
    batches: dict[int, list[Check]] = defaultdict(list)
    findings: list[Finding] = []
    for c in checks:
        if c.expr is not None:
            finding = _run_scalar(source, c)
            if finding is not None:
                findings.append(finding)
        else:
            batches[id(c.base)].append(c)
    for batch in batches.values():
        findings.extend(_run_batch(source, batch))
    return findings


def _kept_rows(
    source: CdmSource, usable: dict[str, dict[str, dt.DataType]], tables: Collection[str] | None
) -> dict[str, ibis.Table]:
    """Return the kept rows of the checked tables; their usable columns shrink to the kept ones."""
    if tables is None:
        return {}
    out: dict[str, ibis.Table] = {}
    for name in sorted({t.lower() for t in tables}):
        kept = source.cached_rows(name)
        if kept is not None and name in usable:
            out[name] = kept.table
            usable[name] = {c: t for c, t in usable[name].items() if c in kept.table.columns}
    return out


def check_cdm(
    source: CdmSource,
    *,
    today: date | None = None,
    vocabulary: Vocabulary | None = None,
    death_grace_days: int = DEATH_GRACE_DAYS,
    tables: Collection[str] | None = None,
    data: bool = True,
) -> CheckReport:
    """Check an OMOP CDM v5.4 for structure and data quality.

    Parameters
    ----------
    source : CdmSource
        The CDM, opened read-only with :func:`allrwe.io.source.connect`.
    today : datetime.date, optional
        The date against which dates count as in the future; defaults to today.
    vocabulary : Vocabulary, optional
        Concept sets for the lab and adverse-event rules; defaults to the bundled ones.
    death_grace_days : int, default 30
        Days a death may follow the end of the last observation period (and care may follow a
        death) before a warning.
    tables : collection of str, optional
        Run the data rules only on these tables, and on the rows of them kept by
        :meth:`~allrwe.io.source.CdmSource.cache_rows` where there are any (what a study
        reads); default every table, every row. Structure is always checked on every table.
    data : bool, default True
        Run the data rules at all; ``False`` checks the structure only.

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
    structure, usable = inspect_structure(source, spec)
    ctx = CheckContext(
        source=source,
        spec=spec,
        today=today or date.today(),
        vocabulary=vocabulary or load_vocabulary(),
        death_grace_days=death_grace_days,
        usable=usable,
        rows=_kept_rows(source, usable, tables),
    )
    checks = [c for rule in (*GENERIC_RULES, *CLINICAL_RULES) for c in rule(ctx)] if data else []
    if tables is not None:
        wanted = {name.lower() for name in tables}
        checks = [c for c in checks if c.table in wanted]
    findings = structure + _run(source, checks)
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
