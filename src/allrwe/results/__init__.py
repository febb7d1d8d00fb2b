"""allrwe.results: the tidy results model, small-cell suppression, exports and the output audit.

Analyses hand plain records (pandas tables) to this layer; it does not import them. The flow
is ``ResultSet.create`` / ``ResultSet.concat`` → :func:`suppress` (once) → :func:`export`;
:func:`audit_outputs` checks any output folder for small cells and person identifiers.
"""

from allrwe.results.audit import AuditReport, Finding, audit_outputs
from allrwe.results.builders import (
    count_records,
    default_estimate_type,
    make_records,
    margin_key,
    percentage_records,
    summary_records,
)
from allrwe.results.exports import FORMATS, export, publishable_records
from allrwe.results.model import (
    COLUMNS,
    ESTIMATE_TYPES,
    KEY_COLUMNS,
    ResultSet,
    validate_records,
)
from allrwe.results.provenance import Provenance, SuppressionSummary, spec_hash
from allrwe.results.read import km_curve, read, tidy  # reading a run's output back
from allrwe.results.suppression import suppress

__all__ = [
    "COLUMNS",
    "ESTIMATE_TYPES",
    "FORMATS",
    "KEY_COLUMNS",
    "AuditReport",
    "Finding",
    "Provenance",
    "ResultSet",
    "SuppressionSummary",
    "audit_outputs",
    "count_records",
    "default_estimate_type",
    "export",
    "make_records",
    "margin_key",
    "percentage_records",
    "publishable_records",
    "spec_hash",
    "summary_records",
    "suppress",
    "validate_records",
]
__all__ += ["km_curve", "read", "tidy"]
