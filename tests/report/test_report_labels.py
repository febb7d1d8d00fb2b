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
