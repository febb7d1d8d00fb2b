"""Helpers of the pattern tests: a spec text, frame builders, the CDM builder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

DAY0 = pd.Timestamp("2020-01-01")

PATTERN_SPEC = """\
name: patterns
index_groups:
  INO: [inotuzumab_ozogamicin]
  BLIN: [blinatumomab]
study_period: {start: 2019-01-01, end: 2021-12-31}
"""


def load_cdm_builder() -> ModuleType:
    """Import tests/cohort/cdm_builder.py (test folders are not packages)."""
    if "cdm_builder" in sys.modules:
        return sys.modules["cdm_builder"]
    path = Path(__file__).resolve().parents[2] / "cohort" / "cdm_builder.py"
    spec = importlib.util.spec_from_file_location("cdm_builder", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cdm_builder"] = module
    spec.loader.exec_module(module)
    return module


def day(n: int) -> pd.Timestamp:
    """2020-01-01 plus ``n`` days."""
    return DAY0 + pd.Timedelta(days=n)


def event_frame(*rows: tuple[int, str, int, int]) -> pd.DataFrame:
    """Events from (person, set key, start day, end day) rows."""
    return pd.DataFrame(
        [(p, k, day(s), day(e)) for p, k, s, e in rows],
        columns=["person_id", "concept_set", "start_date", "end_date"],
    )


def cohort_frame(*rows: tuple[int, str, int]) -> pd.DataFrame:
    """Cohort rows from (person, group, index day)."""
    frame = pd.DataFrame(rows, columns=["person_id", "group", "index_day"])
    return pd.DataFrame(
        {
            "person_id": frame["person_id"],
            "group": frame["group"],
            "index_date": [day(n) for n in frame["index_day"]],
            "index_set": frame["group"].map(
                {"INO": "inotuzumab_ozogamicin", "BLIN": "blinatumomab"}
            ),
            "obs_start": day(-2000),
            "obs_end": day(2000),
            "setting": "RR",
            "treatment_setting": "re-induction",
            "line_at_index": 1,
        }
    )
