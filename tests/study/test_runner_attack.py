"""The end of a run: the attacker on the staged outputs, and the cohort's progress note."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.errors import AllrweWarning, DisclosureError
from allrwe.results import export, suppress
from allrwe.results.attack import AttackReport, attack
from allrwe.results.published import read_published
from allrwe.study import runner
from disclosure_cases import LEAKED, stratum_chain_records

HEADER = (
    "analysis,group,strata_name,strata_level,variable,variable_level,estimate_name,"
    "estimate_type,value,suppressed,margin\n"
)
STEP = "attrition,BLIN,overall,overall,step"


def _staged(folder: Path, excluded: str) -> Path:
    folder.mkdir()
    rows = [
        f"{STEP},01 index,n_persons,count,366,FALSE,",
        f"{STEP},02 age,n_excluded,count,{excluded},{'TRUE' if not excluded else 'FALSE'},",
        f"{STEP},02 age,n_persons,count,364,FALSE,",
    ]
    (folder / "results.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_cohort_note_hides_a_small_cohort_size():
    assert runner._cohort_note(3, 5) == "<5 persons"
    assert runner._cohort_note(5, 5) == "5 persons"
    assert runner._cohort_note(88, 5) == "88 persons"
    assert runner._cohort_note(0, 5) == "0 persons"


def test_run_audit_warns_on_a_recovered_hidden_count_when_leaks_only_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(runner, "FAIL_RUN_ON_LEAKS", False)
    folder = _staged(tmp_path / "staged", "")
    with pytest.warns(AllrweWarning, match=r"recovers 1 hidden count\(s\) below 5.*= 2"):
        report = runner._audit(folder, 5)
    assert report.files == ("results.csv",)


def test_run_audit_fails_on_a_leak_when_leaks_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runner, "FAIL_RUN_ON_LEAKS", True)
    folder = _staged(tmp_path / "staged", "")
    with pytest.raises(DisclosureError, match=r"n_excluded = 2 \(attrition\); nothing was"):
        runner._audit(folder, 5)


def test_run_audit_passes_published_counts(tmp_path: Path, recwarn: pytest.WarningsRecorder):
    folder = _staged(tmp_path / "staged", "2")
    assert runner._audit(folder, 2).ok
    assert not [w for w in recwarn if issubclass(w.category, AllrweWarning)]


def test_leaks_fail_a_run_by_default():
    assert runner.FAIL_RUN_ON_LEAKS is True


def test_run_audit_fails_on_the_seed003_stratum_leak(tmp_path: Path):
    # the INO Ph+ survival n = 4 that per-cell suppression leaves to the attacker (overall
    # minus the Ph- curve's risk sets)
    folder = tmp_path / "staged"
    export(suppress(stratum_chain_records(), 5, policy="per_cell"), folder, formats=("csv",))
    with pytest.raises(DisclosureError, match=rf"{re.escape(LEAKED)} = 4 .*nothing was written"):
        runner._audit(folder, 5)
    closed = tmp_path / "closed"
    export(suppress(stratum_chain_records(), 5), closed, formats=("csv",))
    assert runner._audit(closed, 5).ok


# --- a real run, attacked: the leaks the suppression of issue 16 (disclose branch) removes ---


@pytest.fixture(scope="module")
def demo_attack(tmp_path_factory: pytest.TempPathFactory) -> AttackReport:
    out = tmp_path_factory.mktemp("attack") / "demo"
    assert main(["demo", "--out", str(out), "--seed", "1"]) == 0
    published = read_published(out)
    assert published.min_cell_count == 5
    return attack(published.records, 5, report=published.report)


@pytest.mark.slow
def test_demo_run_attack_is_consistent(demo_attack: AttackReport):
    # every constraint family fits the published numbers: the attacker's model is right
    assert demo_attack.inconsistent == ()
    assert demo_attack.n_hidden > 1000


@pytest.mark.slow
def test_demo_run_gives_no_best_response_away(demo_attack: AttackReport):
    assert [leak.record for leak in demo_attack.leaks if "nested" in leak.families] == []


@pytest.mark.slow
def test_demo_run_gives_no_time_to_event_count_away(demo_attack: AttackReport):
    curves = ("survival", "cumulative_incidence")
    assert [leak.record for leak in demo_attack.leaks if leak.record.startswith(curves)] == []


@pytest.mark.slow
def test_demo_run_gives_no_stratum_count_away(demo_attack: AttackReport):
    assert [
        leak.record for leak in demo_attack.leaks if leak.families == ("margin", "strata")
    ] == []


@pytest.mark.slow
def test_demo_run_gives_no_attrition_or_margin_count_away(demo_attack: AttackReport):
    single = [("attrition",), ("margin",)]
    assert [leak.record for leak in demo_attack.leaks if leak.families in single] == []
