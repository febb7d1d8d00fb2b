"""The study report: structure from suppressed results, HTML with Plotly, static figures.

:func:`write_report` is what a run calls: it builds the sections from a suppressed
:class:`~allrwe.results.ResultSet` (:func:`build_report`), writes ``report.html`` (one
self-contained file) and the static figures ``figures/*.png`` and ``*.svg``.

The public names are loaded when first used: importing ``allrwe.report`` (or one of its light
modules, such as :mod:`allrwe.report.model`) does not load pandas, the analyses or Jinja2.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allrwe.report.figures import plotly_spec, write_static
    from allrwe.report.model import ReportDocument, ReportMeta
    from allrwe.report.render import render_html
    from allrwe.report.structure import SECTION_IDS, build_report, meta_from_results
    from allrwe.results import ResultSet
    from allrwe.spec import StudySpec

__all__ = [
    "REPORT_FILE",
    "SECTION_IDS",
    "ReportDocument",
    "ReportMeta",
    "build_report",
    "meta_from_results",
    "plotly_spec",
    "render_html",
    "write_report",
    "write_static",
]

#: file name of the HTML report
REPORT_FILE = "report.html"

#: the module that defines each public name loaded on first use
_LAZY = {
    "SECTION_IDS": "allrwe.report.structure",
    "ReportDocument": "allrwe.report.model",
    "ReportMeta": "allrwe.report.model",
    "build_report": "allrwe.report.structure",
    "meta_from_results": "allrwe.report.structure",
    "plotly_spec": "allrwe.report.figures",
    "render_html": "allrwe.report.render",
    "write_static": "allrwe.report.figures",
}


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def write_report(
    results: ResultSet,
    spec: StudySpec,
    out_dir: str | os.PathLike[str],
    *,
    meta: ReportMeta | None = None,
) -> list[Path]:
    """Write ``report.html`` and ``figures/*.png``/``*.svg`` for suppressed results.

    Parameters
    ----------
    results : ResultSet
        Suppressed results of one run.
    spec : StudySpec
        The study specification.
    out_dir : str or path-like
        Folder to write into (created).
    meta : ReportMeta, optional
        Title block; default from the provenance and the spec.

    Returns
    -------
    list of pathlib.Path
        The files written: the report first, then the figures.

    Raises
    ------
    DisclosureError
        If ``results`` has not been suppressed.
    """
    from allrwe.report.figures import write_static
    from allrwe.report.render import render_html
    from allrwe.report.structure import build_report, meta_from_results

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = build_report(results, spec, meta or meta_from_results(results, spec))
    written = [out / REPORT_FILE]
    for figure in doc.figures():
        if figure.static:
            written += write_static(figure, out / "figures")
    written[0].write_text(render_html(doc), encoding="utf-8")
    return written
