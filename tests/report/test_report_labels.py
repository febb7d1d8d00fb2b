"""Words for people: keys in the records and the spec are shown by their labels."""

from __future__ import annotations

import re

from html_text import parse

from allrwe.report import build_report, render_html
from allrwe.report.labels import label, relabel_text


def test_keys_read_as_a_journal_writes_them():
    assert label("kmt2a_rearranged") == "KMT2A-rearranged"
    assert label("tcf3_pbx1") == "TCF3-PBX1"
    assert label("car_t") == "CAR-T"
    assert label("other_novel_agent") == "other novel agent"
    assert label("vod sos") == "VOD/SOS"
    assert label("any ae") == "any AE"
    assert label("some_new_key") == "some new key"


def test_keys_are_replaced_as_words_only():
    assert relabel_text("censored at allo_hsct or car_t") == "censored at allogeneic HSCT or CAR-T"
    # inside a longer key, a file name or a hyphenated pathway the key is left alone
    assert relabel_text("car_t_infusion") == "CAR-T infusion"
    assert relabel_text("figures/km_os.png") == "figures/km_os.png"
    assert relabel_text("blinatumomab-car_t") == "blinatumomab-car_t"
    assert relabel_text("ph_status = Ph+") == "Ph status = Ph+"


def test_no_snake_case_key_is_left_in_the_report_text(results, spec, meta):
    text = " ".join(parse(render_html(build_report(results, spec, meta))).text)
    # identifiers named as such: the study and the OMOP tables
    for name in (meta.study_name, "drug_exposure", "procedure_occurrence", "observation_period"):
        text = text.replace(name, "")
    left = set(re.findall(r"(?<![\w/.-])[a-z]+(?:_[a-z0-9]+)+(?![\w/.-])", text))
    assert left == set()


def test_signs_and_strata_of_the_examples_read_as_a_journal_writes_them():
    assert relabel_text(">=55") == "≥55"
    assert relabel_text("positive (>=0.01%)") == "positive (≥0.01%)"
    assert relabel_text("<=14 days") == "≤14 days"
    # "<35" has no sign to rewrite; seed 004's strata get their abbreviations
    assert relabel_text("<35") == "<35"
    assert relabel_text("post_hct_relapse &&& gvhd_at_index") == "post-HCT relapse × GVHD at index"


def test_no_ascii_comparison_sign_is_left_in_the_report_text(results, spec, meta):
    text = " ".join(parse(render_html(build_report(results, spec, meta))).text)
    # the Methods paragraph and the notes are written by hand, with their own signs
    assert re.findall(r"[<>]=", text) == []


def test_stratum_names_and_levels_read_as_words():
    from allrwe.report._blocks import level_words, stratum_words

    assert level_words("line &&& treatment_setting", "2 &&& re-induction") == (
        "line 2: re-induction"
    )
    assert level_words("line_at_index", "3") == "line 3"
    assert level_words("setting &&& treatment_setting", "ND &&& induction") == "ND: induction"
    assert stratum_words("age_band", ">=55") == "age band: ≥55"
    assert stratum_words("line", "4") == "line: 4"
    assert stratum_words("ph_status &&& setting", "Ph+ &&& RR") == "Ph status × setting: Ph+ × RR"


def test_table_one_by_stratum_is_captioned_in_words_and_headed_with_its_size():
    import pandas as pd

    from allrwe.report._blocks import Context
    from allrwe.report._view import ResultView
    from allrwe.report.model import Details
    from allrwe.report.structure import baseline_section
    from allrwe.results import make_records

    parts = [
        make_records(analysis="cohort", group="BLIN", variable="persons", estimate_name="count",
                     value=199),
        make_records(analysis="baseline", group="BLIN", variable="persons",
                     estimate_name="count", value=199),
    ]  # fmt: skip
    for level, n in ((">=55", 11.0), ("<35", 98.0)):
        rec = make_records(analysis="baseline", group="BLIN", strata_name="age_band",
                           strata_level=level, variable="persons", estimate_name="count",
                           value=n)  # fmt: skip
        rec["suppressed"] = level == ">=55"
        parts.append(rec)
    ctx = Context(ResultView(pd.concat(parts, ignore_index=True)), ["BLIN"], 5)
    section = baseline_section(ctx)
    (details,) = (b for b in section.blocks if isinstance(b, Details))
    assert details.summary == "Table 1 by age_band"  # relabelled with the section
    assert [(t.caption, t.header[1]) for t in details.blocks] == [
        ("Table 1 by age band: <35", "BLIN (n = 98)"),
        ("Table 1 by age band: ≥55", "BLIN (n not shown)"),
    ]


def test_a_static_figures_footnote_is_in_words_for_people():
    from allrwe.report.labels import relabel_section
    from allrwe.report.model import Figure, Section

    data = {"title": "EFS by setting", "curves": [], "footnote": "Still at risk: RR, 11."}
    section = relabel_section(Section("s", "S", (Figure("f", "c", "km", data),)))
    (figure,) = section.blocks
    assert isinstance(figure, Figure)
    assert figure.data["footnote"] == "Still at risk: R/R, 11."
