"""Seed 001 Fig. 1: the first therapy after the index treatment by duration and by cycles."""

from __future__ import annotations

import re

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.model import Figure
from allrwe.report.render.svg import svg_figure
from allrwe.report.sections.destinations import destination_figures, stacked_destination_figures
from allrwe.report.sections.pathways import swimmer_figure
from allrwe.results import make_records
from allrwe.spec import spec_from_text


def test_destinations_are_drawn_per_duration_level_with_suppressed_bars_kept():
    rows = []
    for level, pcts in (("<=14", [40.0, 60.0]), ("15-28", [70.0, None])):
        for cls, pct in zip(["hsct", "car_t"], pcts, strict=True):
            rec = make_records(
                analysis="destinations", group="BLIN", strata_name="duration",
                strata_level=level, variable="destination", variable_level=cls,
                estimate_name="percentage", value=30.0 if pct is None else pct,
            )  # fmt: skip
            rec["suppressed"] = pct is None
            rows.append(rec)
    ctx = Context(ResultView(pd.concat(rows, ignore_index=True)), ["BLIN"], 5)
    (figure,) = destination_figures(ctx, ["hsct", "car_t", "tki"])
    assert figure.id == "destinations-blin-duration"
    assert figure.chart == "bars"
    assert figure.data["categories"] == ["hsct", "car_t"]
    assert [s["name"] for s in figure.data["series"]] == ["≤14 days", "15-28 days"]
    assert [s["values"] for s in figure.data["series"]] == [[40.0, 60.0], [70.0, None]]


def _records(analysis: str, cells: list[tuple[str, str, str, str, float | None]]) -> ResultView:
    """Records ``(strata_name, strata_level, variable_level, estimate, value)``; None = hidden."""
    rows = []
    for sn, sl, level, estimate, value in cells:
        rec = make_records(
            analysis=analysis, group="BLIN", strata_name=sn, strata_level=sl,
            variable="pathway" if analysis == "pathways" else "destination",
            variable_level=level, estimate_name=estimate,
            value=3.0 if value is None else value,
        )  # fmt: skip
        rec["suppressed"] = value is None
        rows.append(rec)
    return ResultView(pd.concat(rows, ignore_index=True))


def test_stacked_destinations_put_duration_and_cycles_bars_in_one_panel():
    view = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", 60.0),
            ("duration", "<=14", "car_t", "percentage", None),
            ("cycles", "1", "hsct", "percentage", 50.0),
            ("cycles", "1", "car_t", "percentage", 50.0),
        ],
    )
    (figure,) = stacked_destination_figures(Context(view, ["BLIN"], 5), ["hsct", "car_t"])
    assert isinstance(figure, Figure)
    assert figure.chart == "stacked"
    (panel,) = figure.data["panels"]
    assert [(b["name"], b["section"], b["values"]) for b in panel["bars"]] == [
        ("≤14", "Duration (days)", [60.0, None]),
        ("1", "Cycles", [50.0, 50.0]),
    ]
    svg = svg_figure(figure.id, figure.chart, figure.data)
    # the hidden class is one hatched part on top of the published 60 %, not a gap
    assert svg.count("<title>suppressed</title>") == 1
    assert "hsct, ≤14: 60.0%" in svg


def test_stacked_destinations_side_by_side_by_setting_when_published():
    x = " &&& "
    view = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", 70.0),
            (f"setting{x}duration", f"ND{x}<=14", "hsct", "percentage", 100.0),
            (f"setting{x}duration", f"RR{x}<=14", "hsct", "percentage", 40.0),
            (f"setting{x}cycles", f"RR{x}2", "hsct", "percentage", None),
        ],
    )
    blocks = stacked_destination_figures(Context(view, ["BLIN"], 5), ["hsct"])
    all_persons, by_setting, note = blocks
    assert [p["title"] for p in all_persons.data["panels"]] == ["All persons of group BLIN"]
    assert by_setting.id == "destinations-blin-by-setting"
    panels = by_setting.data["panels"]
    assert [p["title"] for p in panels] == ["Newly diagnosed", "Relapsed/refractory"]
    assert [[b["name"] for b in p["bars"]] for p in panels] == [["≤14"], ["≤14", "2"]]
    # a bar suppressed whole is named under the figure, not left out silently
    assert note.kind == "text"
    assert note.paragraphs == (
        "Suppressed in this figure (every class of the bar hidden, so that no count below 5 "
        "can be worked out): Relapsed/refractory: 2 cycles.",
    )
    svg = svg_figure(by_setting.id, by_setting.chart, by_setting.data)
    assert svg.count(">Relapsed/refractory</text>") == 1


