"""Typed findings and the report that collects them (JSON and a Rich table)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

__all__ = ["SEVERITIES", "CheckReport", "Finding", "Severity"]

Severity = Literal["error", "warning", "info"]

#: severities from the most to the least serious
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@dataclass(frozen=True)
class Finding:
    """One rule broken by a CDM: a count of rows, never a person.

    Parameters
    ----------
    severity : {"error", "warning", "info"}
        ``error`` stops a study (exit 1); ``warning`` and ``info`` do not.
    table : str
        The table the finding is about.
    column : str or None
        The column, where the rule is about one.
    rule : str
        Rule identifier, e.g. ``end_before_start``.
    rows : int or None
        Number of rows affected; None for structural findings (a missing table).
    message : str
        One sentence naming table, column and number of rows.
    """

    severity: Severity
    table: str
    column: str | None
    rule: str
    rows: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict."""
        return {
            "severity": self.severity,
            "table": self.table,
            "column": self.column,
            "rule": self.rule,
            "rows": self.rows,
            "message": self.message,
        }


def _sort_key(f: Finding) -> tuple[int, str, str, str, str]:
    return (SEVERITIES.index(f.severity), f.table, f.column or "", f.rule, f.message)


@dataclass(frozen=True)
class CheckReport:
    """The result of :func:`allrwe.io.check.check_cdm`.

    Parameters
    ----------
    source : str
        Description of the CDM (no password).
    kind : str
        Backend kind (``duckdb``, ``parquet``, ...).
    today : datetime.date
        The date future dates were judged against.
    tables : tuple of str
        Tables present in the CDM.
    findings : tuple of Finding
        Findings, sorted by severity, table, column and rule.
    checks_run : int
        Number of rule queries run.
    checks_skipped : int
        Number of rule queries skipped because their columns are missing or unusable.
    """

    source: str
    kind: str
    today: date
    tables: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())
    checks_run: int = 0
    checks_skipped: int = 0

    @classmethod
    def build(cls, findings: Iterable[Finding], **kwargs: Any) -> CheckReport:
        """Create a report with its findings sorted deterministically."""
        return cls(findings=tuple(sorted(findings, key=_sort_key)), **kwargs)

    def of(self, severity: Severity) -> list[Finding]:
        """Return the findings of one severity."""
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list[Finding]:
        """Findings that make the CDM unusable as it is."""
        return self.of("error")

    @property
    def warnings(self) -> list[Finding]:
        """Findings a study can live with, reported for the record."""
        return self.of("warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0 with no errors, 1 with errors (the command-line convention)."""
        return 0 if self.ok else 1

    def find(
        self, rule: str, *, table: str | None = None, column: str | None = None
    ) -> list[Finding]:
        """Return the findings of one rule, optionally of one table and column."""
        return [
            f
            for f in self.findings
            if f.rule == rule
            and (table is None or f.table == table)
            and (column is None or f.column == column)
        ]

    def summary(self) -> str:
        """One line: counts of errors, warnings and notes."""
        n_err, n_warn, n_info = (len(self.of(s)) for s in SEVERITIES)
        verdict = "passes" if self.ok else "fails"
        return (
            f"{self.source} {verdict} the check: {n_err} error(s), {n_warn} warning(s), "
            f"{n_info} note(s); {self.checks_run} checks run, {self.checks_skipped} skipped"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "source": self.source,
            "kind": self.kind,
            "today": self.today.isoformat(),
            "ok": self.ok,
            "summary": {s: len(self.of(s)) for s in SEVERITIES},
            "checks_run": self.checks_run,
            "checks_skipped": self.checks_skipped,
            "tables": list(self.tables),
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the report as JSON text (stable key order)."""
        return json.dumps(self.to_dict(), indent=indent)

    def __rich__(self) -> Any:
        # Imported lazily: rendering is optional for library users.
        from rich.table import Table

        table = Table(title=f"CDM check: {self.source}", caption=self.summary(), expand=False)
        for name, justify in (
            ("severity", "left"),
            ("table", "left"),
            ("column", "left"),
            ("rule", "left"),
            ("rows", "right"),
            ("message", "left"),
        ):
            table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for f in self.findings:
            table.add_row(
                f"[{_STYLE[f.severity]}]{f.severity}[/]",
                f.table,
                f.column or "",
                f.rule,
                "" if f.rows is None else f"{f.rows:,}",
                f.message,
            )
        return table
