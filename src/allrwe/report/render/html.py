"""The HTML renderer: one self-contained file, its figures as inline SVG (no script).

The file references nothing outside itself (no CDN, fonts or scripts; the only links are the
relative ones to the static figures beside it), so it opens offline. Its bytes depend only on
the document: element ids are fixed and the SVG coordinates rounded.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from allrwe.report.model import Details, Figure, ReportDocument, Table
from allrwe.report.render.svg import svg_figure

__all__ = ["environment", "render_html"]


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the Jinja environment of every report template (escaped, strict, built once)."""
    return Environment(
        loader=PackageLoader("allrwe.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def _numbers(doc: ReportDocument) -> dict[str, int]:
    """Return the numbers of tables and figures, each counted in document order."""
    numbers: dict[str, int] = {}
    counts = {"table": 0, "figure": 0}

    def visit(blocks: tuple[Any, ...]) -> None:
        for b in blocks:
            if isinstance(b, Table | Figure):
                counts[b.kind] += 1
                numbers[b.id] = counts[b.kind]
            elif isinstance(b, Details):
                visit(b.blocks)

    for _, section in doc.walk():
        visit(section.blocks)
    return numbers


def render_html(doc: ReportDocument) -> str:
    """Render the report as one HTML document.

    Parameters
    ----------
    doc : ReportDocument
        The report (see :func:`allrwe.report.structure.build_report`).

    Returns
    -------
    str
        The HTML text, with every figure drawn as an inline ``<svg>`` element.
    """
    svgs = {f.id: Markup(svg_figure(f.id, f.chart, f.data)) for f in doc.figures()}
    template = environment().get_template("report.html.j2")
    html = template.render(
        meta=doc.meta,
        sections=doc.sections,
        ctx={"numbers": _numbers(doc), "svgs": svgs},
    )
    return strip_control_characters(html)


#: C0 control characters but tab, line feed and carriage return, DEL and C1 controls: not
#: allowed in HTML text (a NUL byte from cdm_source, say); removed from the whole page
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control_characters(text: str) -> str:
    """Remove control characters (NUL, ESC, DEL, C1) but tab and line breaks from ``text``.

    Examples
    --------
    >>> strip_control_characters("CDM" + chr(0) + " site" + chr(27))
    'CDM site'
    """
    return _CONTROL.sub("", text)
