"""Work a run overlaps with the engine's scan: importing later modules, drawing figures.

The rule this module owns: the scan of the ``extract`` step runs inside the engine, which
leaves Python free, so the modules of the later steps are imported then (in a daemon thread).
The static figures are drawn by worker processes (:class:`~allrwe.report.worker.FigureWorkers`)
started after the scan, whose two engine threads keep both CPUs busy: the analyses and the
suppression after it run in one thread and leave a CPU free for the workers' start-up. The run
waits for the figures only at its very end, after the audit (which reads the results and the
HTML, not the PNG and SVG files).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from allrwe.report.worker import FigureWorker, FigureWorkers

__all__ = ["LATER_MODULES", "import_in_background", "wait_for_figures"]

logger = logging.getLogger(__name__)

#: Modules of the steps after ``extract``: the analyses, results and report (SciPy, Jinja2).
#: matplotlib is not one of them: the static figures are drawn by a worker process
#: (:mod:`allrwe.report.worker`).
LATER_MODULES = (
    "allrwe.study.pipeline",
    "allrwe.study.stages",
    "allrwe.analyses.records",
    "allrwe.results",
    "allrwe.report.structure",
    "allrwe.report.render",
)


def import_in_background(names: tuple[str, ...]) -> threading.Thread:
    """Start importing ``names`` in a daemon thread and return it.

    The imports take the time of the scan instead of adding about a second to the run. A
    module that fails to import here is imported again by the step that needs it, which
    reports the error.
    """

    def work() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # reported where the module is used
                logger.debug("background import of %s failed", name, exc_info=True)

    thread = threading.Thread(target=work, name="allrwe-imports", daemon=True)
    thread.start()
    return thread


def wait_for_figures(figures: FigureWorker | FigureWorkers) -> None:
    """Wait for the static figures the worker draws (none to wait for if drawn here)."""
    started = time.perf_counter()
    written = figures.wait()
    logger.debug(
        "waited %.2f s for %d static figure files", time.perf_counter() - started, len(written)
    )
