"""Figures: Plotly specifications and deterministic static files."""

from __future__ import annotations

from pathlib import Path

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


HBARS = Figure(
    "hbars-test",
    "test",
    "hbars",
    {
        "items": [
            {"name": "A – B – C", "value": 40},
            {"name": "A – B", "value": 25},
            {"name": "a much longer pathway label", "value": 12},
        ],
        "xlabel": "Persons",
    },
)


def _saved_with_savefig(figure: Figure, folder: Path) -> list[bytes]:
    """The files as ``Figure.savefig`` writes them (layout in a draw of its own)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    from allrwe.report import _static

    folder.mkdir()
    with mpl.rc_context(_static._RC):
        height = 5.0 if figure.chart == "km" else 3.6
        if figure.chart == "hbars":
            height = max(2.0, 0.8 + 0.3 * len(figure.data["items"]))
        layout = None if figure.chart == "km" else "constrained"
        fig = MplFigure(figsize=(7.0, height), layout=layout)
        FigureCanvasAgg(fig)
        _static._DRAW[figure.chart](fig, figure.data)
        fig.savefig(folder / "f.png", dpi=150, metadata={"Software": None})
        fig.savefig(folder / "f.svg", metadata={"Date": None, "Creator": None})
    return [(folder / "f.png").read_bytes(), (folder / "f.svg").read_bytes()]


@pytest.mark.parametrize("figure", [KM, BARS, HBARS], ids=["km", "bars", "hbars"])
def test_static_files_match_savefig_byte_for_byte(figure, tmp_path):
    written = write_static(figure, tmp_path / "ours")
    assert [p.read_bytes() for p in written] == _saved_with_savefig(figure, tmp_path / "savefig")
