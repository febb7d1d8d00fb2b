"""Figures: Plotly specifications and deterministic static files."""

from __future__ import annotations

import pytest

from allrwe.report import plotly_spec, write_static
from allrwe.report.model import Figure

KM = Figure(
    "km-test",
    "test",
    "km",
    {
        "curves": [
            {
                "name": "A",
                "x": [0.0, 1.0, 2.5],
                "y": [1.0, 0.9, 0.7],
                "lower": [1.0, 0.8, None],
                "upper": [1.0, 0.95, 0.85],
                "cx": [2.5],
                "cy": [0.7],
            }
        ],
        "xlabel": "Months",
        "ylabel": "Survival probability",
        "risk": {"times": [0.0, 3.0], "rows": [{"name": "A", "values": ["40", "–"]}]},
    },
)
BARS = Figure(
    "bars-test",
    "test",
    "bars",
    {
        "categories": ["1", "2", "3"],
        "series": [{"name": "A", "values": [60.0, None, 10.0]}],
        "xlabel": "Cycles",
        "ylabel": "Persons (%)",
    },
)


def test_km_spec_draws_steps_band_and_censoring_marks():
    spec = plotly_spec(KM)
    kinds = [(t["type"], t.get("fill"), t.get("mode")) for t in spec["data"]]
    assert kinds == [
        ("scatter", None, "lines"),
        ("scatter", "tonexty", "lines"),
        ("scatter", None, "lines"),
        ("scatter", None, "markers"),
    ]
    curve = spec["data"][2]
    assert curve["x"] == [0.0, 1.0, 2.5]
    assert curve["y"] == [1.0, 0.9, 0.7]
    assert curve["line"]["shape"] == "hv"
    assert spec["data"][1]["y"] == [1.0, 0.8, None]
    assert spec["layout"]["yaxis"]["range"] == [0, 1.02]


def test_unknown_figure_kind_is_refused():
    with pytest.raises(ValueError, match="unknown figure kind 'pie'"):
        plotly_spec(Figure("x", "x", "pie", {}))


@pytest.mark.parametrize("figure", [KM, BARS], ids=["km", "bars"])
def test_static_files_are_byte_identical_and_unstamped(figure, tmp_path):
    first = write_static(figure, tmp_path / "a")
    second = write_static(figure, tmp_path / "b")
    assert [p.name for p in first] == [f"{figure.id}.png", f"{figure.id}.svg"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    png, svg = (p.read_bytes() for p in first)
    assert png.startswith(b"\x89PNG")
    assert b"Software" not in png
    assert b"<dc:date>" not in svg
    assert b"<dc:creator>" not in svg
