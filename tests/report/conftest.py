"""Fixtures of the report tests: planted results (see planted.py), suppressed, and their spec."""

from __future__ import annotations

from dataclasses import replace

import pytest
from planted import DEMO_SPEC, MIN_CELL_COUNT, raw_records

from allrwe.report import meta_from_results
from allrwe.report.model import ReportMeta
from allrwe.results import ResultSet, suppress
from allrwe.spec import StudySpec, load_spec


@pytest.fixture(scope="session")
def spec() -> StudySpec:
    return load_spec(DEMO_SPEC)


@pytest.fixture(scope="session")
def raw(spec: StudySpec) -> ResultSet:
    created = ResultSet.create(
        raw_records(), spec=spec, cdm_source="test:planted", created_at="2024-05-06T07:08:09+00:00"
    )
    # the run puts the cdm_source row into the provenance, where the report reads it
    cdm = {"cdm_source_name": "Planted test CDM", "cdm_version": "5.4"}
    return created.with_records(created.records, replace(created.provenance, cdm=cdm))


@pytest.fixture(scope="session")
def results(raw: ResultSet) -> ResultSet:
    return suppress(raw, min_cell_count=MIN_CELL_COUNT)


@pytest.fixture(scope="session")
def meta(results: ResultSet, spec: StudySpec) -> ReportMeta:
    return meta_from_results(results, spec)
