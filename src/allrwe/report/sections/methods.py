"""The methods section, written from the study spec (and the settings the run recorded)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from allrwe.report._blocks import policy_statement
from allrwe.report.labels import label
from allrwe.report.model import ReportMeta, Section, Text
from allrwe.spec import (
    DoseScheduleCycles,
    GapCycles,
    InfusionCycles,
    SingleCycles,
    StudySpec,
    Window,
)

__all__ = ["methods_section"]

_CONF_TYPES = {
    "log-log": "the log-log transformation (log(−log S))",
    "log": "the log transformation (log S)",
    "plain": "no transformation (plain, S ± z·SE)",
}


def _day(value: int | None, *, low: bool) -> str:
    if value is None:
        return "all history" if low else "the end of observation"
    return f"day {value:+d}" if value else "the index date"


def _window(window: Window) -> str:
    start, end = window
    return f"from {_day(start, low=True)} to {_day(end, low=False)}"


def _keys(keys: Iterable[str], conj: str = "and") -> str:
    """Write keys by their labels as a list in words: ``a, b and c``."""
    items = [label(k) for k in keys]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conj} {items[-1]}"


def _sets(keys: Iterable[str], name: str) -> str:
    """Write `` (concept sets)`` after ``name``, or nothing when they are named ``name``."""
    text = _keys(keys)
    return "" if text.lower() == name.lower() else f" ({text})"


def _classes(classes: Mapping[str, Iterable[str]]) -> str:
    """Write therapy classes by name, with their concept sets when these differ."""
    out = []
    for name, keys in classes.items():
        sets = _keys(keys)
        out.append(label(name) if sets == label(name) else f"{label(name)} ({sets})")
    return _keys(out)


def _cohort(spec: StudySpec) -> str:
    groups = "; ".join(f"{g}, {_keys(k, 'or')}" for g, k in spec.index_groups.items())
    period = spec.study_period
    entry = spec.entry
    first = (
        "the first exposure to the group's drug in the study period"
        if entry.first_exposure == "in_period"
        else "the first exposure ever, which had to fall in the study period (new users)"
    )
    multi = (
        "A person could enter every group whose drug they received."
        if entry.allow_multiple_groups
        else "A person entered only the group of their first index drug."
    )
    inc = spec.inclusion
    parts = [
        f"Index groups (group, index drug): {groups}. The index date was {first}, between "
        f"{period.start.isoformat()} and {period.end.isoformat()}. {multi}",
        f"Inclusion: an observation period holding the index date with at least "
        f"{inc.min_prior_observation_days} days before it",
    ]
    if inc.diagnosis is not None:
        parts[-1] += (
            f"; a diagnosis of {_keys(inc.diagnosis.concept_sets, 'or')} "
            f"{_window(inc.diagnosis.window)} relative to index"
        )
    if inc.age.min is not None or inc.age.max is not None:
        low = f"{inc.age.min:g}" if inc.age.min is not None else "any"
        high = f"{inc.age.max:g}" if inc.age.max is not None else "any"
        parts[-1] += f"; age at index from {low} to {high} years"
    parts[-1] += "."
    for exc in inc.exclusions:
        name = exc.name or _keys(exc.concept_sets)
        parts.append(
            f"Exclusion ({label(name)}): a record of {_keys(exc.concept_sets, 'or')} "
            f"{_window(exc.window)}."
        )
    return " ".join(parts)


def _classification(spec: StudySpec) -> str:
    c, s = spec.classification, spec.setting
    look = "all history" if c.lookback_days is None else f"the {c.lookback_days} days before"
    line = f", or a line of therapy at index of {c.rr_min_line} or more" if c.rr_min_line else ""
    salvage = (
        f", or a drug of a salvage regimen ({_keys(c.rr_salvage, 'or')}) before it (the "
        "convention for data, such as claims, that code no relapse)"
        if c.rr_salvage
        else ""
    )
    return (
        "Patients were classified as relapsed/refractory (R/R) when they had a record of "
        f"{_keys(c.rr_evidence, 'or')} on or before the index date (searching {look}) or had "
        f"received {_keys(c.rr_prior_therapy, 'or')} before it{salvage}{line}, and as newly "
        "diagnosed (ND) otherwise. The treatment setting was consolidation when remission "
        f"({_keys(s.remission_evidence, 'or')}) or MRD testing ({_keys(s.mrd_evidence, 'or')}) "
        f"was recorded {_window(s.window)}, and induction (ND) or re-induction (R/R) otherwise."
    )


def _cycle_rule(key: str, rule: Any) -> str:
    key = label(key)
    if isinstance(rule, InfusionCycles):
        return (
            f"{key}: continuous infusion, bags joined; an interruption of up to "
            f"{rule.max_interruption_days} untreated days continues a cycle"
        )
    if isinstance(rule, DoseScheduleCycles):
        return (
            f"{key}: day-1/8/15 schedule, at most {rule.max_doses} doses per cycle, a new "
            f"cycle after {rule.min_cycle_days} days"
        )
    if isinstance(rule, GapCycles):
        return f"{key}: a break of more than {rule.max_interruption_days} days starts a cycle"
    if isinstance(rule, SingleCycles):
        return f"{key}: every administration day is one cycle"
    return key


def _min_durations(settings: Mapping[str, Any]) -> str:
    """Say which short records the pathway rules drop (a one-day CAR-T infusion among them)."""
    era, post = settings.get("min_era_days"), settings.get("min_post_combination_days")
    out = "" if era in (None, 0, "0") else f" Records lasting fewer than {era} days were dropped."
    if post in (None, 0, "0"):
        return out
    kept = ", except a group's own index treatment" if settings.get("keep_names") else ""
    return (
        f"{out} Once any person's treatments overlapped, records shorter than {post} days "
        f"(TreatmentPatterns' minimum duration after a combination) were dropped{kept}; so a "
        "one-day record such as a CAR-T infusion is in no pathway where that minimum is above 0."
    )


def _patterns(spec: StudySpec, pathway_settings: Mapping[str, Any]) -> list[str]:
    p = spec.patterns
    lines = p.lines
    end = "its first era" if p.index_treatment_end == "era" else "its line of therapy"
    prior = spec.windows.prior_lookback_days
    sub = spec.windows.subsequent_followup_days
    cycles = "; ".join(_cycle_rule(k, r) for k, r in p.cycles.items())
    prior_text = "all history" if prior is None else f"{prior} days"
    sub_text = "to the end of observation" if sub is None else f"within {sub} days"
    relapse = "a relapse starts" if lines.relapse_starts_line else "a relapse does not start"
    out = [
        f"The index treatment was the index drug's records from the index date forming {end} "
        f"(records {p.era_gap_days} days apart or less joined). Treatment duration was counted "
        "from the first to the last treated day, both included (last − first + 1 days). "
        f"Cycles: {cycles}. Prior therapy was any record before the index date ({prior_text}); "
        f"subsequent therapy any record after the index treatment ({sub_text}). Therapies were "
        f"grouped into classes: {_classes(p.therapy_classes)}.",
        f"Lines of therapy: drugs starting within {lines.regimen_window_days} days of a line's "
        f"start form its regimen; a gap of more than {lines.gap_days} days without treatment "
        f"(except {_keys(lines.gap_exempt)}) or a new drug other than "
        f"{_keys(lines.allowed_additions, 'or')} starts a new line; "
        f"{_keys(lines.line_defining, 'or')} always starts one (lymphodepletion with "
        f"{_keys(lines.lymphodepletion)} up to "
        f"{lines.lymphodepletion_days} days before belongs to it); "
        f"{relapse} a new line.",
    ]
    if pathway_settings:
        s = pathway_settings
        out.append(
            "Treatment pathways followed TreatmentPatterns: events of each therapy class from the "
            "index date to the end of observation, eras of one class "
            f"{s.get('era_collapse_days')} days apart or less collapsed, overlaps of at least "
            f"{s.get('combination_window_days')} "
            f"days forming combinations, filter “{s.get('filter')}”, at most "
            f"{s.get('max_path_length')} steps; {_keys(s.get('exit_names', ()), 'or')} ended a "
            f"pathway (exit events).{_min_durations(s)}"
        )
    return out


def _outcomes(spec: StudySpec) -> list[str]:
    o, r = spec.outcomes, spec.outcomes.response
    level = f"{100 * o.conf_level:g}%"
    variants = "; ".join(
        f"“{label(k)}”: the first {_keys(v, 'or')}" for k, v in o.censor_variants.items() if v
    )
    return [
        f"Response: CR with ≤{r.marrow_blasts_max_pct:g}% bone-marrow blasts, ANC >{r.anc_full:g} "
        f"and platelets >{r.platelets_full:g} (10⁹/L); CRh with ANC >{r.anc_partial:g} and "
        f"platelets >{r.platelets_partial:g}; CRi with blasts ≤{r.marrow_blasts_max_pct:g}% "
        f"otherwise. Response within {o.response_within_cycles} cycles is also reported. MRD "
        f"negativity: below {o.mrd_threshold_pct:g}%. Rates have exact (Clopper–Pearson) "
        f"{level} confidence intervals.",
        "Time-to-event endpoints start at the index date (RFS and duration of response at the "
        "first CR/CRh/CRi): OS ends at death; EFS at relapse, refractory disease or death, with no "
        f"CR/CRh/CRi within {o.efs_no_cr_window_days} days counted as an event on day 1; RFS at "
        "relapse or death; duration of response at relapse, progression or death. Follow-up is "
        "censored at the end of the observation period holding the index date"
        + (
            f"; sensitivity analyses additionally censor at a later therapy ({variants})."
            if variants
            else "."
        ),
        "Survival curves are Kaplan–Meier estimates with Greenwood variances and pointwise "
        f"{level} confidence intervals on {_CONF_TYPES[o.conf_type]}; medians and their "
        "intervals follow Brookmeyer and Crowley (inverting the pointwise band, as R's "
        "quantile.survfit); landmark rates are read at "
        f"{_keys(f'{m:g}' for m in o.landmarks_months)} months. "
        "Groups and strata are compared with the log-rank test and, for two levels, a Cox model "
        "(Efron ties). Competing risks use the Aalen–Johansen estimator and Gray's test.",
    ]


def _unrecorded(meta: ReportMeta) -> list[str]:
    """Return the convention for facts the CDM does not capture, naming the sets."""
    if not meta.unrecorded_sets:
        return []
    return [
        f"The CDM holds no record, for anyone, of the concept sets {_keys(meta.unrecorded_sets)}: "
        "the data source is taken not to capture these facts, and every result that needs "
        "them is reported as not available rather than as 0 %."
    ]


def _conventions(spec: StudySpec, meta: ReportMeta) -> list[str]:
    s = spec.safety
    m = meta.min_cell_count
    return [
        f"Adverse events{_sets(s.adverse_events, 'adverse events')} were counted from the index "
        f"date to {s.treatment_window_days} days after the end of the index treatment, by worst "
        f"grade; grade {s.severe_grade} or higher counts as severe. AEs of special interest"
        f"{_sets(s.special_interest, 'AEs of special interest')} are reported separately.",
        "The data follow the OMOP CDM v5.4 conventions of allrwe (docs/cdm-conventions.md): "
        "drugs in drug_exposure, transplant and CAR-T infusion in procedure_occurrence, labs in "
        "measurement, disease status as conditions, adverse events as conditions (or "
        "observations) with the grade from the ICD-10-CM code or a recorded value, follow-up "
        "from observation_period. Times to events are counted in days "
        "from their start date (event date − start date) and shown in months of 30.4375 days.",
        *_unrecorded(meta),
        f"Small cells: {policy_statement(meta.suppression, m)} Every statistic linked to a "
        "hidden count is hidden with it; zero is shown. Suppression is applied once to all "
        "results before the report and the exports are written, and the output folder is "
        "audited for small counts and "
        "person identifiers.",
    ]


def methods_section(spec: StudySpec, meta: ReportMeta) -> Section:
    """Return the methods section, one paragraph per topic, generated from ``spec``."""
    paragraphs = (
        f"Retrospective cohort study in {meta.data_source} (OMOP CDM), analysed with allrwe "
        f"{meta.allrwe_version} from the study specification {meta.study_name} (SHA-256 "
        f"{meta.spec_hash[:12]}…).",
        _cohort(spec),
        _classification(spec),
        *_patterns(spec, meta.pathway_settings),
        *_outcomes(spec),
        *_conventions(spec, meta),
    )
    return Section("methods", "Methods", (Text(tuple(paragraphs)),))
