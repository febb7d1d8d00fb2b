"""Display conventions of looked-up values: NR for a median not reached, NE for a limit."""

from __future__ import annotations

import math

from allrwe.report._view import Value, fmt_interval


def _v(x: float) -> Value:
    return Value(x, suppressed=False, present=True)


def test_median_not_reached_reads_nr_with_limits_not_estimable():
    assert fmt_interval(_v(math.nan), _v(math.nan), _v(math.nan), unreached=True) == "NR (NE, NE)"
    assert fmt_interval(_v(math.nan), _v(14.2), _v(math.nan), unreached=True) == "NR (14.2, NE)"
    assert fmt_interval(_v(7.9), _v(6.1), _v(math.nan), unreached=True) == "7.9 (6.1, NE)"


def test_rate_limits_missing_read_ne_and_a_hidden_part_hides_all():
    assert fmt_interval(_v(0.5), _v(math.nan), _v(0.7), scale=100, suffix="%") == "50.0% (NE, 70.0)"
    hidden = Value(math.nan, suppressed=True, present=True)
    assert fmt_interval(_v(0.5), hidden, _v(0.7)) == "–"
