"""Running a study: spec → cohort → analyses → suppressed results → exports, report, audit.

:func:`run_study` chains the stages and reports each to an optional progress callback; the
``allrwe run`` and ``allrwe demo`` commands are thin layers over it.
"""

from allrwe.study.runner import STAGES, ProgressCallback, RunSummary, StageEvent, run_study

__all__ = ["STAGES", "ProgressCallback", "RunSummary", "StageEvent", "run_study"]
