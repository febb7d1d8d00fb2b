"""``allrwe merge``: the command line over allrwe.results.merge."""

from __future__ import annotations

import csv
from pathlib import Path

from allrwe.cli.app import main
from site_dirs import site_folder as _site


def test_merge_writes_the_pooled_table(tmp_path: Path, capsys) -> None:
    a = _site(tmp_path, "a", cr="30", n="40", hr=(0.5, 0.3, 0.83))
    b = _site(tmp_path, "b", cr="12", n="20", hr=(0.9, 0.5, 1.62))
    code = main(["merge", str(a), str(b), "--out", str(tmp_path / "m")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Merged 2 sites" in out
    with (tmp_path / "m" / "merged.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-3:] == ["a", "b", "pooled"]
    cohort = next(r for r in rows if r["analysis"] == "cohort")
    assert (cohort["a"], cohort["b"], cohort["pooled"]) == ("40", "20", "60")


def test_merge_of_different_specs_exits_2_in_one_line(tmp_path: Path, capsys) -> None:
    a = _site(tmp_path, "a", cr="30", n="40", hr=(0.5, 0.3, 0.83))
    b = _site(tmp_path, "b", cr="12", n="20", hr=(0.9, 0.5, 1.62), spec="other")
    code = main(["merge", str(a), str(b), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "did not run the same study spec" in err
