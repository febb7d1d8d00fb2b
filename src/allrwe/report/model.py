"""The report as data: sections of tables, figures, text and flow diagrams.

:func:`allrwe.report.structure.build_report` fills these from a suppressed result set; the
renderers (HTML, static figures) only lay them out, so every number shown passed suppression.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Block",
    "Details",
    "Figure",
    "Flow",
    "FlowStep",
    "ReportDocument",
    "ReportMeta",
    "Row",
    "Section",
    "Table",
    "Text",
]


@dataclass(frozen=True)
class Row:
    """A table row: cell texts; ``indent`` 1 for a level under a variable; ``strong`` heading."""

    cells: tuple[str, ...]
    indent: int = 0
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """A table with a header row, body rows and notes printed beneath it."""

    kind: ClassVar[str] = "table"
    id: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A figure: ``kind`` ("km", "cif", "sankey", "bars", "hbars") and its plain data.

    ``static`` figures are also written as PNG and SVG (``figures/<id>.png``/``.svg``).
    """

    kind: ClassVar[str] = "figure"
    id: str
    caption: str
    chart: str
    data: Mapping[str, Any]
    static: bool = True


@dataclass(frozen=True)
class Text:
    """Paragraphs; ``style`` "text", "note" (small print) or "na" (not available)."""

    kind: ClassVar[str] = "text"
    paragraphs: tuple[str, ...]
    style: str = "text"


@dataclass(frozen=True)
class FlowStep:
    """One box of an attrition flow: the criterion, persons remaining and excluded."""

    label: str
    persons: str
    excluded: str | None = None


@dataclass(frozen=True)
class Flow:
    """An attrition flow diagram of one group."""

    kind: ClassVar[str] = "flow"
    id: str
    group: str
    steps: tuple[FlowStep, ...]


@dataclass(frozen=True)
class Details:
    """Blocks folded under a summary line (strata, tests)."""

    kind: ClassVar[str] = "details"
    summary: str
    blocks: tuple[Block, ...]


Block = Table | Figure | Text | Flow | Details


@dataclass(frozen=True)
class Section:
    """A numbered section of the report, with blocks and sub-sections."""

    id: str
    title: str
    blocks: tuple[Block, ...] = ()
    children: tuple[Section, ...] = ()
    available: bool = True


@dataclass(frozen=True)
class ReportMeta:
    """The title block and what the methods need beyond the spec.

    Build with :meth:`allrwe.report.structure.meta_from_results`.
    """

    title: str
    subtitle: str
    authors: tuple[str, ...]
    study_name: str
    description: str
    data_source: str
    cdm_source: str
    allrwe_version: str
    spec_hash: str
    run_date: str
    min_cell_count: int
    suppression: Mapping[str, int | str] = field(default_factory=dict)
    source_info: Mapping[str, str] = field(default_factory=dict)
    pathway_settings: Mapping[str, Any] = field(default_factory=dict)
    unrecorded_sets: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportDocument:
    """The whole report: its metadata and top-level sections."""

    meta: ReportMeta
    sections: tuple[Section, ...]

    def walk(self) -> Iterator[tuple[int, Section]]:
        """Yield ``(depth, section)`` depth first, top-level sections at depth 1."""

        def visit(section: Section, depth: int) -> Iterator[tuple[int, Section]]:
            yield depth, section
            for child in section.children:
                yield from visit(child, depth + 1)

        for top in self.sections:
            yield from visit(top, 1)

    def outline(self) -> list[tuple[int, str, str]]:
        """Return ``(depth, id, title)`` of every section."""
        return [(d, s.id, s.title) for d, s in self.walk()]

    def figures(self) -> list[Figure]:
        """Return every figure, in document order."""

        def blocks(items: tuple[Block, ...]) -> Iterator[Figure]:
            for b in items:
                if isinstance(b, Figure):
                    yield b
                elif isinstance(b, Details):
                    yield from blocks(b.blocks)

        return [f for _, s in self.walk() for f in blocks(s.blocks)]
