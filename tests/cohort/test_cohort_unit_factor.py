"""with_unit_factor: lab values in any unit the OHDSI DQD approves, brought to the set's unit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from allrwe.cohort import measurement_values, with_unit_factor
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from offset_cdm import cid, write_cdm

# (set, value, unit_concept_id, value in the set's unit or None when left out)
ROWS = [
    ("hemoglobin", 9.5, 8713, 95.0),  # g/dL -> g/L
    ("hemoglobin", 120.0, 8636, 120.0),  # already g/L
    ("platelets", 150.0, 8848, 150.0),  # 10^3/uL = 10^9/L
    ("wbc", 4.2, 8961, 4.2),  # 10^3/mm3 = 10^9/L
    ("anc", 1500.0, 8784, 1.5),  # cells/uL -> 10^9/L
    ("anc", 0.8, 0, 0.8),  # no unit: taken to be the set's
    ("anc", 0.9, None, 0.9),  # null unit: likewise
    ("wbc", 4.2, 8554, None),  # percent: no WBC unit, left out
    ("height", 65.0, 9330, None),  # no conversion is declared for height
]


def test_values_in_the_sets_unit(tmp_path: Path) -> None:
    vocab = load_vocabulary()
    rows = [
        {
            "measurement_id": i,
            "person_id": 1,
            "measurement_concept_id": cid(vocab, key),
            "measurement_date": dt.date(2021, 1, i),
            "measurement_type_concept_id": 32817,
            "value_as_number": value,
            "unit_concept_id": unit,
        }
        for i, (key, value, unit, _) in enumerate(ROWS, start=1)
    ]
    cdm = write_cdm(tmp_path / "labs.duckdb", {"measurement": rows})
    keys = sorted({key for key, *_ in ROWS})
    with connect(cdm) as source:
        ev = with_unit_factor(measurement_values(source, vocab, None, keys), vocab)
        got = source.execute(ev.select("record_id", "value_as_number", "unit_factor"))
    got = got.sort_values("record_id")
    converted = [
        None if f != f else pytest.approx(v * f)
        for v, f in zip(got["value_as_number"], got["unit_factor"], strict=True)
    ]
    assert converted == [want for *_, want in ROWS]
