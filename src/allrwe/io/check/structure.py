"""Structure rules: required tables, required columns, and column types.

Type policy (documented in README "Check a CDM"):

- integer fields: any integer type, or a decimal of scale 0, is fine; a float or a decimal with
  a fraction is a warning (values still compare as numbers); text, booleans and dates are errors;
- float fields: any numeric type is fine;
- date fields: DATE is fine; TIMESTAMP is a warning (allrwe reads the date part); anything else
  is an error;
- datetime fields: TIMESTAMP or DATE is fine;
- string fields: any type is fine (a number where text is expected is still readable);
- a column of the NULL type (an all-empty column written by pandas or Arrow) is fine for any field.

An incompatible type is an error on a required field; on an optional field it is an error only
when the column holds values (an all-null optional column of the wrong type is a note).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Literal

import ibis
import ibis.expr.datatypes as dt

from allrwe.io.cdm_spec import REQUIRED_TABLES, CdmSpec, FieldType, TableSpec
from allrwe.io.check.report import Finding
from allrwe.io.source import CdmSource

__all__ = ["cdm_version_finding", "inspect_structure", "type_compatibility"]

log = logging.getLogger(__name__)

#: why a study cannot run without each required table (said with its ``missing_table`` error)
_REQUIRED_WHY = {
    "person": "it holds every person, their sex and year of birth",
    "observation_period": (
        "the cohort needs each person's observed time (prior observation, follow-up and "
        "censoring); an ETL writes at least one period per person, e.g. first to last record"
    ),
}

Compat = Literal["ok", "lenient", "bad"]


def _integer_compat(dtype: dt.DataType) -> Compat:
    if dtype.is_integer():
        return "ok"
    if dtype.is_decimal():
        scale = dtype.scale
        return "ok" if scale in (0, None) else "lenient"
    return "lenient" if dtype.is_floating() else "bad"


def type_compatibility(expected: FieldType, dtype: dt.DataType) -> Compat:
    """Judge a stored type against the CDM field's logical type.

    Parameters
    ----------
    expected : {"integer", "float", "date", "datetime", "string"}
        The field's type in the CDM specification.
    dtype : ibis.expr.datatypes.DataType
        The type the backend reports.

    Returns
    -------
    {"ok", "lenient", "bad"}
        ``lenient`` means readable but worth a warning.

    Examples
    --------
    >>> import ibis.expr.datatypes as dt
    >>> type_compatibility("date", dt.timestamp)
    'lenient'
    >>> type_compatibility("integer", dt.string)
    'bad'
    """
    if dtype.is_null() or expected == "string":
        return "ok"
    if expected == "integer":
        return _integer_compat(dtype)
    if expected == "float":
        return "ok" if dtype.is_numeric() and not dtype.is_boolean() else "bad"
    if expected == "date":
        if dtype.is_date():
            return "ok"
        return "lenient" if dtype.is_timestamp() else "bad"
    # datetime
    return "ok" if dtype.is_timestamp() or dtype.is_date() else "bad"


def _type_text(dtype: dt.DataType) -> str:
    return str(dtype).replace("!", "")


def _lenient_message(table: str, column: str, expected: FieldType, dtype: dt.DataType) -> str:
    if expected == "date":
        why = "allrwe reads the date part"
    else:
        why = "values compare as numbers; fractions would be wrong"
    return f"{table}.{column} is stored as {_type_text(dtype)}; {expected} expected ({why})"


def _non_null_counts(t: ibis.Table, source: CdmSource, columns: list[str]) -> dict[str, int]:
    if not columns:
        return {}
    agg = t.aggregate([t[c].count().name(f"c{i}") for i, c in enumerate(columns)])
    row = source.execute(agg).iloc[0]
    return {c: int(row[f"c{i}"] or 0) for i, c in enumerate(columns)}


#: the largest id every engine and pandas can hold (BIGINT)
INT64_MAX = 2**63 - 1


def _unsigned_overflow(
    t: ibis.Table, source: CdmSource, table: str, usable: dict[str, dt.DataType]
) -> list[Finding]:
    """Find unsigned 64-bit integer columns holding values beyond BIGINT (an error each)."""
    wide = [c for c, d in usable.items() if isinstance(d, dt.UInt64)]
    if not wide:
        return []
    limit = ibis.literal(INT64_MAX, type="uint64")
    agg = t.aggregate([(t[c] > limit).sum().name(f"c{i}") for i, c in enumerate(wide)])
    row = source.execute(agg).iloc[0]
    out = []
    for i, column in enumerate(wide):
        rows = int(row[f"c{i}"] or 0)
        if rows:
            msg = (
                f"{rows:,} {table} rows have a {column} above 2^63 - 1 (stored as UBIGINT); "
                "allrwe reads ids as BIGINT"
            )
            out.append(Finding("error", table, column, "integer_overflow", rows, msg))
    return out


def _inspect_table(
    source: CdmSource, tspec: TableSpec
) -> tuple[list[Finding], dict[str, dt.DataType]]:
    t = source.table(tspec.name)
    schema = t.schema()
    findings: list[Finding] = []
    usable: dict[str, dt.DataType] = {}
    bad_optional: list[str] = []
    for f in tspec.fields:
        if f.name not in schema:
            if f.required:
                findings.append(
                    Finding(
                        "error",
                        tspec.name,
                        f.name,
                        "missing_column",
                        None,
                        f"{tspec.name} has no required column {f.name!r}",
                    )
                )
            continue
        dtype = schema[f.name]
        compat = type_compatibility(f.type, dtype)
        if compat == "ok":
            usable[f.name] = dtype
        elif compat == "lenient":
            usable[f.name] = dtype
            msg = _lenient_message(tspec.name, f.name, f.type, dtype)
            findings.append(Finding("warning", tspec.name, f.name, "column_type", None, msg))
        elif f.required:
            msg = f"{tspec.name}.{f.name} is stored as {_type_text(dtype)}; {f.type} expected"
            findings.append(Finding("error", tspec.name, f.name, "column_type", None, msg))
        else:
            bad_optional.append(f.name)
    findings.extend(_unsigned_overflow(t, source, tspec.name, usable))
    counts = _non_null_counts(t, source, bad_optional)
    for name in bad_optional:
        dtype, expected = schema[name], tspec.field(name).type
        stored = f"{tspec.name}.{name} is stored as {_type_text(dtype)}; {expected} expected"
        if counts[name]:
            findings.append(
                Finding(
                    "error",
                    tspec.name,
                    name,
                    "column_type",
                    counts[name],
                    f"{stored} ({counts[name]:,} non-null rows)",
                )
            )
        else:
            findings.append(
                Finding("info", tspec.name, name, "column_type", 0, f"{stored}; all values null")
            )
    return findings, usable


def _unread(finding: Finding) -> Finding:
    """Return an error on a table no analysis reads as a warning saying so."""
    if finding.severity != "error":
        return finding
    message = f"{finding.message} (no analysis reads {finding.table}: not an error)"
    return Finding("warning", finding.table, finding.column, finding.rule, finding.rows, message)


def inspect_structure(
    source: CdmSource, spec: CdmSpec, *, read: Collection[str] | None = None
) -> tuple[list[Finding], dict[str, dict[str, dt.DataType]]]:
    """Check tables, required columns and column types.

    Parameters
    ----------
    source : CdmSource
        The open CDM.
    spec : CdmSpec
        The CDM specification.
    read : collection of str, optional
        The tables the analyses read; on any other table a structural error is a warning
        (an empty ``cost`` loaded as text stops nothing). Default: every table is read.

    Returns
    -------
    findings : list of Finding
        Structural findings.
    usable : dict
        For each CDM table present, the usable columns and their stored types.
    """
    findings: list[Finding] = []
    usable: dict[str, dict[str, dt.DataType]] = {}
    for name in REQUIRED_TABLES:
        if not source.has(name):
            findings.append(
                Finding(
                    "error",
                    name,
                    None,
                    "missing_table",
                    None,
                    f"required table {name!r} is missing: {_REQUIRED_WHY[name]}",
                )
            )
    for name in source.tables:
        if name not in spec:
            log.debug("table %s is not an OMOP CDM v5.4 table; not checked", name)
            continue
        try:
            table_findings, usable[name] = _inspect_table(source, spec.table(name))
        except Exception as exc:  # an unreadable file or view, reported as data
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            bad = Finding(
                "error", name, None, "unreadable_table", None, f"cannot read {name}: {first}"
            )
            findings.append(bad if read is None or name in read else _unread(bad))
            continue
        if read is not None and name not in read:
            table_findings = [_unread(f) for f in table_findings]
        findings.extend(table_findings)
    return findings, usable


#: what differs between OMOP CDM v5.3 and v5.4 in the tables allrwe reads, and what it means
V53_DIFFERENCES = (
    "cdm_source.cdm_version_concept_id, the episode tables and the *_event_id columns of "
    "measurement and observation are v5.4 only (not read); procedure_occurrence has no "
    "procedure_end_date (procedures are one-day); visit_occurrence names admitted_from / "
    "discharged_to admitting_source / discharge_to (not read)"
)


def _stated_version(source: CdmSource) -> str | None:
    if not source.has("cdm_source") or "cdm_version" not in source.table("cdm_source").columns:
        return None
    frame = source.execute(source.table("cdm_source").select("cdm_version").limit(1))
    if frame.empty or frame.iloc[0, 0] is None:
        return None
    return str(frame.iloc[0, 0]).strip().lstrip("vV") or None


def cdm_version_finding(source: CdmSource) -> Finding | None:
    """Return a warning naming a CDM as v5.3 (and what differs), or None for another version.

    The version is the one ``cdm_source.cdm_version`` states; without one, a
    ``visit_occurrence`` with the v5.3 column ``admitting_source_concept_id`` and no
    ``admitted_from_concept_id`` tells it.
    """
    stated = _stated_version(source)
    if stated is not None:
        if not stated.startswith("5.3"):
            return None
        why = f"cdm_source.cdm_version is {stated!r}"
    else:
        visit = source.table("visit_occurrence").columns if source.has("visit_occurrence") else ()
        if "admitting_source_concept_id" not in visit or "admitted_from_concept_id" in visit:
            return None
        why = "visit_occurrence has the v5.3 column admitting_source_concept_id"
    message = f"the CDM is OMOP CDM v5.3 ({why}); allrwe reads it as v5.4: {V53_DIFFERENCES}"
    return Finding("warning", "cdm_source", "cdm_version", "cdm_v53", None, message)
