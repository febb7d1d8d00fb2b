"""The HTML renderer: one self-contained file, with plotly.js and the figure data inline.

The file references nothing outside itself (no CDN, fonts or scripts; the only links are the
relative ones to the static figures beside it), so it opens offline. Its bytes depend only on
the document: element ids are fixed, figure data are canonical JSON.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from allrwe.report.figures import plotly_spec
from allrwe.report.model import Details, Figure, ReportDocument, Table

__all__ = ["plotly_js", "render_html"]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("allrwe.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """Return the bundled plotly.js, safe to place inside a ``<script>`` element."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


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


def _figures_json(specs: dict[str, Any]) -> str:
    text = json.dumps(
        specs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    # Inside <script>, "</" could end the element early.
    return text.replace("</", "<\\/")


def render_html(doc: ReportDocument) -> str:
    """Render the report as one HTML document.

    Parameters
    ----------
    doc : ReportDocument
        The report (see :func:`allrwe.report.structure.build_report`).

    Returns
    -------
    str
        The HTML text; plotly.js is embedded once, and only when the report has figures.
    """
    specs = {f.id: plotly_spec(f) for f in doc.figures()}
    heights = {k: int(v["layout"].get("height", 420)) for k, v in specs.items()}
    template = _environment().get_template("report.html.j2")
    return template.render(
        meta=doc.meta,
        sections=doc.sections,
        ctx={"numbers": _numbers(doc), "heights": heights},
        figures=bool(specs),
        plotly_js=Markup(plotly_js()) if specs else "",
        figures_json=Markup(_figures_json(specs)) if specs else "",
    )