def test_a_stacked_figure_with_every_bar_suppressed_is_a_note_not_a_figure():
    # CAR-T at 10M persons in the bench: two figures of hatched bars only, drawn as PNG and
    # SVG at a cost and showing nothing; the note names what the figure would have shown
    view = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", None),
            ("duration", "<=14", "car_t", "percentage", None),
            ("cycles", "1", "hsct", "percentage", None),
            ("cycles", "1", "car_t", "percentage", 0.0),
        ],
    )
    (note,) = stacked_destination_figures(Context(view, ["BLIN"], 5), ["hsct", "car_t"])
    assert note.kind == "text"
    assert note.paragraphs == (
        "Next therapy by duration and by cycles, BLIN: not drawn, every bar suppressed "
        "(every class of each bar hidden, so that no count below 5 can be worked out): "
        "All persons of group BLIN: ≤14 days, 1 cycle.",
    )
    # one bar with a published class: the figure is drawn, the blank bar named under it
    shown = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", None),
            ("cycles", "1", "hsct", "percentage", 100.0),
        ],
    )
    figure, note = stacked_destination_figures(Context(shown, ["BLIN"], 5), ["hsct"])
    assert isinstance(figure, Figure)
    assert "≤14 days" in note.paragraphs[0]


def test_destinations_by_setting_are_tables_headed_with_their_own_n():
    from allrwe.report.sections.destinations import crosstab

    rows = []
    for sl, level, n, pct in (
        ("ND", "hsct", 30.0, 60.0),
        ("ND", "chemotherapy", 20.0, 40.0),
        ("RR", "hsct", None, None),
        ("RR", "chemotherapy", 9.0, 75.0),
    ):
        rows += [
            ("setting", sl, level, "count", n),
            ("setting", sl, level, "percentage", pct),
        ]
    view = _records("destinations", rows)
    table = crosstab(Context(view, ["BLIN"], 5), "BLIN", "setting", ["hsct", "chemotherapy"],
                     "By setting", "t")  # fmt: skip
    assert table is not None
    # ND's size is the sum of its published cells; R/R's has a hidden cell, so it is not shown
    assert table.header == ("Class", "ND (n = 50)", "RR (n not shown)")
    assert [r.cells for r in table.rows] == [
        ("hsct", "30 (60.0%)", "–"),
        ("chemotherapy", "20 (40.0%)", "9 (75.0%)"),
    ]


def test_swimmer_draws_no_lane_below_the_threshold():
    view = _records(
        "pathways",
        [
            ("overall", "overall", "blinatumomab-hsct", "count", 12.0),
            ("overall", "overall", "blinatumomab-hsct", "percentage", 60.0),
            ("overall", "overall", "blinatumomab-car_t-hsct", "count", 5.0),
            ("overall", "overall", "blinatumomab-car_t-hsct", "percentage", 25.0),
            ("overall", "overall", "blinatumomab-tki", "count", None),  # suppressed
            ("overall", "overall", "blinatumomab-chemotherapy", "count", 3.0),  # < 5
            ("overall", "overall", "other (each fewer than 5)", "count", 9.0),  # pooled
            ("sex", "female", "blinatumomab-hsct", "count", 6.0),
            ("sex", "male", "blinatumomab-hsct", "count", None),
        ],
    )
    figure = swimmer_figure(Context(view, ["BLIN"], 5), "BLIN")
    assert figure is not None
    assert figure.chart == "swimmer"
    sections = figure.data["sections"]
    assert [s["title"] for s in sections] == ["All persons of group BLIN", "sex: female"]
    assert [lane["steps"] for lane in sections[0]["lanes"]] == [
        ["blinatumomab", "hsct"],
        ["blinatumomab", "car_t", "hsct"],
    ]
    assert sections[0]["lanes"][0]["text"] == "12 (60.0%)"
    assert figure.data["classes"] == ["blinatumomab", "hsct", "car_t"]
    svg = svg_figure(figure.id, figure.chart, figure.data)
    assert svg.count("<rect") == 2 + 3 + 2  # boxes of the three lanes drawn, no others
    assert "tki" not in svg
    assert "chemotherapy" not in svg


