"""Provenance: written by ``to_dict``, read back by ``from_dict`` unchanged."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from allrwe.errors import ResultsError
from allrwe.results import Provenance, SuppressionSummary


def _provenance() -> Provenance:
    base = Provenance.collect(
        spec={"a": 1}, cdm_source="duckdb:cdm", created_at="2025-01-02T03:04:05+00:00"
    )
    return replace(
        base,
        suppression=SuppressionSummary(min_cell_count=5, count_cells=12, linked=30),
        concept_sets={"ino": {"listed": [1], "resolved": [1], "present": True}},
        cdm={"cdm_source_name": "Site A", "cdm_version": "5.4"},
        settings={"pathways": {"filter": "first", "exit_names": ["hsct"]}},
    )


def test_round_trip_through_json_is_exact():
    prov = _provenance()
    back = Provenance.from_dict(json.loads(json.dumps(prov.to_dict())))
    assert back == prov
    assert back.suppression is not None
    assert back.suppression.hides_below == 5
    assert back.cdm == {"cdm_source_name": "Site A", "cdm_version": "5.4"}


def test_fields_absent_from_older_runs_stay_none():
    data = _provenance().to_dict()
    for key in ("cdm", "settings", "concept_sets"):
        del data[key]
    back = Provenance.from_dict(data)
    assert (back.cdm, back.settings, back.concept_sets) == (None, None, None)
    assert "cdm" not in back.to_dict()
    assert "settings" not in back.to_dict()


def test_missing_fields_are_named():
    data = _provenance().to_dict()
    del data["created_at"], data["platform"]
    with pytest.raises(ResultsError, match=r"lacks field\(s\) platform, created_at"):
        Provenance.from_dict(data)


def test_malformed_suppression_is_an_error():
    data = _provenance().to_dict()
    data["suppression"] = {"min_cell_count": 5}
    with pytest.raises(ResultsError, match="malformed suppression summary"):
        Provenance.from_dict(data)
