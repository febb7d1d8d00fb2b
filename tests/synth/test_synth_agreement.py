"""The ground truth agrees with the CDM records it describes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synth_tables import cdm, cid, days, ids, truth

from allrwe.io.vocabulary import load_vocabulary
from allrwe.synth import SynthResult


def _index_patients(root: str) -> pd.DataFrame:
    p = truth(root, "patients")
    return p[p.novel_agent].set_index("person_id")


def _drug(root: str, key: str) -> pd.DataFrame:
    de = cdm(root, "drug_exposure")
    out = de[de.drug_concept_id.isin(ids(key))].copy()
    out["start"] = days(out.drug_exposure_start_date)
    out["end"] = days(out.drug_exposure_end_date)
    return out


def _cycles(root: str, drug: str) -> pd.DataFrame:
    c = truth(root, "cycles")
    c = c[c.drug == drug].copy()
    c["start"] = days(c.start_date)
    c["end"] = days(c.end_date)
    return c


def test_blinatumomab_bags_cover_exactly_the_cycle_days(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    bags = _drug(root, "blinatumomab")
    cycles = _cycles(root, "blinatumomab")
    assert len(cycles) > 20
    assert set(bags.days_supply) <= {1, 2, 4, 7}
    assert (bags.end - bags.start + 1 == bags.days_supply).all()
    by_person = dict(tuple(bags.groupby("person_id")))
    interrupted = 0
    for c in cycles.itertuples():
        mine = by_person[c.person_id]
        mine = mine[(mine.start >= c.start) & (mine.start <= c.end)]
        spans = zip(mine.start, mine.end, strict=True)
        covered = np.concatenate([np.arange(s, e + 1) for s, e in spans])
        expected = set(range(c.start, c.end + 1))
        if c.interruption_days:
            interrupted += 1
            gap0 = int(days(pd.Series([c.interruption_start_date])).iloc[0])
            expected -= set(range(gap0, gap0 + c.interruption_days))
        assert sorted(covered) == sorted(expected)
        assert len(covered) == c.infusion_days
        assert len(mine) == c.n_records
        daily = mine.quantity / mine.days_supply
        assert np.isin(daily.round(2), [round(c.dose_first, 2), round(c.dose_main, 2)]).all()
        step_days = min(7, c.infusion_days) if c.dose_first != c.dose_main else 0
        total = c.dose_first * step_days + c.dose_main * (c.infusion_days - step_days)
        assert mine.quantity.sum() == pytest.approx(total, abs=0.05)
    assert interrupted > 0


def test_blinatumomab_label_doses(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    pts = truth(root, "patients").set_index("person_id")
    c = _cycles(root, "blinatumomab").join(pts[["weight_kg", "bsa_m2"]], on="person_id")
    heavy = c.weight_kg >= 45
    main = np.where(heavy, 28.0, np.minimum((15 * c.bsa_m2).round(2), 28.0))
    step = np.where(heavy, 9.0, np.minimum((5 * c.bsa_m2).round(2), 9.0))
    assert np.allclose(c.dose_main, main)
    stepped = c.dose_first != c.dose_main
    assert np.allclose(c.dose_first[stepped], step[stepped])
    # only the first cycle starts with the step dose
    assert (c.cycle[stepped] == 1).all()
    assert stepped.any()
    assert (~heavy).any()


def test_inotuzumab_doses_on_days_1_8_15(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    doses = _drug(root, "inotuzumab_ozogamicin")
    cycles = _cycles(root, "inotuzumab_ozogamicin")
    pts = truth(root, "patients").set_index("person_id")
    resp = truth(root, "responses")
    remission = resp[resp.response != "NR"].groupby("person_id").cycle.min()
    assert len(cycles) > 20
    by_person = dict(tuple(doses.groupby("person_id")))
    for c in cycles.itertuples():
        mine = by_person[c.person_id]
        mine = mine[(mine.start >= c.start) & (mine.start <= c.end)].sort_values("start")
        assert list(mine.start - c.start) == [0, 7, 14][: c.n_records]
        assert (mine.days_supply == 1).all()
        bsa = pts.bsa_m2[c.person_id]
        per_m2 = (mine.quantity / bsa).round(2).tolist()
        assert per_m2[1:] == [0.5] * (c.n_records - 1)
        assert per_m2[0] in (0.8, 0.5)
        assert mine.quantity.iloc[0] == pytest.approx(c.dose_first, abs=1e-9)
        if not c.is_index:
            continue
        in_cr = pts.disease_status_at_index[c.person_id] == "consolidation"
        earlier = remission.get(c.person_id, 99) < c.cycle
        assert per_m2[0] == (0.5 if c.cycle >= 2 and (in_cr or earlier) else 0.8)
    assert (cycles[cycles.is_index].cycle <= 6).all()


def test_inotuzumab_stops_without_remission_within_three_cycles(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    p = _index_patients(root)
    ino = p[p.index_drug == "inotuzumab_ozogamicin"]
    assert (ino[ino.best_response == "NR"].n_cycles <= 3).all()
    assert (ino[ino.best_response == "NR"].n_cycles >= 1).all()


def test_dose_bsa_from_recorded_height_and_weight(emr_cdm: SynthResult) -> None:
    root = str(emr_cdm.out)
    m = cdm(root, "measurement")
    p = _index_patients(root)
    first = m.sort_values("measurement_date").groupby(["person_id", "measurement_concept_id"])
    value = first.value_as_number.last().unstack()
    h = value.loc[p.index, cid("height")]
    w = value.loc[p.index, cid("weight")]
    assert np.allclose(np.sqrt(h * w / 3600).round(2), p.bsa_m2)


def test_cart_infusion_2_to_14_days_after_lymphodepletion(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    proc = cdm(root, "procedure_occurrence")
    cart = proc[proc.procedure_concept_id == cid("car_t_infusion")]
    flu = _drug(root, "fludarabine")
    cyclo = _drug(root, "cyclophosphamide")
    assert len(cart) > (10 if any_cdm.profile == "emr" else 0)
    for row in cart.itertuples():
        day = int(days(pd.Series([row.procedure_date])).iloc[0])
        f = flu[(flu.person_id == row.person_id) & (flu.start < day)]
        gap = day - f.end.max()
        assert 2 <= gap <= 14
        ld = f[f.start >= day - gap - 3]
        assert len(ld) == 4
        cy = cyclo[(cyclo.person_id == row.person_id) & (cyclo.start >= ld.start.min())]
        assert (cy.start <= day).sum() == 2


def _classify(blasts: pd.Series, anc: pd.Series, plt: pd.Series) -> pd.Series:
    # DOMAIN.md 3a, the definitions the analyses apply
    cr = (blasts <= 5) & (anc > 1.0) & (plt > 100)
    crh = (blasts <= 5) & (anc > 0.5) & (plt > 50) & ~cr
    cri = (blasts <= 5) & ~cr & ~crh
    return pd.Series(np.select([cr, crh, cri], ["CR", "CRh", "CRi"], "NR"), index=blasts.index)


def test_response_labs_classify_to_the_truth(emr_cdm: SynthResult) -> None:
    root = str(emr_cdm.out)
    m = cdm(root, "measurement")
    m = m.assign(day=days(m.measurement_date))
    r = truth(root, "responses").assign(day=lambda d: days(d.assessment_date))
    labs = {}
    for key in ("marrow_blasts", "anc", "platelets", "mrd"):
        sel = m[m.measurement_concept_id == cid(key)]
        labs[key] = r.merge(sel, on=["person_id", "day"], how="left").value_as_number
    assert labs["marrow_blasts"].notna().all()
    got = _classify(labs["marrow_blasts"], labs["anc"], labs["platelets"])
    assert (got == r.response.to_numpy()).all()
    assert set(r.response) == {"CR", "CRh", "CRi", "NR"}
    # values keep a margin from the thresholds: 10 % better or worse labs classify alike
    for f in (0.9, 1.1):
        moved = _classify(labs["marrow_blasts"] * f, labs["anc"] / f, labs["platelets"] / f)
        assert (moved == r.response.to_numpy()).all()
    mrd = labs["mrd"]
    assert np.allclose(mrd.fillna(-1), r.mrd_value.fillna(-1))
    assert ((mrd < 0.01) == r.mrd_negative.fillna(False).astype(bool))[mrd.notna()].all()
    assert r.mrd_value.notna().any()
    assert (r.mrd_value < 0.01).any()
    assert (r.mrd_value > 0.01).any()


def test_index_summary_matches_records(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    p = _index_patients(root)
    for drug in ("blinatumomab", "inotuzumab_ozogamicin"):
        grp = p[p.index_drug == drug]
        if grp.empty:
            continue
        rec = _drug(root, drug)
        rec = rec[rec.person_id.isin(grp.index)]
        first = rec.groupby("person_id").start.min()
        assert (first == days(grp.index_date)).all()
        cyc = _cycles(root, drug)
        cyc = cyc[cyc.is_index].groupby("person_id")
        assert (cyc.cycle.max() == grp.n_cycles).all()
        last = cyc.end.max()
        assert (last == days(grp.index_end_date)).all()
        assert (grp.treatment_duration_days == last - days(grp.index_date) + 1).all()


def test_record_based_flags(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    p = _index_patients(root)
    idx = days(p.index_date)
    de = cdm(root, "drug_exposure").assign(start=lambda d: days(d.drug_exposure_start_date))
    de = de[de.person_id.isin(p.index)]
    before = de.start.to_numpy() < idx.loc[de.person_id].to_numpy()
    chemo = set(de[before & de.drug_concept_id.isin(ids("chemotherapy"))].person_id)
    assert (p.prior_chemo == p.index.isin(chemo)).all()
    assert 0 < p.prior_chemo.mean() < 1
    proc = cdm(root, "procedure_occurrence").assign(day=lambda d: days(d.procedure_date))
    proc = proc[proc.person_id.isin(p.index)]
    early = proc.day.to_numpy() < idx.loc[proc.person_id].to_numpy()
    for flag, key in (("prior_hsct", "allo_hsct"), ("prior_cart", "car_t_infusion")):
        who = set(proc[early & (proc.procedure_concept_id == cid(key))].person_id)
        assert (p[flag] == p.index.isin(who)).all()
    assert not p.prior_ino.any()
    assert not p.prior_blin.any()
    firsts = {
        key: de[de.drug_concept_id == cid(key)].groupby("person_id").start.min()
        for key in ("blinatumomab", "inotuzumab_ozogamicin")
    }
    blin = firsts["blinatumomab"].reindex(p.index)
    ino = firsts["inotuzumab_ozogamicin"].reindex(p.index)
    assert (p.ino_then_blin == ((p.index_drug == "inotuzumab_ozogamicin") & (blin > ino))).all()
    assert (p.blin_then_ino == ((p.index_drug == "blinatumomab") & (ino > blin))).all()
    assert (p.line_at_index == p.prior_lines + 1).all()


def _subsequent_from_records(root: str, p: pd.DataFrame) -> pd.Series:
    """The documented rule: first qualifying record after the last index-drug exposure."""
    end = days(p.index_end_date)
    de = cdm(root, "drug_exposure").assign(day=lambda d: days(d.drug_exposure_start_date))
    proc = cdm(root, "procedure_occurrence").assign(day=lambda d: days(d.procedure_date))
    other = {
        "blinatumomab": cid("inotuzumab_ozogamicin"),
        "inotuzumab_ozogamicin": cid("blinatumomab"),
    }
    cart_drugs = ids("car_t")
    chemo = de[de.drug_concept_id.isin(ids("chemotherapy"))][["person_id", "day"]]
    infusions = proc[proc.procedure_concept_id == cid("car_t_infusion")][["person_id", "day"]]
    pair = chemo.merge(infusions, on="person_id", suffixes=("", "_inf"))
    ld = pair[(pair.day_inf - pair.day).between(0, 21)].set_index(["person_id", "day"]).index
    chemo = chemo[~chemo.set_index(["person_id", "day"]).index.isin(ld)]
    events = pd.concat(
        [
            chemo.assign(cls="chemotherapy"),
            de[de.drug_concept_id.isin(cart_drugs)][["person_id", "day"]].assign(cls="car_t"),
            infusions.assign(cls="car_t"),
            proc[proc.procedure_concept_id == cid("allo_hsct")][["person_id", "day"]].assign(
                cls="hsct"
            ),
            de.assign(other=de.person_id.map(p.index_drug).map(other))
            .query("drug_concept_id == other")[["person_id", "day"]]
            .assign(cls="other_novel"),
        ]
    )
    events = events[events.person_id.isin(p.index)]
    events = events[events.day.to_numpy() > end.loc[events.person_id].to_numpy()]
    first = events.sort_values(["person_id", "day"]).groupby("person_id").cls.first()
    return first.reindex(p.index).fillna("none")


def test_subsequent_first_class_follows_the_documented_rule(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    p = _index_patients(root)
    got = _subsequent_from_records(root, p)
    assert (got == p.subsequent_first_class).all()
    assert set(p.subsequent_first_class) >= {"none", "hsct", "chemotherapy", "other_novel"}


def test_deaths_follow_up_and_relapses(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    p = truth(root, "patients").set_index("person_id")
    death = cdm(root, "death").set_index("person_id")
    op = cdm(root, "observation_period").set_index("person_id")
    assert (days(op.loc[p.index].observation_period_end_date) == days(p.last_contact_date)).all()
    recorded = p[p.death_recorded]
    assert (days(death.loc[recorded.index].death_date) == days(recorded.death_date)).all()
    unrecorded = p[p.death_date.notna() & ~p.death_recorded]
    assert not unrecorded.index.isin(death.index).any()
    assert (days(p.death_date.dropna()) == days(p.last_contact_date[p.death_date.notna()])).all()
    n = p[p.novel_agent]
    assert ((n.os_event) == n.death_date.notna()).all()
    assert (n.os_time_days == days(n.last_contact_date) - days(n.index_date)).all()
    fail = n.first_remission_date.isna() | (days(n.first_remission_date) - days(n.index_date) > 84)
    assert (n.efs_time_days[fail] == 1).all()
    assert n.efs_event[fail].all()
    ok = n[~fail]
    event = pd.concat([days(ok.relapse_date), days(ok.death_date)], axis=1).min(axis=1)
    assert (ok.efs_event == event.notna()).all()
    end = event.fillna(days(ok.last_contact_date))
    assert (ok.efs_time_days == end - days(ok.index_date)).all()


def test_relapse_and_disease_status_records(emr_cdm: SynthResult) -> None:
    root = str(emr_cdm.out)
    p = _index_patients(root)
    co = cdm(root, "condition_occurrence").assign(day=lambda d: days(d.condition_start_date))
    rel = co[co.condition_concept_id == cid("relapse")]
    rel = rel[rel.day.to_numpy() > days(p.index_date).reindex(rel.person_id).to_numpy()]
    first = rel.groupby("person_id").day.min().reindex(p.index)
    assert (first.fillna(-1) == days(p.relapse_date).fillna(-1)).all()
    assert p.relapse_date.notna().sum() > 10
    ph = co[co.condition_concept_id.isin(ids("ph_positive"))].person_id
    assert set(ph) == set(truth(root, "patients").query("ph_status == 'positive'").person_id)
    dx = co[co.condition_concept_id.isin(ids("all_diagnosis") + ids("t_lineage_all"))]
    assert dx.groupby("person_id").day.min().reindex(p.index).eq(days(p.diagnosis_date)).all()
    assert (dx.condition_source_concept_id.notna()).all()


def test_adverse_events_recorded_with_grades(emr_cdm: SynthResult) -> None:
    root = str(emr_cdm.out)
    vocab = load_vocabulary()
    term_of = vocab.concept_to_set(["adverse_events"])
    obs = cdm(root, "observation")
    obs = obs[obs.observation_concept_id.isin(term_of)]
    got = sorted(
        zip(
            obs.person_id,
            obs.observation_concept_id.map(term_of),
            days(obs.observation_date),
            obs.value_as_number.astype(int),
            strict=True,
        )
    )
    aes = truth(root, "aes")
    want = sorted(zip(aes.person_id, aes.term, days(aes.onset_date), aes.grade, strict=True))
    assert got == want
    assert set(aes.grade) <= {1, 2, 3, 4}
    assert len(aes) > 50
    p = _index_patients(root)
    idx = aes[aes.context.isin(["blinatumomab", "inotuzumab_ozogamicin"])]
    idx = idx.join(p[["index_drug", "index_date", "index_end_date"]], on="person_id")
    first_course = idx[idx.context == idx.index_drug]
    onset = days(first_course.onset_date)
    assert (onset >= days(first_course.index_date)).all()


def test_claims_record_no_labs_grades_or_ph(claims_cdm: SynthResult) -> None:
    root = str(claims_cdm.out)
    m = cdm(root, "measurement")
    labs = ids("marrow_blasts") + ids("anc") + ids("platelets") + ids("mrd") + ids("weight")
    assert not m.measurement_concept_id.isin(labs).any()
    assert not cdm(root, "observation").observation_concept_id.isin(ids("adverse_events")).any()
    co = cdm(root, "condition_occurrence")
    assert not co.condition_concept_id.isin(ids("ph_positive") + ids("ph_negative")).any()
    # Ph+ shows through TKI dispensings only
    p = _index_patients(root)
    tki = _drug(root, "tki")
    assert set(tki.person_id) & set(p.index) == set(p[p.ph_status == "positive"].index)
    assert set(tki.drug_type_concept_id) == {32869}
    # deaths are incompletely recorded
    allp = truth(root, "patients")
    assert 0 < allp.death_recorded.sum() < allp.death_date.notna().sum()