def test_one_colour_per_therapy_in_every_pattern_figure():
    from allrwe.report.figures import group_colour, therapy_colours
    from allrwe.report.labels import relabel_section
    from allrwe.report.model import Section
    from allrwe.report.sections.pathways import pathways_section

    colours = therapy_colours(
        {"BLIN": ["blinatumomab"], "INO": ["inotuzumab_ozogamicin"]},
        {"chemotherapy": ["chemotherapy"], "hsct": ["allo_hsct"], "car_t": ["car_t"],
         "blinatumomab": ["blinatumomab"], "inotuzumab": ["inotuzumab_ozogamicin"]},
    )  # fmt: skip
    # a class of a group's drug takes the group's colour; the others take colours no group has
    assert colours["blinatumomab"] == group_colour(["BLIN", "INO"], "BLIN") == "#0072B2"
    assert colours["inotuzumab"] == "#D55E00"
    assert len(set(colours.values())) == 5
    view = _records(
        "pathways",
        [
            ("overall", "overall", "blinatumomab-hsct", "count", 12.0),
            ("overall", "overall", "blinatumomab-car_t-hsct", "count", 6.0),
            ("overall", "overall", "blinatumomab-chemotherapy", "count", 7.0),
        ],
    )
    ctx = Context(view, ["BLIN", "INO"], 5, colours)
    section = pathways_section(ctx)
    assert section is not None
    # as the report shows them: keys relabelled ("hsct" is "HSCT", "car_t" "CAR-T")
    shown = relabel_section(Section("p", "P", section.blocks))
    kinds = ("sankey", "sunburst", "swimmer")
    figures = {b.chart: b for b in shown.blocks if getattr(b, "chart", "") in kinds}
    assert sorted(figures) == ["sankey", "sunburst", "swimmer"]
    stacked_view = _records(
        "destinations",
        [("cycles", "1", c, "percentage", 25.0) for c in colours if c != "inotuzumab"],
    )
    (stacked,) = stacked_destination_figures(
        Context(stacked_view, ["BLIN", "INO"], 5, colours), list(colours)
    )
    figures["stacked"] = relabel_section(Section("d", "D", (stacked,))).blocks[0]
    for chart, figure in figures.items():
        svg = svg_figure(figure.id, figure.chart, figure.data)
        for key, name in (("hsct", "HSCT"), ("car_t", "CAR-T"), ("chemotherapy", "chemotherapy")):
            # every shape titled with the therapy (the last step of a sunburst ring, a Sankey
            # node's flows out, a swimmer box, a stacked part) is in its one colour
            fills = set()
            for m in re.finditer(r'fill="(#[0-9A-F]{6})"[^>]*><title>([^<]*)</title>', svg):
                title = m.group(2)
                last = title.split(" → ")[0].split(" – ")[-1].split(". ")[-1].split(",")[0]
                if last.split(":")[0] == name:
                    fills.add(m.group(1))
            assert fills == {colours[key]}, (chart, name, fills)


def test_no_grouped_bars_when_nothing_is_published():
    view = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", None),
            ("duration", "<=14", "car_t", "percentage", 0.0),
            ("duration", ">28", "hsct", "percentage", None),
        ],
    )
    # an empty chart reads as zero; a note says it instead (no figure of hatched bars only)
    assert destination_figures(Context(view, ["BLIN"], 5), ["hsct", "car_t"]) == []
    (note,) = stacked_destination_figures(Context(view, ["BLIN"], 5), ["hsct", "car_t"])
    assert note.kind == "text"
    assert note.paragraphs[0].endswith("All persons of group BLIN: ≤14 days, >28 days.")


def test_settings_stand_side_by_side_as_bars_when_only_the_two_way_table_is_published():
    view = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", 50.0),
            ("duration", "<=14", "car_t", "percentage", 50.0),
            ("setting", "ND", "hsct", "percentage", 60.0),
            ("setting", "ND", "car_t", "percentage", 40.0),
            ("setting", "RR", "hsct", "percentage", None),
            ("setting", "RR", "car_t", "percentage", None),
            ("treatment_setting", "induction", "hsct", "percentage", 100.0),
            ("treatment_setting", "induction", "car_t", "percentage", 0.0),
        ],
    )
    all_persons, settings, note = stacked_destination_figures(
        Context(view, ["BLIN"], 5), ["hsct", "car_t"]
    )
    assert all_persons.id == "destinations-blin-stacked"
    assert settings.id == "destinations-blin-settings"
    (panel,) = settings.data["panels"]
    assert [(b["name"], b["section"], b["values"]) for b in panel["bars"]] == [
        ("ND", "Setting", [60.0, 40.0]),
        ("RR", "Setting", [None, None]),
        ("induction", "Treatment setting", [100.0, 0.0]),
    ]
    assert "splits are not published" in settings.caption
    assert note.paragraphs[0].endswith(": All persons of group BLIN: RR.")


