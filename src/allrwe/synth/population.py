"""The population: who has ALL, and everyone's demographics, follow-up and unrelated care.

Background care draws its concepts from the local pool (Zipf-like popularity; each person has
a few chronic conditions and regular drugs), so studies must find a rare cohort in large tables.
Every record lies inside its person's observation period.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from allrwe.synth.concepts import (
    CAUSE_OTHER,
    EMERGENCY,
    FEMALE,
    INPATIENT,
    MALE,
    OUTPATIENT,
    Concepts,
    Pool,
)
from allrwe.synth.frames import Tables, epoch_day
from allrwe.synth.params import SynthParams
from allrwe.synth.patients import truncated_normal
from allrwe.synth.records import TypeConcepts, year_of
from allrwe.synth.rng import DOMAIN_BACKGROUND, DOMAIN_SELECT, RNG_BLOCK, Draws

__all__ = ["background_rows", "select_all_patients"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SUPPLY_DAYS = np.array([1, 7, 14, 28, 30, 60, 90], dtype=np.int64)
_SUPPLY_P = [0.1, 0.2, 0.15, 0.2, 0.15, 0.1, 0.1]
#: normal ranges of the vocabulary's blood counts for background labs (mean, sd, min)
_NORMAL_LABS = {
    "anc": (3.8, 1.3, 0.8),
    "platelets": (250.0, 60.0, 60.0),
    "wbc": (7.0, 2.0, 2.0),
    "hemoglobin": (138.0, 15.0, 80.0),
}


def select_all_patients(
    seed: int, pid: IntArray, *, persons: int, params: SynthParams
) -> BoolArray:
    """Which of the persons ``pid`` have ALL.

    With ``population.all_patients`` set, exactly that many persons, spread evenly over the id
    range; otherwise each person independently with probability ``all_prevalence``.
    """
    count = params.population.all_patients
    if count is not None:
        m = count
        if m == 0:
            return np.zeros(pid.size, dtype=bool)
        i = -(-(pid - 1) * m // persons)
        return (i < m) & (i * persons // m + 1 == pid)
    draws = Draws(seed, DOMAIN_SELECT, (pid - 1) // RNG_BLOCK)
    return draws.uniform() < params.population.all_prevalence


def _pick(draws: Draws, pool: Pool, owner: IntArray) -> IntArray:
    return pool.pick(draws.uniform(owner=owner))


def _personal(draws: Draws, pool: Pool, n: int, k: int, owner: IntArray) -> IntArray:
    """Record concepts: mostly from each person's own ``k`` concepts, sometimes any."""
    own = _pick(draws, pool, np.repeat(np.arange(n), k)).reshape(n, k)
    which = draws.integers(0, k - 1, owner=owner)
    anyone = _pick(draws, pool, owner)
    return np.where(draws.bernoulli(0.8, owner=owner), own[owner, which], anyone)


def _records_per_visit(draws: Draws, lam: float, v_owner: IntArray) -> IntArray:
    counts = draws.poisson(np.full(v_owner.size, lam), owner=v_owner)
    return np.repeat(np.arange(v_owner.size), counts)


