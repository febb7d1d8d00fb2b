"""The output audit: scan a folder of outputs for small cells and person identifiers.

The audit reads CSV/TSV, Parquet, XLSX, JSON and HTML files and reports where it finds

* ``small_cell``: a count from 1 to ``min_cell_count - 1``, in the long results format (rows
  whose ``estimate_type`` is ``count``) or in an integer column whose header looks like a
  count (``n``, ``count``, ``n_*``, ``number_*``, ``count_*``, ``freq``, ``persons``, ...);
* ``person_identifier``: a column (or JSON key) that identifies persons, such as
  ``person_id``, ``subject_id``, ``*person_source_value``, ``birth_datetime`` or
  ``year_of_birth``;
* ``unreadable``: a file of a scanned type that could not be parsed (so it is not cleared).

Findings say where (file, sheet/table, column, row numbers or JSON path) and how many cells;
they never hold a value of an identifier.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from allrwe.errors import UsageError
from allrwe.results.audit_rules import (
    Columns,
    Hit,
    is_count_header,
    is_person_identifier,
    scan_columns,
    scan_json,
    table_from_rows,
)

__all__ = [
    "RULES",
    "AuditReport",
    "Finding",
    "audit_outputs",
    "is_count_header",
    "is_person_identifier",
]

logger = logging.getLogger(__name__)

#: the rules a finding can break
RULES = ("small_cell", "person_identifier", "unreadable")


@dataclass(frozen=True)
class Finding:
    """One place where an output breaks a disclosure rule.

    Parameters
    ----------
    file : str
        Path relative to the audited folder (POSIX separators).
    location : str
        Where in the file: sheet or table, column, row numbers, or a JSON path.
    rule : str
        One of :data:`RULES`.
    count : int
        How many cells (or values) break the rule there.
    """

    file: str
    location: str
    rule: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-able dict."""
        return {
            "file": self.file,
            "location": self.location,
            "rule": self.rule,
            "count": self.count,
        }


@dataclass(frozen=True)
class AuditReport:
    """The result of :func:`audit_outputs`.

    Parameters
    ----------
    root : str
        The audited folder or file.
    min_cell_count : int
        Counts from 1 to ``min_cell_count - 1`` were reported.
    files : tuple of str
        The files scanned, relative to ``root``.
    findings : tuple of Finding
        What was found, by file.
    """

    root: str
    min_cell_count: int
    files: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """bool: True when nothing was found."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-able dict (what ``allrwe audit --json`` prints)."""
        return {
            "root": self.root,
            "min_cell_count": self.min_cell_count,
            "ok": self.ok,
            "files_scanned": list(self.files),
            "findings": [f.to_dict() for f in self.findings],
        }


def _scan_delimited(path: Path, minimum: int, delimiter: str) -> list[Hit]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        text = handle.read()
    # Row numbers are file line numbers (header = line 1).
    table = _line_table(text, delimiter)
    if table is None:
        header, rows, lines = _csv_rows(text, delimiter)
        table = table_from_rows(header, rows), lines
    return scan_columns(*table, "", minimum)