def test_settings_figure_points_to_the_split_by_duration_when_it_is_published():
    x = " &&& "
    view = _records(
        "destinations",
        [
            ("setting", "ND", "hsct", "percentage", 60.0),
            ("setting", "RR", "hsct", "percentage", 30.0),
            (f"setting{x}duration", f"ND{x}>28", "hsct", "percentage", 55.0),
            (f"setting{x}duration", f"RR{x}>28", "hsct", "percentage", 25.0),
        ],
    )
    blocks = stacked_destination_figures(Context(view, ["BLIN"], 5), ["hsct"])
    settings, by_setting = (b for b in blocks if isinstance(b, Figure))
    assert settings.id == "destinations-blin-settings"
    assert "splits are not published" not in settings.caption
    assert "those published are the next figure" in settings.caption
    assert by_setting.id == "destinations-blin-by-setting"
    assert [[b["values"] for b in p["bars"]] for p in by_setting.data["panels"]] == [
        [[55.0]],
        [[25.0]],
    ]


def test_prior_therapy_has_a_table_per_setting_level_with_patterns_therapy_by():
    from allrwe.report.model import Table
    from allrwe.report.sections.therapy import patterns_section
    from allrwe.spec import spec_from_text

    spec = spec_from_text(
        "name: s\nindex_groups: {BLIN: [blinatumomab]}\n"
        "study_period: {start: 2020-01-01, end: 2021-12-31}\n"
        "patterns: {therapy_by: [setting]}\n"
    )
    cells = [("overall", "overall", 30, 60.0), ("setting", "ND", 10, 40.0),
             ("setting", "RR", 20, 80.0)]  # fmt: skip
    rows = [
        make_records(analysis="prior_therapy", group="BLIN", strata_name=sn, strata_level=sl,
                     variable="prior_therapy", variable_level="chemotherapy",
                     estimate_name=["count", "percentage"], value=[n, pct])
        for sn, sl, n, pct in cells
    ]  # fmt: skip
    # the size of ND as Table 1 publishes it (R/R's is not published)
    rows.append(make_records(analysis="baseline", group="BLIN", strata_name="setting",
                             strata_level="ND", variable="persons", variable_level="overall",
                             estimate_name="count", value=25.0))  # fmt: skip
    ctx = Context(ResultView(pd.concat(rows, ignore_index=True)), ["BLIN"], 5)
    section = patterns_section(ctx, spec)
    (therapy,) = [c for c in section.children if c.id == "patterns-therapy"]
    tables = [b for b in therapy.blocks if isinstance(b, Table)]
    got = {t.caption: t.rows[0].cells for t in tables}
    assert got["Prior therapy by class, persons (%)"] == ("chemotherapy", "30 (60.0%)")
    assert got["Prior therapy by class, Newly diagnosed, persons (%)"] == (
        "chemotherapy",
        "10 (40.0%)",
    )
    assert got["Prior therapy by class, Relapsed/refractory, persons (%)"] == (
        "chemotherapy",
        "20 (80.0%)",
    )
    # a stratum's table is headed with its own size, or the group alone, never the group's N
    headers = {t.caption: t.header for t in tables}
    assert headers["Prior therapy by class, Newly diagnosed, persons (%)"] == (
        "Class",
        "BLIN (n = 25)",
    )
    assert headers["Prior therapy by class, Relapsed/refractory, persons (%)"] == ("Class", "BLIN")