def background_rows(
    seed: int,
    pid: IntArray,
    is_all: BoolArray,
    all_start: IntArray,
    all_end: IntArray,
    *,
    params: SynthParams,
    concepts: Concepts,
    types: TypeConcepts,
    tables: Tables,
) -> None:
    """Append persons without ALL (person, observation period, death) and everyone's care.

    Parameters
    ----------
    seed : int
        The run's seed.
    pid : numpy.ndarray
        The chunk's person ids, sorted.
    is_all : numpy.ndarray
        Whether each person has ALL.
    all_start, all_end : numpy.ndarray
        Observation periods of the ALL patients (in ``pid`` order among ``is_all``).
    params, concepts, types, tables
        Profile, concept ids, type concepts and the chunk's row buffers.
    """
    draws = Draws(seed, DOMAIN_BACKGROUND, (pid - 1) // RNG_BLOCK)
    pop = params.population
    male = draws.bernoulli(pop.male_share)
    age = truncated_normal(draws, pop.age)
    years = draws.uniform(*pop.observation_years)
    start_u = draws.uniform()
    dies = draws.bernoulli(pop.death_share) & draws.bernoulli(params.recording.death_capture)
    first = epoch_day(params.calendar.database_start)
    last = epoch_day(params.calendar.data_end)
    span = last - first + 1
    length = np.minimum(np.maximum(np.round(years * 365.25), 1), span).astype(np.int64)
    start = first + np.floor(start_u * (span - length + 1)).astype(np.int64)
    obs_start, obs_end = start.copy(), start + length - 1
    obs_start[is_all], obs_end[is_all] = all_start, all_end
    other = ~is_all
    tables["person"].add(
        person_id=pid[other],
        gender_concept_id=np.where(male, MALE, FEMALE)[other],
        year_of_birth=(year_of(obs_start) - np.floor(age).astype(np.int64))[other],
        race_concept_id=0,
        ethnicity_concept_id=0,
    )
    tables["observation_period"].add(
        person_id=pid[other],
        observation_period_start_date=obs_start[other],
        observation_period_end_date=obs_end[other],
        period_type_concept_id=types.record,
    )
    dead = other & dies
    tables["death"].add(
        person_id=pid[dead],
        death_date=obs_end[dead],
        death_type_concept_id=types.record,
        cause_concept_id=CAUSE_OTHER,
    )
    _care(draws, pid, is_all, obs_start, obs_end, params, concepts, types, tables)


def _care(
    draws: Draws,
    pid: IntArray,
    is_all: BoolArray,
    obs_start: IntArray,
    obs_end: IntArray,
    params: SynthParams,
    concepts: Concepts,
    types: TypeConcepts,
    tables: Tables,
) -> None:
    bg = params.background
    n = pid.size
    days = obs_end - obs_start + 1
    rate = draws.gamma(bg.visit_rate_shape, np.full(n, bg.visits_per_year / bg.visit_rate_shape))
    n_visits = draws.poisson(rate * days / 365.25)
    v_owner = np.repeat(np.arange(n), n_visits)
    v_start = obs_start[v_owner] + np.floor(draws.uniform(owner=v_owner) * days[v_owner]).astype(
        np.int64
    )
    inpatient = draws.bernoulli(bg.inpatient_share, owner=v_owner)
    stay = draws.integers(*bg.inpatient_days, owner=v_owner)
    emergency = draws.bernoulli(0.05, owner=v_owner)
    v_end = np.where(inpatient, np.minimum(v_start + stay - 1, obs_end[v_owner]), v_start)
    tables["visit_occurrence"].add(
        person_id=pid[v_owner],
        visit_concept_id=np.where(inpatient, INPATIENT, np.where(emergency, EMERGENCY, OUTPATIENT)),
        visit_start_date=v_start,
        visit_end_date=v_end,
        visit_type_concept_id=types.record,
    )

    def on_visit(v: IntArray) -> IntArray:
        # a day within the visit
        width = v_end[v] - v_start[v] + 1
        return v_start[v] + np.floor(draws.uniform(owner=v_owner[v]) * width).astype(np.int64)

    pools = concepts.pools
    v = _records_per_visit(draws, bg.conditions_per_visit, v_owner)
    tables["condition_occurrence"].add(
        person_id=pid[v_owner[v]],
        condition_concept_id=_personal(
            draws, pools["condition"], n, bg.personal_conditions, v_owner[v]
        ),
        condition_start_date=on_visit(v),
        condition_type_concept_id=types.record,
    )
    v = _records_per_visit(draws, bg.drugs_per_visit, v_owner)
    owner = v_owner[v]
    drug = _personal(draws, pools["drug"], n, bg.personal_drugs, owner)
    start = on_visit(v)
    supply = _SUPPLY_DAYS[draws.choice(_SUPPLY_P, owner=owner)]
    end = np.minimum(start + supply - 1, obs_end[owner])
    units = draws.integers(1, 3, owner=owner)
    tables["drug_exposure"].add(
        person_id=pid[owner],
        drug_concept_id=drug,
        drug_exposure_start_date=start,
        drug_exposure_end_date=end,
        drug_type_concept_id=types.dispensing,
        quantity=((end - start + 1) * units).astype(np.float64),
        days_supply=end - start + 1,
    )
    v = _records_per_visit(draws, bg.procedures_per_visit, v_owner)
    tables["procedure_occurrence"].add(
        person_id=pid[v_owner[v]],
        procedure_concept_id=_pick(draws, pools["procedure"], v_owner[v]),
        procedure_date=on_visit(v),
        procedure_type_concept_id=types.record,
    )
    _measurements(draws, pid, is_all, v_owner, on_visit, params, concepts, types, tables)
    v = _records_per_visit(draws, bg.observations_per_visit, v_owner)
    tables["observation"].add(
        person_id=pid[v_owner[v]],
        observation_concept_id=_pick(draws, pools["observation"], v_owner[v]),
        observation_date=on_visit(v),
        observation_type_concept_id=types.record,
    )


def _measurements(
    draws: Draws,
    pid: IntArray,
    is_all: BoolArray,
    v_owner: IntArray,
    on_visit: Callable[[IntArray], IntArray],
    params: SynthParams,
    concepts: Concepts,
    types: TypeConcepts,
    tables: Tables,
) -> None:
    bg = params.background
    v = _records_per_visit(draws, bg.measurements_per_visit, v_owner)
    owner = v_owner[v]
    date = on_visit(v)
    pool_concept = _pick(draws, concepts.pools["measurement"], owner)
    units = np.unique([u for _, u in concepts.lab.values() if u])
    unit = units[pool_concept % units.size] if units.size else np.zeros(owner.size, np.int64)
    # any unit, percent included, must read plausibly: keep pool values within 0.1-99.9
    base = np.log(5.0 + pool_concept % 90)
    value = np.round(np.clip(np.exp(base + 0.15 * draws.normal(owner=owner)), 0.1, 99.9), 2)
    lab_keys = list(_NORMAL_LABS)
    lab = draws.integers(0, len(lab_keys) - 1, owner=owner)
    lab_value = draws.normal(owner=owner)
    use_lab = ~is_all[owner] & draws.bernoulli(bg.lab_share, owner=owner)
    lab_ids = np.array([concepts.lab[k][0] for k in lab_keys], dtype=np.int64)
    lab_units = np.array([concepts.lab[k][1] for k in lab_keys], dtype=np.int64)
    mean, sd, low = (np.array([_NORMAL_LABS[k][i] for k in lab_keys]) for i in range(3))
    normal = np.round(np.maximum(mean[lab] + sd[lab] * lab_value, low[lab]), 2)
    tables["measurement"].add(
        person_id=pid[owner],
        measurement_concept_id=np.where(use_lab, lab_ids[lab], pool_concept),
        measurement_date=date,
        measurement_type_concept_id=types.record,
        value_as_number=np.where(use_lab, normal, value),
        unit_concept_id=np.where(use_lab, lab_units[lab], unit),
    )
