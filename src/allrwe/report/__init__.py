"""The study report: structure from suppressed results, HTML with inline SVG, static figures.

:func:`write_report` is what a run calls: it builds the sections from a suppressed
:class:`~allrwe.results.ResultSet` (:func:`build_report`), writes ``report.html`` (one
self-contained file) and the static figures ``figures/*.png`` and ``*.svg``, here or in a
:class:`~allrwe.report.worker.FigureWorker` process.

The public names are loaded when first used: importing ``allrwe.report`` (or one of its light
modules, such as :mod:`allrwe.report.model` or the figure worker's) does not load pandas, the
analyses or Jinja2.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allrwe.report.figures import svg_figure, write_static
    from allrwe.report.model import ReportDocument, ReportMeta
    from allrwe.report.render import render_html
    from allrwe.report.structure import SECTION_IDS, build_report, meta_from_results
    from allrwe.report.worker import FigureWorker, FigureWorkers
    from allrwe.results import ResultSet
    from allrwe.spec import StudySpec

__all__ = [
    "REPORT_FILE",
    "SECTION_IDS",
    "ReportDocument",
    "ReportMeta",
    "build_report",
    "meta_from_results",
    "render_html",
    "svg_figure",
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
    "render_html": "allrwe.report.render",
    "svg_figure": "allrwe.report.figures",
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
    figures: FigureWorker | FigureWorkers | None = None,
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
    figures : FigureWorker, optional
        Started worker process(es) to draw the static figures in. They are then written
        while the caller goes on, and complete only when :meth:`FigureWorker.wait` returns.
        Without one (or if it has stopped) they are drawn here before this returns.

    Returns
    -------
    list of pathlib.Path
        The files written: the report first, then the figures (the same files, in the same
        order, whether a worker draws them or not).

    Raises
    ------
    DisclosureError
        If ``results`` has not been suppressed.
    ValueError
        If a static figure is of a kind that has no static rendering.
    """
    from allrwe.report.figures import static_files, write_static
    from allrwe.report.render import render_html
    from allrwe.report.structure import build_report, meta_from_results

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = build_report(results, spec, meta or meta_from_results(results, spec))
    static = [figure for figure in doc.figures() if figure.static]
    folder = out / "figures"
    written = [out / REPORT_FILE]
    if figures is not None and figures.submit(static, folder):
        written += [path for figure in static for path in static_files(figure, folder)]
    else:
        for figure in static:
            written += write_static(figure, folder)
    written[0].write_text(render_html(doc), encoding="utf-8")
    return written