def _csv_rows(text: str, delimiter: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Parse delimited text with :mod:`csv`: header, rows and the line each row ends on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    rows, lines = [], []
    for row in reader:
        rows.append(row)
        lines.append(reader.line_num)
    return header, rows, lines


def _line_table(text: str, delimiter: str) -> tuple[Columns, list[int]] | None:
    """Split delimited text into columns line by line, where that is what :mod:`csv` does.

    That is when each line is one record: no blank line, no carriage return but in
    ``CR LF``, no NUL, no line as long as the :mod:`csv` field size limit, and every line
    with a quote character parses (with :mod:`csv`) to one record with no line break in a
    field. All lines must also have the same number of fields.

    Parameters
    ----------
    text : str
        The file's text.
    delimiter : str
        The delimiter, an ASCII character.

    Returns
    -------
    tuple or None
        The columns and the file line number of each data row; ``None`` when the text
        needs :func:`_csv_rows`.
    """
    body = text.replace("\r\n", "\n") if "\r" in text else text
    body = body[:-1] if body.endswith("\n") else body
    if not body or "\r" in body or "\x00" in body:
        return None
    # In UTF-8, the bytes of ASCII characters occur in no other character.
    raw = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    breaks = np.flatnonzero(raw == ord("\n"))
    lengths = np.diff(np.concatenate([[-1], breaks, [raw.size]])) - 1
    if lengths.min() == 0 or lengths.max() >= csv.field_size_limit():
        return None

    def per_line(char: str) -> np.ndarray:
        found = np.flatnonzero(raw == ord(char))
        return np.bincount(np.searchsorted(breaks, found), minlength=breaks.size + 1)

    lines = np.array(body.split("\n"), dtype=object)
    quoted = per_line('"') > 0
    rows = _one_record_each(lines[quoted].tolist(), delimiter)
    if rows is None:
        return None
    widths = np.concatenate([per_line(delimiter)[~quoted] + 1, list(map(len, rows))])
    width = int(widths[0])
    if bool((widths != width).any()):
        return None
    cells = np.empty((lines.size, width), dtype=object)
    if not quoted.all():
        plain = delimiter.join(lines[~quoted].tolist()).split(delimiter)
        cells[~quoted] = np.array(plain, dtype=object).reshape(-1, width)
    if rows:
        cells[quoted] = np.array(rows, dtype=object)
    columns = [(str(name), cells[1:, j].tolist()) for j, name in enumerate(cells[0].tolist())]
    return columns, list(range(2, lines.size + 1))


def _one_record_each(lines: list[str], delimiter: str) -> list[list[str]] | None:
    """Parse lines with :mod:`csv`; ``None`` unless each is one record on its own line."""
    if not lines:
        return []
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n", newline=""), delimiter=delimiter)
    rows = list(reader)
    if len(rows) != len(lines) or "\n" in "".join(chain.from_iterable(rows)):
        return None  # a quoted field runs on past its line
    return rows


def _scan_csv(path: Path, minimum: int) -> list[Hit]:
    return _scan_delimited(path, minimum, ",")


def _scan_tsv(path: Path, minimum: int) -> list[Hit]:
    return _scan_delimited(path, minimum, "\t")


def _scan_parquet(path: Path, minimum: int) -> list[Hit]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = [(name, table.column(name).to_pylist()) for name in table.column_names]
    return scan_columns(columns, list(range(1, table.num_rows + 1)), "", minimum)


def _sheet_hits(title: str, rows: list[tuple[Any, ...]], minimum: int) -> list[Hit]:
    start = next((i for i, r in enumerate(rows) if any(v is not None for v in r)), None)
    if start is None:
        return []
    data = [list(r) for r in rows[start + 1 :]]
    numbers = list(range(start + 2, start + 2 + len(data)))  # sheet row numbers
    columns = table_from_rows(list(rows[start]), data)
    return scan_columns(columns, numbers, f"sheet {title!r}, ", minimum)


def _scan_xlsx(path: Path, minimum: int) -> list[Hit]:
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # Files from other tools trigger openpyxl style warnings that say nothing about content.
        warnings.simplefilter("ignore")
        workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        hits: list[Hit] = []
        for sheet in workbook.worksheets:
            hits += _sheet_hits(sheet.title, list(sheet.iter_rows(values_only=True)), minimum)
        return hits
    finally:
        workbook.close()


class _HtmlTables(HTMLParser):
    """Collect the text of the cells of every ``<table>`` (nested tables apart)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._stack: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._stack:
            self._stack[-1].append(self._row)
            self._row = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _scan_html(path: Path, minimum: int) -> list[Hit]:
    parser = _HtmlTables()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    hits: list[Hit] = []
    for number, rows in enumerate(parser.tables, start=1):
        if len(rows) < 2:
            continue
        columns = table_from_rows(list(rows[0]), [list(r) for r in rows[1:]])
        row_numbers = list(range(2, len(rows) + 1))  # header row = 1
        hits += scan_columns(columns, row_numbers, f"table {number}, ", minimum)
    return hits


def _scan_json(path: Path, minimum: int) -> list[Hit]:
    return scan_json(json.loads(path.read_text(encoding="utf-8-sig")), minimum)


_SCANNERS: dict[str, Callable[[Path, int], list[Hit]]] = {
    ".csv": _scan_csv,
    ".tsv": _scan_tsv,
    ".parquet": _scan_parquet,
    ".xlsx": _scan_xlsx,
    ".json": _scan_json,
    ".html": _scan_html,
    ".htm": _scan_html,
}


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in _SCANNERS:
            yield path


def audit_outputs(path: str | Path, min_cell_count: int = 5) -> AuditReport:
    """Scan output files for small counts and person identifiers.

    Parameters
    ----------
    path : str or pathlib.Path
        A folder (scanned recursively) or a single file.
    min_cell_count : int, default 5
        Counts from 1 to ``min_cell_count - 1`` are reported; zero is not.

    Returns
    -------
    AuditReport
        The files scanned and the findings; ``report.ok`` is True when clean.

    Raises
    ------
    UsageError
        If ``path`` does not exist or ``min_cell_count`` is below 1.
    """
    root = Path(path)
    if not root.exists():
        raise UsageError(f"audit path {str(root)!r} does not exist")
    if isinstance(min_cell_count, bool) or not isinstance(min_cell_count, int):
        raise UsageError(f"min_cell_count must be an integer, not {min_cell_count!r}")
    if min_cell_count < 1:
        raise UsageError(f"min_cell_count must be at least 1, got {min_cell_count}")
    files: list[str] = []
    findings: list[Finding] = []
    for file in _files(root):
        name = file.name if root.is_file() else file.relative_to(root).as_posix()
        files.append(name)
        scanner = _SCANNERS.get(file.suffix.lower())
        if scanner is None:
            continue
        try:
            hits = scanner(file, min_cell_count)
        except Exception as exc:  # any parse failure means the file is not cleared
            logger.debug("could not read %s", file, exc_info=True)
            hits = [(f"could not be read ({type(exc).__name__})", "unreadable", 1)]
        findings += [Finding(name, location, rule, count) for location, rule, count in hits]
    return AuditReport(str(root), min_cell_count, tuple(files), tuple(findings))
