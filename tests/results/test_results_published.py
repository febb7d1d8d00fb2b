"""Reading an output folder as an attacker: every results file, and the report's curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from allrwe.analyses.survival import DAYS_PER_MONTH as ANALYSES_DAYS_PER_MONTH
from allrwe.errors import UsageError
from allrwe.results.attack import attack
from allrwe.results.model import COLUMNS
from allrwe.results.published import DAYS_PER_MONTH, read_published, report_curves

HEADER = ",".join(COLUMNS) + "\n"
KM = "survival_curve_counts,BLIN,overall,overall,os"


def _folder(tmp_path: Path, rows: list[str], *, provenance: dict | None = None) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "results.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    if provenance is not None:
        (folder / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")
    return folder


def test_days_per_month_is_the_analyses_constant():
    assert DAYS_PER_MONTH == ANALYSES_DAYS_PER_MONTH


def test_a_folder_without_results_is_not_an_output(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is not an allrwe output folder"):
        read_published(tmp_path)
    with pytest.raises(UsageError, match="is not a folder"):
        read_published(tmp_path / "notes.txt")


def test_a_results_file_without_record_columns_is_refused(tmp_path: Path):
    (tmp_path / "results.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"results\.csv is not an allrwe results file"):
        read_published(tmp_path)


def test_a_value_shown_in_any_file_is_published(tmp_path: Path):
    rows = ["cohort,BLIN,overall,overall,persons,overall,count,count,,TRUE,"]
    folder = _folder(tmp_path, rows, provenance={"suppression": {"min_cell_count": 11}})
    shown = pd.DataFrame(
        [
            [
                "cohort",
                "BLIN",
                "overall",
                "overall",
                "persons",
                "overall",
                "count",
                "count",
                3.0,
                False,
                "",
            ]
        ],
        columns=list(COLUMNS),
    )
    shown.to_parquet(folder / "results.parquet")
    published = read_published(folder)
    assert published.files == ("results.parquet", "results.csv")
    assert published.min_cell_count == 11
    assert published.records["value"].tolist() == [3.0]
    assert published.records["suppressed"].tolist() == [False]


def _html(figures: dict) -> str:
    data = json.dumps(figures)
    return f'<html><script type="application/json" id="allrwe-figures">{data}</script></html>'


def _line(name: str, days: list[int], y: list[float]) -> dict:
    x = [round(d / DAYS_PER_MONTH, 6) for d in days]
    return {"type": "scatter", "mode": "lines", "name": name, "x": [0.0, *x], "y": [1.0, *y]}


def test_report_curves_turn_figure_lines_into_records():
    records = pd.DataFrame(
        [
            [
                "survival_curve",
                "BLIN",
                "overall",
                "overall",
                "os:hsct_car_t",
                "400",
                "survival",
                "numeric",
                0.5,
                False,
                "",
            ]
        ],
        columns=list(COLUMNS),
    )
    band = {"type": "scatter", "mode": "lines", "x": [1.0], "y": [0.2]}  # no name: a CI band
    html = _html(
        {
            "km-os-hsct-car-t": {"data": [band, _line("BLIN", [30, 400], [0.8, 0.6])]},
            "cycles": {"data": [{"type": "bar", "name": "BLIN", "x": ["1"], "y": [3]}]},
        }
    )
    curves = report_curves(html, records)
    assert curves[["variable", "variable_level", "estimate_name", "value"]].values.tolist() == [
        ["os:hsct_car_t", "30", "survival", 0.8],
        ["os:hsct_car_t", "400", "survival", 0.6],
    ]
    assert report_curves("<html></html>", records).empty


def test_report_curve_steps_give_away_deaths_the_exports_hide(tmp_path: Path):
    # the exports hide the estimates and the deaths before day 30, where 5 remain at risk;
    # the report draws S = 5/6 just before day 30: one death among 6
    rows = [
        f"{KM},30,n_risk,count,5,FALSE,",
        f"{KM},30,n_event,count,,TRUE,",
        f"{KM},30,n_censor,count,0,FALSE,",
        "survival_curve,BLIN,overall,overall,os,30,survival,numeric,,FALSE,",
    ]
    folder = _folder(tmp_path, rows)
    (folder / "report.html").write_text(
        _html({"km-os": {"data": [_line("BLIN", [30], [round(5 / 6, 6)])]}}), encoding="utf-8"
    )
    published = read_published(folder)
    assert attack(published.records, 5).ok
    report = attack(published.records, 5, report=published.report)
    assert [(leak.record, leak.low, leak.high) for leak in report.leaks] == [
        ("survival_curve_counts/BLIN/overall=overall/os/30/n_event", 1, 1)
    ]
    assert math.isclose(published.report["value"].iloc[0], 0.833333)


def test_every_export_format_reads_back_to_the_same_records(tmp_path: Path):
    from allrwe.results import ResultSet, export, suppress

    step = ["attrition", "BLIN", "overall", "overall", "step"]
    mean = ["cohort", "BLIN", "overall", "overall", "persons", "overall", "mean"]
    raw = pd.DataFrame(
        [
            [*step, "01 index", "n_persons", "count", 366.0, False, ""],
            [*step, "02 age", "n_excluded", "count", 2.0, False, ""],
            [*step, "02 age", "n_persons", "count", 364.0, False, ""],
            [*mean, "numeric", 34.329545454545, False, ""],
        ],
        columns=list(COLUMNS),
    )
    # primary suppression only (complementary suppression would hide 364 as well)
    results = suppress(
        ResultSet.create(raw, spec={}, cdm_source="test"), min_cell_count=5, policy="per_cell"
    )
    export(results, tmp_path / "out")
    published = read_published(tmp_path / "out")
    assert published.files == ("results.parquet", "results.csv", "results.json", "results.xlsx")
    assert published.min_cell_count == 5
    for name in published.files:  # each file alone gives the same records
        alone = tmp_path / name.replace(".", "_")
        alone.mkdir()
        (alone / name).write_bytes((tmp_path / "out" / name).read_bytes())
        records = read_published(alone).records
        assert records["value"].isna().tolist() == [False, True, False, False], name
        assert records["value"].iloc[3] == pytest.approx(34.32954545, rel=1e-9), name
    # the hidden 2 is what the attacker gives back from the folder
    report = attack(published.records, 5)
    assert [(leak.record, leak.low) for leak in report.leaks] == [
        ("attrition/BLIN/overall=overall/step/02 age/n_excluded", 2)
    ]
