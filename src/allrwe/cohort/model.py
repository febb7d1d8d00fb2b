"""The :class:`Cohort` value object and the shape of its tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = [
    "ATTRITION_COLUMNS",
    "COHORT_COLUMNS",
    "COHORT_SCHEMA",
    "Cohort",
    "LineRecords",
    "followup_end_dates",
    "small_table",
]

#: Columns of :attr:`Cohort.table` and :attr:`Cohort.frame`, in order, with their Ibis types.
COHORT_SCHEMA: dict[str, str] = {
    "person_id": "int64",
    "group": "string",
    "index_date": "date",
    "index_set": "string",
    "obs_start": "date",
    "obs_end": "date",
    "age_at_index": "int64",
    "gender_concept_id": "int64",
    "setting": "string",
    "treatment_setting": "string",
    "line_at_index": "int64",
}
COHORT_COLUMNS: tuple[str, ...] = tuple(COHORT_SCHEMA)


def followup_end_dates(frame: pd.DataFrame, spec: StudySpec) -> pd.Series:
    """Return the last day of follow-up of each cohort row, the one death rule of every table.

    Follow-up ends at the end of the observation period holding the index date, or at
    ``outcomes.followup_end`` (the data cut-off) if earlier, and never before the index date.
    An event after it, a death included, is not counted: overall survival censors there and
    the deaths table leaves it out (the OHDSI CohortSurvival convention: an outcome after the
    end of observation is not observed).

    Parameters
    ----------
    frame : pandas.DataFrame
        Cohort rows with ``index_date`` and ``obs_end``.
    spec : StudySpec
        For ``outcomes.followup_end``.

    Returns
    -------
    pandas.Series
        ``datetime64`` dates, aligned with ``frame``.
    """
    end = pd.to_datetime(frame["obs_end"])
    cut = spec.outcomes.followup_end
    if cut is not None:
        end = end.where(end <= pd.Timestamp(cut), pd.Timestamp(cut))
    index = pd.to_datetime(frame["index_date"])
    return end.where(end >= index, index)


#: Columns of :attr:`Cohort.attrition`.
ATTRITION_COLUMNS: tuple[str, ...] = (
    "group",
    "step",
    "reason",
    "n_records",
    "n_persons",
    "n_excluded",
)


def small_table(frame: pd.DataFrame, schema: dict[str, str] | None = None) -> ibis.Table:
    """Turn a small pandas frame into an Ibis table that joins with CDM tables.

    Every path by which executed, small results go back into the engine passes here, so a
    backend that needs another mechanism than an in-memory table changes one function.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows (a few thousand at most).
    schema : dict of str to str, optional
        Ibis types by column; date columns need ``"date"`` here, as pandas has no date dtype.

    Returns
    -------
    ibis.Table
    """
    if schema is None:
        return ibis.memtable(frame)
    return ibis.memtable(frame[list(schema)], schema=schema)


@dataclass(frozen=True, eq=False)
class LineRecords:
    """The records the line rules read (:func:`~allrwe.cohort.build.line_inputs`), executed.

    Attributes
    ----------
    vocab : Vocabulary
        The concept sets they were read with.
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date`` of the anticancer events.
    status : pandas.DataFrame
        ``person_id, date, kind`` of the disease-status records.
    """

    vocab: Vocabulary
    events: pd.DataFrame
    status: pd.DataFrame


@dataclass(frozen=True, eq=False)
class Cohort:
    """Persons who entered an index group, with their index date and status at index.

    One row per person and group (a person may enter several groups when the spec allows it).

    Attributes
    ----------
    table : ibis.Table
        The cohort as an Ibis expression, to join with CDM tables in the engine. Columns:
        ``person_id``; ``group`` (name from ``index_groups``); ``index_date`` (first exposure);
        ``index_set`` (the concept-set key of that exposure); ``obs_start``/``obs_end`` (the
        observation period holding the index date); ``age_at_index`` (completed years; a
        missing birth month or day counts as January or the 1st); ``gender_concept_id``;
        ``setting`` (``"ND"``, ``"RR"`` or ``"unknown"``); ``treatment_setting``
        (``"induction"``, ``"consolidation"``, ``"re-induction"`` or ``"unknown"``);
        ``line_at_index`` (line of therapy of the index exposure, 1-based).
    frame : pandas.DataFrame
        The same rows, executed; date columns are ``datetime64`` at day resolution.
    attrition : pandas.DataFrame
        One row per group and step: ``group, step, reason, n_records, n_persons,
        n_excluded`` (persons lost at that step).
    spec : StudySpec
        The specification the cohort was built from.
    source_description : str
        The CDM it was built on (no credentials).
    lines : pandas.DataFrame
        Lines of therapy of the cohort's persons (see :func:`allrwe.cohort.lines.assign_lines`),
        kept so the pattern analyses need not recompute them.
    line_records : LineRecords or None
        The records the lines were assigned from, kept so the analyses need not read them again.
    """

    table: ibis.Table
    frame: pd.DataFrame
    attrition: pd.DataFrame
    spec: StudySpec
    source_description: str
    lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    line_records: LineRecords | None = field(default=None, repr=False)

    @property
    def groups(self) -> list[str]:
        """Group names in the order of the spec."""
        return list(self.spec.index_groups)

    def __len__(self) -> int:
        return len(self.frame)

    def persons_table(self) -> ibis.Table:
        """Distinct ``person_id`` of the cohort, as an Ibis table for semi-joins."""
        return self.table.select("person_id").distinct()

    def group_frame(self, group: str) -> pd.DataFrame:
        """Return the executed rows of one group."""
        return self.frame[self.frame["group"] == group].reset_index(drop=True)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        spec: StudySpec,
        attrition: pd.DataFrame | None = None,
        source_description: str = "",
        lines: pd.DataFrame | None = None,
    ) -> Cohort:
        """Make a cohort from an executed frame (for tests and for re-loading saved cohorts).

        Missing optional columns get defaults (``"unknown"`` settings, line 1).
        """
        out = frame.copy()
        defaults: dict[str, Any] = {
            "index_set": "",
            "age_at_index": pd.NA,
            "gender_concept_id": 0,
            "setting": "unknown",
            "treatment_setting": "unknown",
            "line_at_index": 1,
        }
        for column, value in defaults.items():
            if column not in out:
                out[column] = value
        for column in ("index_date", "obs_start", "obs_end"):
            out[column] = pd.to_datetime(out[column]).astype("datetime64[s]")
        out = out[list(COHORT_COLUMNS)].reset_index(drop=True)
        out["age_at_index"] = out["age_at_index"].astype("Int64")
        return cls(
            table=small_table(out, COHORT_SCHEMA),
            frame=out,
            attrition=attrition
            if attrition is not None
            else pd.DataFrame(columns=list(ATTRITION_COLUMNS)),
            spec=spec,
            source_description=source_description,
            lines=lines if lines is not None else pd.DataFrame(),
        )
