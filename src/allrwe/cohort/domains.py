"""The CDM tables and columns of each event domain, and the columns an event query needs.

An event domain (drug, condition, procedure, measurement, observation) is one CDM table: its
row id, standard and source concept columns, start and end dates (:data:`EVENT_DOMAINS`), and
the value columns the event helpers keep (:data:`EXTRA_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis.expr.types as ir

from allrwe.errors import CdmSchemaError

__all__ = ["EVENT_DOMAINS", "EXTRA_COLUMNS", "Domain", "require_columns"]


@dataclass(frozen=True)
class Domain:
    """One event domain's CDM table and columns."""

    table: str
    id_col: str
    concept_col: str
    source_col: str
    start_col: str
    end_col: str | None

    @property
    def required(self) -> list[str]:
        """Columns every event query of the domain reads."""
        return ["person_id", self.id_col, self.concept_col, self.start_col]


#: The CDM table and columns of each event domain.
EVENT_DOMAINS: dict[str, Domain] = {
    "drug": Domain(
        "drug_exposure",
        "drug_exposure_id",
        "drug_concept_id",
        "drug_source_concept_id",
        "drug_exposure_start_date",
        "drug_exposure_end_date",
    ),
    "condition": Domain(
        "condition_occurrence",
        "condition_occurrence_id",
        "condition_concept_id",
        "condition_source_concept_id",
        "condition_start_date",
        "condition_end_date",
    ),
    "procedure": Domain(
        "procedure_occurrence",
        "procedure_occurrence_id",
        "procedure_concept_id",
        "procedure_source_concept_id",
        "procedure_date",
        "procedure_end_date",
    ),
    "measurement": Domain(
        "measurement",
        "measurement_id",
        "measurement_concept_id",
        "measurement_source_concept_id",
        "measurement_date",
        None,
    ),
    "observation": Domain(
        "observation",
        "observation_id",
        "observation_concept_id",
        "observation_source_concept_id",
        "observation_date",
        None,
    ),
}

EXTRA_COLUMNS: dict[str, dict[str, str]] = {
    # the source code: an HCPCS code's quantity is billing units (J9229: 0.1 mg each)
    "drug": {"quantity": "float64", "days_supply": "float64", "drug_source_value": "string"},
    "procedure": {},
    # the source code: where ICD-10-CM carries an adverse event's grade (D89.83n, G92.0n)
    "condition": {"condition_source_value": "string"},
    "measurement": {
        "value_as_number": "float64",
        "value_as_concept_id": "int64",
        "unit_concept_id": "int64",
    },
    "observation": {
        "value_as_number": "float64",
        "value_as_concept_id": "int64",
        "unit_concept_id": "int64",
        "observation_source_value": "string",
    },
}


def require_columns(table: ir.Table, name: str, columns: Sequence[str]) -> None:
    """Raise a :class:`CdmSchemaError` naming the columns of ``columns`` the table lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CdmSchemaError(f"table {name!r} lacks column(s) {missing} that allrwe needs")
