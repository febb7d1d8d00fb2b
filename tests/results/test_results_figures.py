"""The attacker reads the numbers the report's inline SVG figures print.

A curve figure prints a number-at-risk table under its axis (``report.render.svg``). Each
number must be a published count of a curve of at least the threshold: a planted small
count, or a number no results file publishes, fails the audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.report.render.svg import svg_figure
from allrwe.results import export, suppress
from allrwe.results.attack import attack
from allrwe.results.published import figure_numbers, read_published
from disclosure_cases import stratum_chain_records

#: risk sets of the overall OS curve of the chain records (disclosure_cases.CURVES) as the
#: suppression publishes them: 22 and 17 hidden, 12 and 7 shown
AT_RISK = ["–", "–", "12", "7"]


def _figure(values: list[str]) -> str:
    curve = {
        "name": "INO",
        "x": [0.0, 3.2, 5.1, 6.2, 7.3],
        "y": [1.0, 1.0, 0.77, 0.55, 0.32],
        "lower": [None] * 5,
        "upper": [None] * 5,
        "cx": [],
        "cy": [],
    }
    data = {
        "title": "Overall survival",
        "xlabel": "Months since index",
        "ylabel": "Survival",
        "curves": [curve],
        "risk": {"times": [0.0, 3.0, 6.0, 9.0], "rows": [{"name": "INO", "values": values}]},
    }
    return svg_figure("km-os", "km", data)


def _folder(tmp_path: Path, values: list[str]) -> Path:
    out = tmp_path / "out"
    export(suppress(stratum_chain_records(), 5), out)
    html = f"<html><body><figure>{_figure(values)}</figure></body></html>"
    (out / "report.html").write_text(html, encoding="utf-8")
    return out


def test_the_number_at_risk_table_is_read_row_by_row(tmp_path: Path):
    numbers = figure_numbers(_figure(AT_RISK))
    assert [(n.figure, n.row, n.column, n.text) for n in numbers] == [
        ("Overall survival", "INO", 0, "–"),
        ("Overall survival", "INO", 1, "–"),
        ("Overall survival", "INO", 2, "12"),
        ("Overall survival", "INO", 3, "7"),
    ]
    assert [n.value for n in numbers] == [None, None, 12, 7]


def test_published_risk_sets_in_a_figure_pass(tmp_path: Path):
    published = read_published(_folder(tmp_path, AT_RISK))
    assert len(published.figures) == 4
    found = attack(published.records, 5, figures=published.figures)
    assert found.ok


def test_a_small_count_planted_in_a_figure_fails_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = _folder(tmp_path, ["–", "–", "3", "7"])
    published = read_published(out)
    found = attack(published.records, 5, figures=published.figures)
    assert [(x.record, x.low, x.high, x.families) for x in found.leaks] == [
        ("report.html/Overall survival/INO/at risk #2", 3, 3, ("figure",))
    ]
    assert main(["audit", str(out)]) == 1
    assert "at risk #2" in capsys.readouterr().out


def test_a_number_no_file_publishes_fails_the_audit(tmp_path: Path):
    published = read_published(_folder(tmp_path, ["–", "–", "13", "7"]))
    found = attack(published.records, 5, figures=published.figures)
    assert [(x.record, x.low, x.families) for x in found.leaks] == [
        ("report.html/Overall survival/INO/at risk #2", 13, ("figure", "unpublished"))
    ]
