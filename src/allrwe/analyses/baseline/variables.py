"""The types of baseline variables, shared by their builders.

A builder takes a :class:`BaselineContext` and returns one or more :class:`BaselineVariable`:
its kind (continuous, categorical or multi-response), its levels, and its values as an Ibis
expression (record-level work stays in the engine and comes back as one row per cohort row and
variable) or as a small pandas frame (values already in the cohort frame). The builders are in
:mod:`.demographics` and :mod:`.clinical`, the registry in :mod:`.registry`; every variable is
described in ``docs/baseline-and-safety.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from allrwe.cohort import Cohort, any_records
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = [
    "VARIABLE_LABELS",
    "BaselineContext",
    "BaselineVariable",
    "VariableBuilder",
    "categorical",
    "frame_values",
    "query_values",
    "where_field",
]

Kind = Literal["continuous", "categorical", "multi"]


@dataclass(frozen=True)
class BaselineContext:
    """What a variable builder may read.

    Attributes
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force.
    cohort : Cohort
        The study cohort.
    spec : StudySpec
        The study specification (``baseline`` and related settings).
    """

    source: CdmSource
    vocab: Vocabulary
    cohort: Cohort
    spec: StudySpec
    _captured: dict[tuple[str, ...], bool] = field(default_factory=dict, repr=False)

    @property
    def units(self) -> ir.Table:
        """The cohort rows as ``person_id, group, index_date`` (an Ibis table)."""
        return self.cohort.table.select("person_id", "group", "index_date")

    @property
    def frame(self) -> pd.DataFrame:
        """The executed cohort rows."""
        return self.cohort.frame

    @property
    def window(self) -> tuple[int, int]:
        """The lab and status window ``(-W, 0)``."""
        return (-self.spec.baseline.lab_window_days, 0)

    def captured(self, keys: Sequence[str]) -> bool:
        """Whether the CDM holds any record of ``keys`` at all (for anyone).

        A data source that never records a fact (claims without cytogenetics) makes its
        absence "unknown" rather than "no".
        """
        key = tuple(keys)
        if key not in self._captured:
            self._captured[key] = any_records(self.source, self.vocab, list(keys))
        return self._captured[key]


@dataclass(frozen=True)
class BaselineVariable:
    """One variable of the baseline table.

    Attributes
    ----------
    name : str
        The ``variable`` of its records.
    kind : {"continuous", "categorical", "multi"}
        ``multi``: a person may have several levels (genetic features); levels overlap.
    levels : tuple of str
        Levels in display order (categorical and multi), every one reported even when empty.
    default : str or None
        Level of cohort rows without a value (categorical and multi).
    query : ibis.Table, optional
        ``person_id, group, level, value``: at most one row per cohort row (per level for
        ``multi``); ``level`` is a string, ``value`` a float.
    frame : pandas.DataFrame, optional
        The same columns, computed from the cohort frame.
    label : str
        Display label.
    note : str
        How the values were derived when that is not the obvious source (e.g. inferred).
    unavailable : tuple of str
        Levels the CDM does not record for anyone (no record of their concept set at all):
        reported as "not available", never as a count of 0.
    """

    name: str
    kind: Kind
    levels: tuple[str, ...] = ()
    default: str | None = None
    query: ir.Table | None = None
    frame: pd.DataFrame | None = None
    label: str = ""
    note: str = ""
    unavailable: tuple[str, ...] = ()


VariableBuilder = Callable[[BaselineContext], list[BaselineVariable]]

#: display labels of the built-in variables, in the display order of seed 001's Table 1
VARIABLE_LABELS: dict[str, str] = {
    "persons": "Number of patients",
    "setting": "Setting at index",
    "treatment_setting": "Treatment setting at index",
    "age": "Age at index, years",
    "age_band": "Age band at index, years",
    "sex": "Sex",
    "wbc": "WBC, 10^9/L",
    "hemoglobin": "Haemoglobin, g/L",
    "platelets": "Platelets, 10^9/L",
    "anc": "ANC, 10^9/L",
    "marrow_blasts": "Bone-marrow blasts, %",
    "ph_status": "Philadelphia chromosome",
    "marrow_blasts_at_diagnosis": "Bone-marrow blasts at diagnosis",
    "cns_involvement": "CNS involvement",
    "chemo_intolerance": "Intolerant of intensive chemotherapy",
    "line": "Line of therapy at index",
    "prior_lines": "Prior lines of therapy",
    "prior_hsct": "Prior allogeneic HSCT",
    "relapse_category": "Relapse category",
    "post_hct_relapse": "Relapse after allogeneic HCT",
    "relapse_site": "Site of the relapse at index",
    "gvhd_at_index": "Active GVHD at index",
    "prior_car_t": "Prior CAR-T",
    "prior_inotuzumab": "Prior inotuzumab ozogamicin",
    "prior_blinatumomab": "Prior blinatumomab",
    "refractory_last_therapy": "Refractory to the last therapy",
    "disease_status": "Disease status at index",
    "mrd_status": "MRD status at index",
    "genetic_features": "Genetic features",
}


def frame_values(
    ctx: BaselineContext, level: pd.Series | np.ndarray | None, value: pd.Series | None = None
) -> pd.DataFrame:
    """Return ``person_id, group, level, value`` of every cohort row from arrays in frame order."""
    f = ctx.frame
    n = len(f)
    return pd.DataFrame(
        {
            "person_id": f["person_id"].to_numpy(dtype="int64"),
            "group": f["group"].astype(str).to_numpy(),
            "level": (
                pd.Series(level, dtype=object).to_numpy()
                if level is not None
                else np.full(n, None, dtype=object)
            ),
            "value": (
                pd.to_numeric(value, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                if value is not None
                else np.full(n, np.nan)
            ),
        }
    )


def query_values(
    table: ir.Table, level: ir.Value | None, value: ir.Value | None = None
) -> ir.Table:
    """Return the ``person_id, group, level, value`` columns a builder's query must have."""
    return table.select(
        person_id=table.person_id.cast("int64"),
        group=table.group.cast("string"),
        level=(level if level is not None else ibis.null()).cast("string"),
        value=(value if value is not None else ibis.null()).cast("float64"),
    )


def categorical(
    name: str,
    levels: Sequence[str],
    default: str | None,
    *,
    query: ir.Table | None = None,
    frame: pd.DataFrame | None = None,
    note: str = "",
    unavailable: Sequence[str] = (),
) -> BaselineVariable:
    """Return a categorical variable with its display label."""
    return BaselineVariable(
        name=name,
        kind="categorical",
        levels=tuple(levels),
        default=default,
        query=query,
        frame=frame,
        label=VARIABLE_LABELS.get(name, name),
        note=note,
        unavailable=tuple(unavailable),
    )


def where_field(spec: StudySpec, path: tuple[str | int, ...]) -> str:
    """Return ``"<origin>, line <n>: field 'a.b[i]': "`` for an error message."""
    line = spec.line_of(path)
    at = f", line {line}" if line is not None else ""
    dotted = ".".join(str(p) for p in path[:-1]) + f"[{path[-1]}]"
    return f"{spec.origin}{at}: field {dotted!r}: "