def test_destinations_of_those_who_completed_are_a_table_within_each_setting():
    # seed 001: "Among 30 R/R patients completing blinatumomab, 10 underwent direct allo-HSCT"
    from allrwe.report.sections.destinations import destinations_section

    rows = []
    for sl, level, n, pct in (
        ("RR &&& completed", "hsct", 10.0, 50.0),
        ("RR &&& completed", "chemotherapy", 10.0, 50.0),
        ("RR &&& not completed", "hsct", None, None),
        ("RR &&& not completed", "chemotherapy", 6.0, 60.0),
        ("ND &&& completed", "hsct", 8.0, 100.0),
        ("ND &&& completed", "chemotherapy", 0.0, 0.0),
    ):
        rows += [
            ("setting &&& completion", sl, level, "count", n),
            ("setting &&& completion", sl, level, "percentage", pct),
        ]
    rows += [("overall", "overall", "hsct", "count", 30.0)]
    rows += [("overall", "overall", "chemotherapy", "count", 16.0)]
    view = _records("destinations", rows)
    # persons who completed (index_completion): R/R's not completed is published here
    done = [
        make_records(analysis="index_completion", group="BLIN", strata_name=sn,
                     strata_level=sl, variable="completion", variable_level=lv,
                     estimate_name=["count", "percentage"], value=[n, pct])
        for sn, sl, lv, n, pct in (
            ("overall", "overall", "completed", 28.0, 62.2),
            ("overall", "overall", "not completed", 17.0, 37.8),
            ("setting", "RR", "completed", 20.0, 54.1),
            ("setting", "RR", "not completed", 17.0, 45.9),
        )
    ]  # fmt: skip
    view = ResultView(pd.concat([view.records, *done], ignore_index=True))
    spec = spec_from_text(
        "name: s\nindex_groups: {BLIN: [blinatumomab]}\n"
        "study_period: {start: 2020-01-01, end: 2020-12-31}\n"
        "patterns: {therapy_classes: {hsct: [allo_hsct], chemotherapy: [chemotherapy]}, "
        "novel_agent_classes: []}\n"
    )
    section = destinations_section(Context(view, ["BLIN"], 5), spec)
    assert section is not None
    tables = {b.caption: b for b in section.blocks if hasattr(b, "header")}
    table = tables[
        "First therapy after the index treatment of BLIN by setting and completion of the "
        "index treatment, persons (%)"
    ]
    # newly diagnosed first, as in seed 001 Fig. 1; a level's size is the sum of its cells
    assert table.header == (
        "Class",
        "ND × completed (n = 8)",
        "RR × completed (n = 20)",
        "RR × not completed (n = 17)",
    )
    assert [r.cells for r in table.rows] == [
        ("hsct", "8 (100.0%)", "10 (50.0%)", "–"),
        ("chemotherapy", "0 (0.0%)", "10 (50.0%)", "6 (60.0%)"),
    ]
    completion = tables[
        "Completion of the index treatment (patterns.completion: at least the set number of "
        "complete cycles), persons (%)"
    ]
    assert completion.header == ("Index treatment", "BLIN", "BLIN: Relapsed/refractory")
    assert [r.cells for r in completion.rows] == [
        ("completed", "28 (62.2%)", "20 (54.1%)"),
        ("not completed", "17 (37.8%)", "17 (45.9%)"),
    ]


def test_completion_bars_have_short_names_beside_the_settings():
    rows = []
    for sn, sl, hsct in (
        ("setting", "RR", 60.0),
        ("setting &&& completion", "RR &&& completed", 70.0),
        ("setting &&& completion", "RR &&& not completed", 40.0),
    ):
        rows += [(sn, sl, "hsct", "percentage", hsct), (sn, sl, "none", "percentage", 100 - hsct)]
    figures = stacked_destination_figures(Context(_records("destinations", rows), ["BLIN"], 5),
                                          ["hsct", "none"])  # fmt: skip
    (settings,) = [f for f in figures if isinstance(f, Figure) and f.id.endswith("settings")]
    bars = [b for p in settings.data["panels"] for b in p["bars"]]
    assert [(b["name"], b["values"]) for b in bars] == [
        ("RR", [60.0, 40.0]),
        ("RR done", [70.0, 30.0]),
        ("RR not done", [40.0, 60.0]),
    ]


