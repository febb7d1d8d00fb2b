"""Every example spec runs on the synthetic profile of its seed design."""

from __future__ import annotations

import re

import pytest
from study_paths import EXAMPLES

from allrwe.report import SECTION_IDS
from allrwe.results import audit_outputs
from allrwe.results.summarised import SUMMARISED_FILE, check_summarised_result
from allrwe.study import run_study
from allrwe.study.rebuild import rebuild_report

CASES = [
    ("seed000_claims_patterns.yaml", "claims", 11),
    ("seed001_blinatumomab_emr.yaml", "emr", 5),
    ("seed003_inotuzumab_outcomes.yaml", "emr_ino", 5),
    ("seed004_post_hct_relapse.yaml", "emr_ino", 5),
]


@pytest.mark.parametrize(("spec", "profile", "minimum"), CASES, ids=[c[0][:7] for c in CASES])
def test_example_spec_runs_on_its_profile(spec, profile, minimum, request, tmp_path):
    cdm = request.getfixturevalue(f"{profile}_cdm")
    summary = run_study(EXAMPLES / spec, cdm, tmp_path / "out", min_cell_count=minimum)
    assert summary.audit.ok
    assert audit_outputs(tmp_path / "out", min_cell_count=minimum).ok
    assert summary.suppression["min_cell_count"] == minimum
    # the rules omopgenerics' importSummarisedResult() applies
    assert check_summarised_result(tmp_path / "out" / SUMMARISED_FILE) == []
    html = summary.report.read_text(encoding="utf-8")
    # allrwe report draws the same bytes from the output folder alone
    assert rebuild_report(summary.out_dir, tmp_path / "x.html").read_bytes() == html.encode()
    sections = re.findall(r'data-section="([^"]+)"', html)
    assert [s for s in sections if s in SECTION_IDS] == list(SECTION_IDS)
    response = html[html.index('id="response"') : html.index('id="survival"')]
    if profile == "claims":
        # claims hold no labs: response is "not available", never 0 %
        assert "Response not available" in response
        assert "0.0%" not in response
    else:
        assert "Response to the index treatment" in response
