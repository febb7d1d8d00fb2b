"""run_study reads from an open CdmSource or Ibis backend as from a URL, and leaves it open."""

from __future__ import annotations

import pytest
from study_paths import DEMO_SPEC

from allrwe.io import connect
from allrwe.study import run_study


@pytest.mark.parametrize("given", ["source", "backend"])
def test_open_source_or_backend_gives_the_urls_results(demo_run, emr_cdm, tmp_path, given):
    summary, _ = demo_run
    with connect(emr_cdm) as source:
        cdm = source if given == "source" else source.backend
        again = run_study(DEMO_SPEC, cdm, tmp_path / "out", patient_level=True)
        # the run left the connection open and dropped the rows it kept (temporary tables)
        assert int(source.execute(source.table("person").count())) > 0
        assert source.kept is None
        assert not [t for t in source.backend.list_tables() if t.startswith("ibis_cached")]
    assert again.group_sizes == summary.group_sizes
    # the records are the same; the provenance names the source as it was given
    csv = "results.csv"
    assert (again.out_dir / csv).read_bytes() == (summary.out_dir / csv).read_bytes()
