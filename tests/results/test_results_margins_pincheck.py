"""The protection's exact check for states that publish hidden counts again (issue #20).

:class:`allrwe.results.margins.PinCheck` decides, with the protection's own knowledge (a
hidden count is at least 1, or 0 in a table that hides a zero), whether the margins pin a
small hidden count, in the groups of margins that a count published again belongs to.
"""

from __future__ import annotations

import numpy as np

from allrwe.results.margins import PinCheck, parse_margins


def _check(values: list[float], fields: list[str]) -> PinCheck:
    array = np.array(values, dtype=np.float64)
    return PinCheck(array, parse_margins(fields, array), 5)


def _hidden(n: int, *cells: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(cells)] = True
    return out


def test_two_hidden_counts_of_a_published_two_are_each_pinned_at_one():
    # a + b = 2 (a margin of 1, 1 and 10 with its total 12 published); each at least 1
    check = _check([1, 1, 10, 12], ["m", "m", "m", "total:m"])
    assert check.small_pinned(_hidden(4, 0, 1), [2]) == 0
    # with 10 hidden too, a + b + c = 12 pins nothing
    assert check.small_pinned(_hidden(4, 0, 1, 2), []) is None


def test_a_table_that_hides_a_zero_gives_its_counts_a_floor_of_zero():
    # 1 + 1 + 0 of 2: the zero hidden too (a table hidden whole), each is 0 to 2
    check = _check([1, 1, 0, 2], ["m", "m", "m", "total:m"])
    assert check.small_pinned(_hidden(4, 0, 1, 2), [3]) is None
    # the same without the hidden zero: each is exactly 1
    assert check.small_pinned(_hidden(4, 0, 1), [3]) == 0


def test_margins_that_pin_only_together_are_found():
    # a, b, c = 3 (cells 0, 1, 4) in three margins a + b, b + c, c + a of 6 (their totals
    # published): each margin alone leaves its two counts 1 to 5, the three give 3 each
    fields = ["ab|ca", "ab|bc", "total:ab", "total:bc", "bc|ca", "total:ca"]
    check = _check([3, 3, 6, 6, 3, 6], fields)
    assert check.small_pinned(_hidden(6, 0, 1, 4), [2]) == 0
    # with one total hidden as well, the three are free again
    assert check.small_pinned(_hidden(6, 0, 1, 4, 3), [2]) is None


def test_only_groups_near_the_published_cells_are_decided():
    # margin m pins 1 + 1 of 2, margin n holds the cell published again and pins nothing
    fields = ["m", "m", "total:m", "n", "n", "n", "total:n"]
    check = _check([1, 1, 2, 2, 3, 9, 14], fields)
    hidden = _hidden(7, 0, 1, 3, 4)
    assert check.small_pinned(hidden, [5]) is None
    assert check.small_pinned(hidden, [2]) == 0
