"""Profile parameters of the synthetic CDM: typed models, bundled profiles, user overrides.

A profile is a YAML file (``allrwe/data/synth/<name>.yaml``) whose every field is documented
there. A user copies one, edits it, and passes it as ``--params``; the file may also hold only
the fields to change, which are merged over the named profile (mappings merge key by key,
everything else replaces).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from allrwe.errors import UsageError

__all__ = [
    "INDEX_DRUGS",
    "PROFILES",
    "SETTINGS",
    "SUBSEQUENT_CLASSES",
    "AgeModel",
    "IndexDrugParams",
    "SynthParams",
    "load_params",
    "merge_params",
    "read_params_file",
]

#: bundled profiles
PROFILES = ("claims", "emr", "ohdsi")
#: novel agents that can open a patient's index treatment, by concept-set key
INDEX_DRUGS = ("blinatumomab", "inotuzumab_ozogamicin")
#: classes of the first therapy after the index drug, in the order of the code used internally
SUBSEQUENT_CLASSES = ("none", "hsct", "car_t", "chemotherapy", "other_novel")
#: longest history (diagnosis to index) the timeline model can produce, in days
MAX_HISTORY_DAYS = 3650
#: the index treatment must end before the data end; the last index date leaves this margin
MIN_FOLLOW_UP_DAYS = 365

Setting = Literal["ND", "RR"]
#: settings in the order of their codes (0 newly diagnosed, 1 relapsed/refractory)
SETTINGS: tuple[Setting, Setting] = ("ND", "RR")
_AE_TERMS = (
    "crs",
    "icans",
    "vod_sos",
    "infection",
    "neutropenia",
    "liver_enzyme_increase",
    "infusion_reaction",
    "neurotoxicity",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _probability(value: float, what: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be a probability in [0, 1], got {value}")


def _distribution(values: Mapping[Any, float] | list[float], what: str) -> None:
    items = values.values() if isinstance(values, Mapping) else values
    total = 0.0
    for v in items:
        _probability(v, what)
        total += v
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} must sum to 1, got {total:.6f}")


class AgeModel(_Model):
    """A normal age distribution truncated to [min, max] (years)."""

    mean: float
    sd: float = Field(gt=0)
    min: float = Field(ge=0)
    max: float = Field(le=110)


class CalendarParams(_Model):
    """Dates that frame the database."""

    database_start: date
    data_end: date
    index_start: date
    index_end: date

    @model_validator(mode="after")
    def _order(self) -> CalendarParams:
        if (self.index_start - self.database_start).days < MAX_HISTORY_DAYS:
            raise ValueError(
                f"calendar.index_start must be at least {MAX_HISTORY_DAYS} days after "
                "calendar.database_start so that every treatment history fits"
            )
        if self.index_end < self.index_start:
            raise ValueError("calendar.index_end is before calendar.index_start")
        if (self.data_end - self.index_end).days < MIN_FOLLOW_UP_DAYS:
            raise ValueError(
                f"calendar.data_end must be at least {MIN_FOLLOW_UP_DAYS} days after "
                "calendar.index_end so that every index treatment is complete"
            )
        return self


class PopulationParams(_Model):
    """The whole population: size of the ALL share, background demographics and follow-up."""

    all_prevalence: float
    all_patients: int | None = Field(default=None, ge=0)
    male_share: float
    age: AgeModel
    observation_years: tuple[float, float]
    death_share: float

    @model_validator(mode="after")
    def _check(self) -> PopulationParams:
        _probability(self.all_prevalence, "population.all_prevalence")
        _probability(self.male_share, "population.male_share")
        _probability(self.death_share, "population.death_share")
        low, high = self.observation_years
        if not 0 < low <= high:
            raise ValueError("population.observation_years must be 0 < min <= max")
        return self


class RecordingParams(_Model):
    """What the data source records, and how completely."""

    data_type: Literal["claims", "emr"]
    death_capture: float
    disease_status_capture: float
    ph_status: bool
    genetics: bool
    cns: bool
    labs: bool
    adverse_events: bool
    cart_product_coded: float
    diagnosis_source_vocabulary: str
    diagnosis_repeat_days: int = Field(ge=0)
    lookback_days: tuple[int, int]
    etl: Literal["allrwe", "ohdsi"] = "allrwe"
    missing_weight: float = 0.0
    missing_drug_end: float = 0.0
    ungraded_code: float = 0.0

    @model_validator(mode="after")
    def _check(self) -> RecordingParams:
        _probability(self.death_capture, "recording.death_capture")
        _probability(self.missing_weight, "recording.missing_weight")
        _probability(self.missing_drug_end, "recording.missing_drug_end")
        _probability(self.ungraded_code, "recording.ungraded_code")
        _probability(self.disease_status_capture, "recording.disease_status_capture")
        _probability(self.cart_product_coded, "recording.cart_product_coded")
        if not 0 <= self.lookback_days[0] <= self.lookback_days[1]:
            raise ValueError("recording.lookback_days must be 0 <= min <= max")
        return self


class BackgroundParams(_Model):
    """Care of persons without ALL (and the unrelated care of ALL patients)."""

    visits_per_year: float = Field(ge=0)
    visit_rate_shape: float = Field(gt=0)
    inpatient_share: float
    inpatient_days: tuple[int, int]
    conditions_per_visit: float = Field(ge=0)
    drugs_per_visit: float = Field(ge=0)
    procedures_per_visit: float = Field(ge=0)
    measurements_per_visit: float = Field(ge=0)
    observations_per_visit: float = Field(ge=0)
    lab_share: float
    personal_conditions: int = Field(ge=1, le=50)
    personal_drugs: int = Field(ge=1, le=50)

    @model_validator(mode="after")
    def _check(self) -> BackgroundParams:
        _probability(self.inpatient_share, "background.inpatient_share")
        _probability(self.lab_share, "background.lab_share")
        if not 1 <= self.inpatient_days[0] <= self.inpatient_days[1]:
            raise ValueError("background.inpatient_days must be 1 <= min <= max")
        return self


class HistoryParams(_Model):
    """Treatment before the index drug (and the whole course of ALL patients without one)."""

    frontline_hcvad_share: float
    hcvad_courses: tuple[int, int]
    maintenance_months: tuple[int, int]
    primary_refractory: float
    salvage_refractory: float
    salvage_courses: tuple[int, int]
    first_remission_median_days: float = Field(gt=0)
    later_remission_median_days: float = Field(gt=0)
    prior_hsct: float
    prior_cart: float
    tki_first_line: dict[str, float]
    tki_later_line: dict[str, float]

    @model_validator(mode="after")
    def _check(self) -> HistoryParams:
        for name in ("frontline_hcvad_share", "primary_refractory", "salvage_refractory"):
            _probability(getattr(self, name), f"history.{name}")
        _probability(self.prior_hsct, "history.prior_hsct")
        _probability(self.prior_cart, "history.prior_cart")
        _distribution(self.tki_first_line, "history.tki_first_line")
        _distribution(self.tki_later_line, "history.tki_later_line")
        for name in ("hcvad_courses", "maintenance_months", "salvage_courses"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"history.{name} must be 1 <= min <= max")
        if self.hcvad_courses[1] > 8:
            raise ValueError("history.hcvad_courses: hyper-CVAD has at most 8 courses")
        return self


class NonNovelParams(_Model):
    """ALL patients who never receive blinatumomab or inotuzumab."""

    lines: list[float]
    cure: float
    death_median_days: float = Field(gt=0)

    @model_validator(mode="after")
    def _check(self) -> NonNovelParams:
        if not 1 <= len(self.lines) <= 4:
            raise ValueError("non_novel.lines gives P(1 line) ... P(at most 4 lines)")
        _distribution(self.lines, "non_novel.lines")
        _probability(self.cure, "non_novel.cure")
        return self


class PatientParams(_Model):
    """Who the ALL patients are."""

    novel_agent_share: float
    t_lineage_share: float
    male_share: float
    age: AgeModel
    ph_positive: dict[Setting, float]
    index_drug_mix: dict[str, float]
    genetics: dict[str, float]
    cns_involvement: float
    chemo_intolerance: float = 0.0

    @model_validator(mode="after")
    def _check(self) -> PatientParams:
        for name in (
            "novel_agent_share",
            "t_lineage_share",
            "male_share",
            "cns_involvement",
            "chemo_intolerance",
        ):
            _probability(getattr(self, name), f"patients.{name}")
        if set(self.ph_positive) != {"ND", "RR"}:
            raise ValueError("patients.ph_positive needs keys ND and RR")
        for k, v in self.ph_positive.items():
            _probability(v, f"patients.ph_positive.{k}")
        unknown = set(self.index_drug_mix) - set(INDEX_DRUGS)
        if unknown:
            raise ValueError(f"patients.index_drug_mix: unknown drug(s) {sorted(unknown)}")
        _distribution(self.index_drug_mix, "patients.index_drug_mix")
        if sum(self.genetics.values()) > 1.0 + 1e-9:
            raise ValueError("patients.genetics probabilities must sum to at most 1")
        for gene, p in self.genetics.items():
            _probability(p, f"patients.genetics.{gene}")
        return self


class MrdParams(_Model):
    """Flow-cytometry MRD during the index treatment (responders only)."""

    measured: float
    negative: dict[str, float]
    first_cycle: float
    late_if_three_plus: float

    @model_validator(mode="after")
    def _check(self) -> MrdParams:
        strata = {"ND_induction", "ND_consolidation", "RR_reinduction", "RR_consolidation"}
        if set(self.negative) != strata:
            raise ValueError(f"mrd.negative needs keys {sorted(strata)}")
        for k, v in self.negative.items():
            _probability(v, f"mrd.negative.{k}")
        for name in ("measured", "first_cycle", "late_if_three_plus"):
            _probability(getattr(self, name), f"mrd.{name}")
        return self


class SubsequentSetting(_Model):
    """First and second therapy after the index drug, for one setting (ND or R/R)."""

    first: dict[str, float]
    second_after: dict[str, dict[str, float]]

    @model_validator(mode="after")
    def _check(self) -> SubsequentSetting:
        if set(self.first) != set(SUBSEQUENT_CLASSES):
            raise ValueError(f"subsequent.first needs keys {list(SUBSEQUENT_CLASSES)}")
        _distribution(self.first, "subsequent.first")
        for after, options in self.second_after.items():
            if after not in SUBSEQUENT_CLASSES or after == "none":
                raise ValueError(f"subsequent.second_after: unknown class {after!r}")
            bad = set(options) - (set(SUBSEQUENT_CLASSES) - {"none", after})
            if bad:
                raise ValueError(f"subsequent.second_after.{after}: invalid class(es) {bad}")
            if sum(options.values()) > 1.0 + 1e-9:
                raise ValueError(f"subsequent.second_after.{after} must sum to at most 1")
        return self


class SurvivalSetting(_Model):
    """Relapse and death after the index drug, for one setting (ND or R/R)."""

    relapse: float
    relapse_median_days: float = Field(gt=0)
    hsct_relapse_factor: float = Field(ge=0)
    cart_relapse_factor: float = Field(ge=0)
    death_after_relapse: float
    death_after_relapse_median_days: float = Field(gt=0)
    refractory_death_median_days: float = Field(gt=0)
    salvage_success: dict[str, float]
    treatment_related_death: dict[str, float]

    @model_validator(mode="after")
    def _check(self) -> SurvivalSetting:
        _probability(self.relapse, "survival.relapse")
        _probability(self.death_after_relapse, "survival.death_after_relapse")
        if set(self.salvage_success) != set(SUBSEQUENT_CLASSES) - {"none"}:
            raise ValueError(
                "survival.salvage_success needs hsct, car_t, chemotherapy, other_novel"
            )
        if set(self.treatment_related_death) != {"hsct", "car_t"}:
            raise ValueError("survival.treatment_related_death needs keys hsct and car_t")
        for k, v in {**self.salvage_success, **self.treatment_related_death}.items():
            _probability(v, f"survival.{k}")
        return self


class IndexDrugParams(_Model):
    """Everything about patients whose first novel agent is one drug."""

    prior_lines: list[float]
    nd_in_cr: float
    nd_prephase: float
    rr_in_cr: float
    response: dict[Setting, float]
    response_split: dict[Literal["CR", "CRh", "CRi"], float]
    response_first_cycle: float
    cycles: list[float]
    non_responder_max_cycles: int = Field(ge=1)
    early_stop: dict[Literal["responder", "non_responder"], float]
    interruption: float
    cycle1_extended: float
    cycle_delay: float
    mrd: MrdParams
    subsequent: dict[Setting, SubsequentSetting]
    survival: dict[Setting, SurvivalSetting]

    @model_validator(mode="after")
    def _check(self) -> IndexDrugParams:
        if len(self.prior_lines) != 4:
            raise ValueError("prior_lines gives P(0), P(1), P(2), P(3 or more)")
        _distribution(self.prior_lines, "prior_lines")
        _distribution(self.cycles, "cycles")
        _distribution(self.response_split, "response_split")
        for name in ("nd_in_cr", "nd_prephase", "rr_in_cr", "response_first_cycle"):
            _probability(getattr(self, name), name)
        for name in ("interruption", "cycle1_extended", "cycle_delay"):
            _probability(getattr(self, name), name)
        if set(self.response) != {"ND", "RR"} or set(self.early_stop) != {
            "responder",
            "non_responder",
        }:
            raise ValueError("response needs keys ND, RR; early_stop responder, non_responder")
        if set(self.subsequent) != {"ND", "RR"} or set(self.survival) != {"ND", "RR"}:
            raise ValueError("subsequent and survival need keys ND and RR")
        if self.non_responder_max_cycles > len(self.cycles):
            raise ValueError("non_responder_max_cycles exceeds the longest course in cycles")
        reach = sum(self.cycles[: self.non_responder_max_cycles])
        for setting, p in self.response.items():
            if 1.0 - p > reach + 1e-9:
                raise ValueError(
                    f"response.{setting}: non-response {1 - p:.3f} exceeds the share of patients "
                    f"with at most non_responder_max_cycles cycles ({reach:.3f})"
                )
        return self


class AdverseEventParams(_Model):
    """Chance of one adverse-event term in one treatment context, and of grade 3 or worse."""

    probability: float
    grade3plus: float

    @model_validator(mode="after")
    def _check(self) -> AdverseEventParams:
        _probability(self.probability, "adverse_events probability")
        _probability(self.grade3plus, "adverse_events grade3plus")
        return self


class SynthParams(_Model):
    """All parameters of one synthetic CDM profile."""

    name: str
    description: str = ""
    calendar: CalendarParams
    population: PopulationParams
    recording: RecordingParams
    background: BackgroundParams
    patients: PatientParams
    history: HistoryParams
    non_novel: NonNovelParams
    index_drugs: dict[str, IndexDrugParams]
    adverse_events: dict[str, dict[str, AdverseEventParams]]
    vod_after_inotuzumab_factor: float = Field(ge=0)

    @model_validator(mode="after")
    def _check(self) -> SynthParams:
        for drug, share in self.patients.index_drug_mix.items():
            if share > 0 and drug not in self.index_drugs:
                raise ValueError(f"index_drugs has no parameters for {drug!r}")
        contexts = {"blinatumomab", "inotuzumab_ozogamicin", "car_t", "hsct"}
        bad = set(self.adverse_events) - contexts
        if bad:
            raise ValueError(f"adverse_events: unknown context(s) {sorted(bad)}")
        for ctx, terms in self.adverse_events.items():
            unknown = set(terms) - set(_AE_TERMS)
            if unknown:
                raise ValueError(f"adverse_events.{ctx}: unknown term(s) {sorted(unknown)}")
        return self


def merge_params(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` over ``base``: mappings key by key, anything else replaces.

    Examples
    --------
    >>> merge_params({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    {'a': {'b': 1, 'c': 3}}
    """
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_params(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML parameter file into a mapping.

    Raises
    ------
    UsageError
        The file is missing, not YAML, or not a mapping.
    """
    return _read_yaml(Path(path))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"parameter file {str(path)!r} does not exist") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"parameter file {str(path)!r} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"parameter file {str(path)!r} must hold a mapping")
    return data


def profile_text(profile: str) -> str:
    """Return the text of a bundled profile YAML (``claims`` or ``emr``).

    Raises
    ------
    UsageError
        If ``profile`` is not a bundled profile.
    """
    if profile not in PROFILES:
        raise UsageError(f"unknown synthetic profile {profile!r}: use one of {', '.join(PROFILES)}")
    return resources.files("allrwe.data").joinpath(f"synth/{profile}.yaml").read_text("utf-8")


def load_params(
    profile: str = "claims", params: str | Path | Mapping[str, Any] | None = None
) -> SynthParams:
    """Load a bundled profile and merge user parameters over it.

    Parameters
    ----------
    profile : {"claims", "emr"}
        The bundled profile to start from.
    params : path or mapping, optional
        A YAML file or a mapping with the fields to change (a complete copy of a profile works
        too); mappings merge key by key.

    Returns
    -------
    SynthParams
        The validated parameters.

    Raises
    ------
    UsageError
        Unknown profile, unreadable file, or a field that fails validation (the message names
        the field).

    Examples
    --------
    >>> p = load_params("emr", {"population": {"all_patients": 50}})
    >>> p.population.all_patients
    50
    """
    data = yaml.safe_load(profile_text(profile))
    if params is not None:
        override = params if isinstance(params, Mapping) else _read_yaml(Path(params))
        data = merge_params(data, override)
    try:
        return SynthParams.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise UsageError(f"synthetic-data parameters: field {where!r}: {err['msg']}") from None
