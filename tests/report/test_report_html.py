"""The HTML report: self-contained, suppressed values only, deterministic, audited clean."""

from __future__ import annotations

import re
from dataclasses import replace

from html_text import numbers_in, parse
from planted import MIN_CELL_COUNT, PLANTED

from allrwe.report import build_report, render_html, write_report
from allrwe.results import audit_outputs


def test_no_external_url_in_any_tag(results, spec, meta):
    html = render_html(build_report(results, spec, meta))
    tags = parse(html)
    external = [u for u in tags.urls if re.match(r"^\s*(https?:)?//", u[2], re.I)]
    assert external == []
    # the only URLs are the relative links to the static figures and the in-page anchors
    assert {u[0] for u in tags.urls} == {"a"}
    assert all(u[2].startswith(("#", "figures/")) for u in tags.urls)
    assert "<link" not in html
    assert "@import" not in html
    # url() only to in-page SVG patterns (the hatching of suppressed bars)
    assert re.findall(r"url\((?!#hatch-)", html) == []


def test_figures_are_inline_svg_without_any_script(results, spec, meta):
    doc = build_report(results, spec, meta)
    html = render_html(doc)
    assert "<script" not in html
    assert html.count("<svg") == len(doc.figures()) > 0
    assert len(html.encode()) < 1_500_000


def test_sections_are_marked_in_document_order(results, spec, meta):
    doc = build_report(results, spec, meta)
    tags = parse(render_html(doc))
    assert tags.sections == [sid for _, sid, _ in doc.outline()]


def test_planted_small_count_never_appears(results, spec, meta):
    html = render_html(build_report(results, spec, meta))
    text = " ".join(parse(html).text)
    assert re.search(rf"\b{PLANTED}\b", text) is None
    figures = build_report(results, spec, meta).figures()
    assert float(PLANTED) not in numbers_in([dict(f.data) for f in figures])
    # the published neighbours are there
    assert "251 (62.8%)" in text
    assert "300 (75.0%)" in text


def test_curve_data_stop_before_small_numbers_at_risk(results, spec, meta):
    doc = build_report(results, spec, meta)
    km = next(f for f in doc.figures() if f.id == "km-os")
    drawn = [c for c in km.data["curves"] if c["name"] == "BLIN"]
    assert len(drawn) == 1
    assert max(drawn[0]["x"]) < 213 / 30.4375
    assert 'aria-label="Overall survival' in render_html(doc)


def test_rendering_is_deterministic(results, spec, meta, tmp_path):
    first = write_report(results, spec, tmp_path / "a", meta=meta)
    second = write_report(results, spec, tmp_path / "b", meta=meta)
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        p.relative_to(tmp_path / "b") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_written_report_passes_the_audit(results, spec, meta, tmp_path):
    files = write_report(results, spec, tmp_path, meta=meta)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "report.html",
        "figures/cycles.png",
        "figures/cycles.svg",
        "figures/pathways-blin.png",
        "figures/pathways-blin.svg",
        "figures/km-os.png",
        "figures/km-os.svg",
    ]
    report = audit_outputs(tmp_path, min_cell_count=MIN_CELL_COUNT)
    assert report.ok, report.findings
    assert "report.html" in report.files


def test_element_ids_are_unique(results, spec, meta):
    html = render_html(build_report(results, spec, meta))
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) > 0


def test_control_characters_from_the_cdm_never_reach_the_html(results, spec):
    # issue 17: NUL bytes from cdm_source went raw into the page
    from allrwe.report import meta_from_results

    info = {"cdm_source_name": "Site\x00 A\x1b[31m\x7f", "cdm_version": "5.4\x00"}
    # the run puts the cdm_source row into the provenance, where the report reads it
    dirty = results.with_records(results.records, replace(results.provenance, cdm=info))
    html = render_html(build_report(dirty, spec, meta_from_results(dirty, spec)))
    assert re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", html) is None
    assert "Site A[31m" in html


def test_the_report_carries_no_run_date(results, spec, meta):
    # the time of the run is in provenance.json only (README); the report is the same each run
    html = render_html(build_report(results, spec, meta))
    assert "2024-05-06" not in html
    assert "in provenance.json" in html
