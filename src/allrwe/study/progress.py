"""The stages of a run and how they are reported to a progress callback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

__all__ = ["STAGES", "ProgressCallback", "StageEvent", "StageReporter", "Status"]

logger = logging.getLogger(__name__)

#: the stages of a run, in order: (name, label)
STAGES: tuple[tuple[str, str], ...] = (
    ("connect", "Connect to the CDM"),
    ("check", "Check the CDM's structure"),
    ("extract", "Read and check records"),
    ("cohort", "Build the cohort"),
    ("patterns", "Treatment patterns"),
    ("pathways", "Treatment pathways"),
    ("outcomes", "Response and endpoints"),
    ("survival", "Survival summaries"),
    ("baseline", "Baseline characteristics"),
    ("safety", "Adverse events"),
    ("results", "Suppress small cells"),
    ("report", "Write the report"),
    ("export", "Export the results"),
    ("audit", "Audit the outputs"),
)

Status = Literal["start", "done", "not available"]


@dataclass(frozen=True)
class StageEvent:
    """A stage starting or ending, as given to the progress callback.

    Attributes
    ----------
    stage, label : str
        Name and human label of the stage (see :data:`STAGES`).
    index, total : int
        1-based position of the stage and the number of stages.
    status : {"start", "done", "not available"}
        ``"not available"``: the stage ended without results the data could support.
    detail : str
        A short note, e.g. the cohort size or why the stage is not available.
    """

    stage: str
    label: str
    index: int
    total: int
    status: Status
    detail: str = ""


ProgressCallback = Callable[[StageEvent], None]


class StageReporter:
    """Sends stage events to the callback (if any) and logs them.

    Parameters
    ----------
    callback : callable or None
        Called with each :class:`StageEvent`.
    """

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.names = [name for name, _ in STAGES]
        self.labels = dict(STAGES)

    def emit(self, stage: str, status: Status, detail: str = "") -> None:
        """Send one event to the callback (if any) and log it."""
        event = StageEvent(
            stage, self.labels[stage], self.names.index(stage) + 1, len(STAGES), status, detail
        )
        logger.info("stage %s: %s %s", stage, status, detail)
        if self.callback is not None:
            self.callback(event)

    @contextmanager
    def stage(self, name: str) -> Iterator[list[str]]:
        """Announce a stage; the body may append a detail (or ``"!"`` + a reason)."""
        self.emit(name, "start")
        notes: list[str] = []
        started = time.perf_counter()
        yield notes
        logger.debug("stage %s took %.2f s", name, time.perf_counter() - started)
        text = notes[-1] if notes else ""
        if text.startswith("!"):
            self.emit(name, "not available", text[1:])
        else:
            self.emit(name, "done", text)
