"""The record shape, validation, provenance, concatenation and the record builders."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from allrwe.errors import AllrweError, ResultsError
from allrwe.results import (
    COLUMNS,
    ResultSet,
    count_records,
    make_records,
    margin_key,
    percentage_records,
    spec_hash,
    summary_records,
    suppress,
    validate_records,
)

SPEC = {"name": "rr-all", "windows": {"baseline_days": 365}, "arms": ["BLIN", "INO"]}


def _raw(**overrides: object) -> pd.DataFrame:
    row = {
        "analysis": "baseline",
        "group": "BLIN",
        "strata_name": "overall",
        "strata_level": "overall",
        "variable": "sex",
        "variable_level": "female",
        "estimate_name": "count",
        "estimate_type": "count",
        "value": 12,
    }
    row.update(overrides)
    return pd.DataFrame([row])


def test_validate_fills_optional_columns_and_orders_them():
    frame = validate_records(_raw())
    assert tuple(frame.columns) == COLUMNS
    assert frame["suppressed"].dtype == bool
    assert not frame.loc[0, "suppressed"]
    assert frame.loc[0, "margin"] == ""
    assert frame["value"].dtype == np.float64
    assert frame.loc[0, "value"] == 12.0


def test_validate_sorts_rows_by_key_then_estimate_name():
    rows = pd.concat(
        [
            _raw(variable_level="male", value=30),
            _raw(
                variable_level="female",
                estimate_name="percentage",
                estimate_type="percentage",
                value=28.57,
            ),
            _raw(variable_level="female", value=12),
            _raw(group="INO", variable_level="female", value=7),
        ],
        ignore_index=True,
    )
    frame = validate_records(rows)
    got = list(zip(frame["group"], frame["variable_level"], frame["estimate_name"], strict=True))
    assert got == [
        ("BLIN", "female", "count"),
        ("BLIN", "female", "percentage"),
        ("BLIN", "male", "count"),
        ("INO", "female", "count"),
    ]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_raw().drop(columns="estimate_type"), "lack column(s) 'estimate_type'"),
        (_raw(person_id=17), "unexpected column(s) 'person_id'"),
        (_raw(estimate_type="integer"), "unknown estimate_type 'integer' in 1 row(s)"),
        (_raw(value="twelve"), "1 non-numeric value(s)"),
        (_raw(value=-1), "not a non-negative integer"),
        (_raw(value=2.5), "not a non-negative integer"),
        (_raw(group=None), "column 'group' is empty in 1 row(s)"),
        (
            _raw(estimate_name="mean", estimate_type="numeric", margin="m"),
            "1 non-count record(s) have a margin",
        ),
        (_raw(margin="a||b"), "malformed margin"),
        (_raw(margin="total:"), "malformed margin"),
        (pd.concat([_raw(), _raw(value=3)]), "1 record(s) repeat a cell"),
    ],
)
def test_validate_rejects_bad_records(frame, message):
    with pytest.raises(ResultsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_records(frame)


def _random_records(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Case, accents, prefixes and digits: orders where byte and code point order could part.
    words = np.array(
        ["a", "B", "b", "ab", "a b", "é", "e", "Z", "z0", "z10", "z9", "", "ä", "\u2028"]
    )
    columns = {c: words[rng.integers(0, len(words), n)] for c in ("analysis", "group")}
    columns |= {c: words[rng.integers(0, 3, n)] for c in ("strata_name", "strata_level")}
    columns |= {c: words[rng.integers(0, len(words), n)] for c in ("variable", "variable_level")}
    columns["estimate_name"] = np.array(["count", "percentage", "mean"])[rng.integers(0, 3, n)]
    frame = pd.DataFrame(columns)
    frame["estimate_type"] = "numeric"
    frame["value"] = rng.random(n)
    return frame


def test_validate_orders_and_counts_repeats_like_a_stable_pandas_sort():
    keys = ["analysis", "group", "strata_name", "strata_level", "variable", "variable_level"]
    for seed in range(30):
        frame = _random_records(seed, 300)
        repeats = int(frame.duplicated(subset=[*keys, "estimate_name"]).sum())
        if repeats:
            with pytest.raises(ResultsError, match=f"^{repeats} record\\(s\\) repeat a cell"):
                validate_records(frame)
            frame = frame.drop_duplicates(subset=[*keys, "estimate_name"])
        expected = frame.sort_values([*keys, "estimate_name"], kind="mergesort", ignore_index=True)
        got = validate_records(frame)
        pd.testing.assert_series_equal(got["value"], expected["value"], check_exact=True)
        assert got["variable"].tolist() == expected["variable"].tolist()


@pytest.mark.parametrize(
    ("margins", "n_malformed"),
    [
        (["a", "a|total:b", "", "x@y|z"], 0),
        (["a|", "|a", "a||b", "total:", " a", "a |b", "total:|a", "ok"], 7),
        (["a\u2028", "\x1ca", "total:a|total:", "a|b|c"], 3),
    ],
)
def test_validate_counts_each_malformed_margin_field_once(margins, n_malformed):
    frame = pd.concat(
        [_raw(variable_level=f"l{i}", margin=m) for i, m in enumerate(margins)], ignore_index=True
    )
    if not n_malformed:
        assert validate_records(frame)["margin"].tolist() == margins
        return
    with pytest.raises(ResultsError, match=f"^{n_malformed} record\\(s\\) have a malformed"):
        validate_records(frame)


def test_results_error_is_an_allrwe_value_error():
    with pytest.raises(ValueError, match="unknown estimate_type") as info:
        validate_records(_raw(estimate_type="weird"))
    assert isinstance(info.value, AllrweError)


def test_spec_hash_is_sha256_of_canonical_json():
    expected = hashlib.sha256(
        b'{"arms":["BLIN","INO"],"name":"rr-all","windows":{"baseline_days":365}}'
    ).hexdigest()
    assert spec_hash(SPEC) == expected
    reordered = {"windows": {"baseline_days": 365}, "arms": ["BLIN", "INO"], "name": "rr-all"}
    assert spec_hash(reordered) == expected
    assert spec_hash({**SPEC, "name": "other"}) != expected


def test_spec_hash_accepts_models_with_model_dump():
    class Model:
        def model_dump(self, mode: str) -> dict[str, object]:
            assert mode == "json"
            return dict(SPEC)

    assert spec_hash(Model()) == spec_hash(SPEC)


def test_spec_hash_rejects_nan():
    with pytest.raises(ResultsError, match="canonical JSON"):
        spec_hash({"x": math.nan})


def test_provenance_keeps_timestamp_in_one_place():
    rs = ResultSet.create(
        _raw(), spec=SPEC, cdm_source="duckdb:demo.duckdb", created_at="2024-05-01T10:00:00+00:00"
    )
    stable = rs.provenance.to_dict(timestamp=False)
    full = rs.provenance.to_dict()
    assert "created_at" not in stable
    assert full["created_at"] == "2024-05-01T10:00:00+00:00"
    assert {k: v for k, v in full.items() if k != "created_at"} == stable
    assert stable["spec_hash"] == spec_hash(SPEC)
    assert stable["cdm_source"] == "duckdb:demo.duckdb"
    assert stable["allrwe_version"] == "0.1.0"
    assert stable["suppression"] is None
    json.dumps(full)  # JSON-able


def test_result_set_refuses_suppressed_cells_without_suppression_provenance():
    with pytest.raises(ResultsError, match="marked suppressed"):
        ResultSet.create(_raw(suppressed=True), spec=SPEC, cdm_source="x")


def test_records_property_returns_a_copy():
    rs = ResultSet.create(_raw(), spec=SPEC, cdm_source="x")
    records = rs.records
    records.loc[0, "value"] = 999.0
    assert rs.records.loc[0, "value"] == 12.0


def test_concat_unions_records_and_keeps_first_provenance():
    a = ResultSet.create(_raw(), spec=SPEC, cdm_source="x", created_at="t1")
    b = ResultSet.create(
        _raw(analysis="attrition", variable="step", variable_level="1"),
        spec=SPEC,
        cdm_source="x",
        created_at="t2",
    )
    both = ResultSet.concat([b, a])
    assert len(both) == 2
    assert both.analyses() == ["attrition", "baseline"]
    assert both.provenance.created_at == "t2"
    assert repr(both) == "ResultSet(2 records, 2 analyses, not suppressed)"


def test_concat_refuses_mixed_specs_suppressed_sets_and_duplicates():
    a = ResultSet.create(_raw(), spec=SPEC, cdm_source="x")
    other_spec = ResultSet.create(_raw(group="INO"), spec={"name": "y"}, cdm_source="x")
    with pytest.raises(ResultsError, match="different spec_hash"):
        ResultSet.concat([a, other_spec])
    with pytest.raises(ResultsError, match="concatenate first, then suppress"):
        ResultSet.concat([a, suppress(a)])
    with pytest.raises(ResultsError, match="repeat a cell"):
        ResultSet.concat([a, a])
    with pytest.raises(ResultsError, match="at least one"):
        ResultSet.concat([])


def test_make_records_broadcasts_scalars_and_infers_types():
    frame = make_records(
        analysis="survival_km",
        group="BLIN",
        variable="overall_survival",
        variable_level=["180", "180", "180"],
        estimate_name=["estimate", "n_risk", "lower"],
        value=[0.81, 40, 0.7],
    )
    assert list(frame["estimate_name"]) == ["estimate", "lower", "n_risk"]
    assert list(frame["estimate_type"]) == ["numeric", "numeric", "count"]
    assert list(frame["value"]) == [0.81, 0.7, 40.0]
    with pytest.raises(ResultsError, match="different lengths"):
        make_records(analysis="a", estimate_name=["x", "y"], value=[1, 2, 3])


def test_count_records_uses_table_keys_and_declares_margins():
    table = pd.DataFrame(
        {"group": ["BLIN", "BLIN", "INO"], "variable_level": ["yes", "no", "yes"], "n": [3, 9, 4]}
    )
    frame = count_records(table, analysis="safety", variable="crs", count_column="n", margin=True)
    assert list(frame["value"]) == [9.0, 3.0, 4.0]
    assert list(frame["margin"]) == [
        "safety/BLIN/overall=overall/crs",
        "safety/BLIN/overall=overall/crs",
        "safety/INO/overall=overall/crs",
    ]
    assert set(frame["estimate_type"]) == {"count"}


def test_margin_key_rejects_separator():
    assert margin_key("a", "g", "s", "l", "v") == "a/g/s=l/v"
    with pytest.raises(ResultsError, match="may not contain"):
        margin_key("a", "g|h", "s", "l", "v")


def test_percentage_records_with_denominator_and_total():
    table = pd.DataFrame({"variable_level": ["negative", "positive", "unknown"], "n": [57, 40, 3]})
    frame = percentage_records(
        table,
        analysis="baseline",
        group="BLIN",
        variable="ph_status",
        denominator=100,
        count_column="n",
        total_level="total",
    )
    pct = frame[frame["estimate_name"] == "percentage"].set_index("variable_level")["value"]
    assert pct.to_dict() == {"negative": 57.0, "positive": 40.0, "unknown": 3.0}
    total = frame[frame["variable_level"] == "total"]
    assert total["value"].tolist() == [100.0]
    assert total["margin"].tolist() == ["total:baseline/BLIN/overall=overall/ph_status"]


def test_percentage_records_checks_margin_sum_and_zero_denominator():
    table = pd.DataFrame({"variable_level": ["a", "b"], "count": [2, 3], "den": [6, 6]})
    with pytest.raises(ResultsError, match="add up to 5, not to the denominator"):
        percentage_records(table, analysis="baseline", denominator="den")
    frame = percentage_records(table, analysis="baseline", denominator="den", margin=False)
    pct = frame[frame["estimate_name"] == "percentage"]["value"].tolist()
    assert pct == pytest.approx([100 * 2 / 6, 100 * 3 / 6])
    empty = pd.DataFrame({"variable_level": ["a"], "count": [0]})
    zero = percentage_records(empty, analysis="baseline", denominator=0)
    assert np.isnan(zero[zero["estimate_name"] == "percentage"]["value"].iloc[0])


def test_summary_records_melts_statistics():
    table = pd.DataFrame(
        {
            "variable": ["age_years"],
            "group": ["CAR-T"],
            "count": [23],
            "median": [34.0],
            "q25": [25.5],
            "q75": [51.0],
        }
    )
    frame = summary_records(table, analysis="baseline")
    got = dict(
        zip(
            frame["estimate_name"],
            zip(frame["estimate_type"], frame["value"], strict=True),
            strict=True,
        )
    )
    assert got == {
        "count": ("count", 23.0),
        "median": ("numeric", 34.0),
        "q25": ("numeric", 25.5),
        "q75": ("numeric", 51.0),
    }
    with pytest.raises(ResultsError, match="none of the statistics"):
        summary_records(pd.DataFrame({"x": [1]}), analysis="baseline")


def test_malformed_margin_count_matches_the_token_rule_field_by_field():
    def token_ok(token: str) -> bool:
        return bool(token.strip()) and token == token.strip() and token != "total:"

    rng = np.random.default_rng(20250110)
    pieces = np.array(["a", "b@X", "|", "||", "total:", " ", "\t", "\u2028", "\x1c", "\n", "é"])
    for _ in range(300):
        fields = [
            "".join(rng.choice(pieces, size=rng.integers(1, 6))) for _ in range(rng.integers(1, 8))
        ]
        expected = sum(not all(map(token_ok, f.split("|"))) for f in fields)
        frame = pd.concat(
            [_raw(variable_level=f"l{i}", margin=m) for i, m in enumerate(fields)],
            ignore_index=True,
        )
        if expected:
            with pytest.raises(ResultsError, match=f"^{expected} record\\(s\\) have a malformed"):
                validate_records(frame)
        else:
            assert validate_records(frame)["margin"].tolist() == fields