def test_cycle_columns_whose_size_is_hidden_say_so_in_words():
    from allrwe.report.sections.destinations import crosstab

    rows = [
        ("cycles", "1", "hsct", "count", 55.0),
        ("cycles", "1", "chemotherapy", "count", 19.0),
        ("cycles", "4", "hsct", "count", 0.0),
        ("cycles", "4", "chemotherapy", "count", None),
    ]
    view = _records("destinations", rows)
    cycles = [
        make_records(
            analysis="cycles",
            group="BLIN",
            strata_name="overall",
            strata_level="overall",
            variable="cycles",
            variable_level=level,
            estimate_name="count",
            value=n,
        )
        for level, n in (("1", 129.0), ("4", 3.0))
    ]
    cycles[1]["suppressed"] = True
    frame = pd.concat([view.records, *cycles], ignore_index=True)
    table = crosstab(Context(ResultView(frame), ["BLIN"], 5), "BLIN", "cycles",
                     ["hsct", "chemotherapy"], "By cycles", "t")  # fmt: skip
    assert table is not None
    # 1 cycle: the cycles analysis publishes 129 (not the 74 of the two cells shown here)
    assert table.header == ("Class", "1 cycle (n = 129)", "4 cycles (n not shown)")
    assert "n = –" not in " ".join(table.header)


def test_stacked_legend_keys_only_the_classes_a_bar_draws():
    view = _records(
        "destinations",
        [
            ("duration", "<=14", "hsct", "percentage", 60.0),
            ("duration", "<=14", "inotuzumab", "percentage", None),
            ("duration", "<=14", "tki", "percentage", 0.0),
            ("cycles", "1", "hsct", "percentage", 80.0),
            ("cycles", "1", "inotuzumab", "percentage", None),
            ("cycles", "1", "tki", "percentage", 0.0),
        ],
    )
    classes = ["hsct", "inotuzumab", "tki"]
    (figure,) = stacked_destination_figures(Context(view, ["BLIN"], 5), classes)
    svg = svg_figure(figure.id, figure.chart, figure.data)
    keys = re.findall(
        r'<text x="[\d.]+" y="[\d.]+" font-size="11" text-anchor="start">([^<]+)<', svg
    )
    # hidden in every bar (inotuzumab) or zero in every bar (tki): no key; the hatch has one
    assert keys == ["hsct", "suppressed (–)"]


def test_a_group_with_no_published_pathway_says_why_it_has_no_figure():
    from allrwe.report.model import Text
    from allrwe.report.sections.pathways import pathways_section

    view = _records(
        "pathways",
        [
            ("overall", "overall", "blinatumomab", "count", None),
            ("overall", "overall", "blinatumomab-hsct", "count", None),
            ("overall", "overall", "other (each fewer than 5)", "count", None),
        ],
    )
    section = pathways_section(Context(view, ["BLIN"], 5))
    assert section is not None
    kinds = [b.kind for b in section.blocks]
    assert "figure" not in kinds  # demo, 3,000 persons: every pathway count hidden
    notes = [b.paragraphs[0] for b in section.blocks if isinstance(b, Text)]
    assert notes[1] == (
        "No pathway of group BLIN has a published count (each is fewer than 5 persons, "
        "pooled, or hidden so that such a count cannot be worked out), so its Sankey diagram, "
        "sunburst, bar chart and swimmer plot are not drawn; the table below lists its pathways."
    )


def test_a_group_of_no_persons_draws_no_bars_in_the_cycles_figure():
    # the 100k bench: CAR-T had 0 persons, every cycles percentage 0/0 (NaN, not hidden),
    # and the figure drew its bars hatched, as if suppressed
    from allrwe.report.sections.therapy import _bars

    rows = []
    for group, level, value, hidden in (
        ("BLIN", "1", 50.0, False),
        ("BLIN", "2", 3.0, True),
        ("CAR-T", "1", float("nan"), False),
        ("CAR-T", "2", float("nan"), False),
        ("INO", "1", 3.0, True),
        ("INO", "2", 3.0, True),
    ):
        rec = make_records(
            analysis="cycles", group=group, variable="cycles", variable_level=level,
            estimate_name="percentage", value=value,
        )  # fmt: skip
        rec["suppressed"] = hidden
        rows.append(rec)
    ctx = Context(ResultView(pd.concat(rows, ignore_index=True)), ["INO", "BLIN", "CAR-T"], 5)
    data = _bars(ctx, "cycles", ["1", "2"])
    # INO, every bar hidden, keeps its hatched bars; CAR-T has nothing to draw
    assert [(s["name"], s["values"]) for s in data["series"]] == [
        ("INO", [None, None]),
        ("BLIN", [50.0, None]),
    ]
