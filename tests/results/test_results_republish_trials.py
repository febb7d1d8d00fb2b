"""The trials of the republication attack each published state once (issues #16 and #18).

Each trial attacks the blocks it changes in the trial state and in the state before it;
the trials of one base state meet that state again, and a trial kept is the next trial's
base. The attacker is a function of the records it reads, so a state met before is answered
from the first attack.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results.republish import _Trials
from republication import inputs, sex_by_ph


def _trials(records: pd.DataFrame, hidden: np.ndarray) -> tuple[_Trials, list[int]]:
    values, margins, hiding = inputs(records)
    trials = _Trials(records, values, hiding, margins, 5, hidden, None)
    calls: list[int] = []
    attack = trials.expose

    def counted(published: pd.DataFrame, k: int, **kwargs: object) -> object:
        calls.append(len(published))
        return attack(published, k, **kwargs)

    trials.expose = counted
    return trials, calls


def test_a_state_met_again_is_not_attacked_again_and_gets_the_same_answer():
    records = sex_by_ph()
    # the four strata and the overall women and men hidden
    base = np.array([False, True, True, False, True, True, False, True, True])
    trials, calls = _trials(records, base)
    publish_women = base.copy()
    publish_women[1] = False  # the 12 women; the strata beside them stay hidden
    first = trials.safe(publish_women, base)
    # the trial and the state before it (every margin has its total record: no implicit
    # totals, so the records alone and with them are one attack)
    assert len(calls) == 2
    again = trials.safe(publish_women, base)
    assert len(calls) == 2
    assert first[0] is again[0] is True
    # the trial kept is the next trial's base: only the new trial is attacked
    publish_men = publish_women.copy()
    publish_men[2] = False
    assert trials.safe(publish_men, publish_women)[0] is True
    assert len(calls) == 3


def test_the_answer_is_that_of_a_fresh_attack():
    records = sex_by_ph()
    base = np.array([False, True, True, False, True, True, False, True, True])
    trials, _ = _trials(records, base)
    # publish Ph- women (9): with the 12 women hidden the table still protects Ph+ women
    trial = base.copy()
    trial[7] = False
    assert trials.safe(trial, base)[0] is True
    # and then the 12 women: 12 - 9 = 3 Ph+ women; asked again, the first answer is given
    second = trial.copy()
    second[1] = False
    fine, found = trials.safe(second, trial)
    assert fine is False
    assert found is not None
    assert [(x.record, x.low, x.high) for x in found.report.leaks] == [
        ("baseline/overall/ph_status=Ph+/sex/female/count", 3, 3)
    ]
    assert trials.safe(second, trial)[1] is found
    fresh, _ = _trials(records, base)
    again = fresh.safe(second, trial)[1]
    assert again is not None
    assert again.report.leaks == found.report.leaks


def test_the_attack_of_every_record_confirms_a_move_that_publishes_many_counts():
    # Table 2's columns published again in one go are confirmed by one attack of every
    # record: blocks are those of the repair's state, and counts published can write rows
    # that join two of them. Ph+ women (3) hidden with Ph+ men (5); publishing Ph- women
    # (9) beside the 12 women gives 12 - 9 = 3 away, whatever the blocks say
    records = sex_by_ph()
    base = np.array([False, True, True, False, True, True, False, True, True])
    trials, _ = _trials(records, base)
    shown_ph_minus = base.copy()
    shown_ph_minus[[1, 7]] = False  # the 12 women and Ph- women's 9
    assert trials.whole(base, base)
    assert not trials.whole(shown_ph_minus, base)
    # the women alone protect nothing more than the strata beside them: no new leak
    shown_women = base.copy()
    shown_women[1] = False
    assert trials.whole(shown_women, base)
