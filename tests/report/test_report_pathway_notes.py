"""A therapy that follows the index treatment but is in no pathway is named beside the figures.

The seed 001 example (emr CDM, 326 BLIN; issue #20 review): CAR-T is the first therapy after
blinatumomab of 72 persons (22.1 %) but in none of the pathways, whose minimum duration after
a combination (27 days, blinatumomab's course) drops a one-day infusion (docs/pathways.md).
"""

from __future__ import annotations

import pandas as pd
from test_report_pathway_colours import SEED001_BLIN, pathway_records

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.labels import relabel_section
from allrwe.report.model import Figure, Text
from allrwe.report.sections.pathway_notes import group_setting
from allrwe.report.sections.pathways import pathways_section
from allrwe.results import make_records

_FIRST_AFTER = {"hsct": 118, "chemotherapy": 74, "car_t": 72, "none": 48, "tki": 0}
_SETTINGS = {"min_era_days": 0, "min_post_combination_days": 27}


def _records(paths: dict[str, int]) -> pd.DataFrame:
    return pd.concat(
        [
            make_records(analysis="cohort", group="BLIN", variable="persons",
                         estimate_name="count", value=326),
            pathway_records(paths),
            make_records(analysis="destinations", group="BLIN", variable="destination",
                         variable_level=[k for k in _FIRST_AFTER for _ in range(2)],
                         estimate_name=["count", "percentage"] * len(_FIRST_AFTER),
                         value=[v for n in _FIRST_AFTER.values() for v in (n, 100 * n / 326)]),
        ],
        ignore_index=True,
    )  # fmt: skip


def _blocks(paths: dict[str, int]):
    ctx = Context(ResultView(_records(paths)), ["BLIN"], 5, pathway_settings=_SETTINGS)
    section = pathways_section(ctx)
    assert section is not None
    return relabel_section(section).blocks


def test_car_t_is_named_beside_the_pathway_figures_with_its_count():
    blocks = _blocks(SEED001_BLIN)
    at = next(i for i, b in enumerate(blocks) if isinstance(b, Figure) and b.chart == "sankey")
    note = blocks[at - 1]
    assert isinstance(note, Text)
    assert note.paragraphs == (
        "CAR-T, the first therapy after the index treatment for 72 (22.1%) of the 326 persons "
        "of group BLIN, is in none of the pathways drawn or listed here (section “Therapy after "
        "the index treatment”): the pathway rules drop records shorter than 27 days once any "
        "person's treatments overlap (the minimum duration after a combination), as a one-day "
        "record (a CAR-T infusion, a single dose) always is (Methods).",
    )


def test_several_missing_therapies_share_one_sentence():
    paths = {p: n for p, n in SEED001_BLIN.items() if "chemotherapy" not in p}
    (note,) = (b for b in _blocks(paths) if isinstance(b, Text) and "none of the" in str(b))
    assert note.paragraphs[0].startswith(
        "CAR-T, the first therapy after the index treatment for 72 (22.1%) of the 326 persons "
        "of group BLIN, and chemotherapy, for 74 (22.7%), are in none of the pathways"
    )


def test_no_note_when_the_therapy_is_in_a_pathway():
    paths = {**SEED001_BLIN, "blinatumomab-car_t-hsct": 9}
    texts = [p for b in _blocks(paths) if isinstance(b, Text) for p in b.paragraphs]
    assert not any("CAR-T is the first therapy" in t for t in texts)


def test_a_setting_that_differs_between_groups_is_read_for_each():
    settings = {"min_post_combination_days": "14 (INO), 27 (BLIN), 0 (CAR-T)"}
    assert group_setting(settings, "min_post_combination_days", "INO") == 14
    assert group_setting(settings, "min_post_combination_days", "CAR-T") == 0
    assert group_setting(settings, "min_post_combination_days", "BLIN") == 27


def test_methods_state_the_minimum_durations_the_note_refers_to(spec, meta):
    from dataclasses import replace

    from allrwe.report.sections.methods import methods_section

    settings = {**_SETTINGS, "keep_names": ["blinatumomab"], "era_collapse_days": 30}
    section = methods_section(spec, replace(meta, pathway_settings=settings))
    text = " ".join(p for b in section.blocks if isinstance(b, Text) for p in b.paragraphs)
    assert (
        "Once any person's treatments overlapped, records shorter than 27 days (TreatmentPatterns' "
        "minimum duration after a combination) were dropped, except a group's own index "
        "treatment; so a one-day record such as a CAR-T infusion is in no pathway where that "
        "minimum is above 0."
    ) in text
    assert "Records lasting fewer than 0 days" not in text
