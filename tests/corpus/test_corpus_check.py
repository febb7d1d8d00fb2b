"""``allrwe check`` on every malformed CDM of the corpus: exit code, findings, one-line message.

The command runs in-process (``main([...])``), so an exception that is not an allrwe error fails
the test with its traceback; a few recipes also run as a real process, to see stderr as a user
would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from allrwe.cli.app import main
from corpus.corpus_recipes import RECIPES, Expected, Kind, Recipe, build, cases

pytestmark = pytest.mark.slow

_ENTRY = "import sys; from allrwe.cli.app import main; sys.exit(main())"


def _params(pairs: list[tuple[Recipe, Kind]]) -> list[Any]:
    return [
        pytest.param(
            recipe,
            kind,
            id=f"{recipe.name}-{kind}",
            marks=[pytest.mark.xfail(reason=recipe.defect, strict=True)] if recipe.defect else [],
        )
        for recipe, kind in pairs
    ]


def check_json(capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, str, str]:
    """Run ``allrwe check --cdm URL --json`` in-process; return code, stdout, stderr."""
    code = main(["check", "--cdm", url, "--json"])
    out, err = capsys.readouterr()
    return code, out, err


def _matches(finding: dict[str, Any], e: Expected) -> bool:
    key = (finding["severity"], finding["table"], finding["column"], finding["rule"])
    return key == (e.severity, e.table, e.column, e.rule) and finding["rows"] == e.rows


def _names_what_it_counts(message: str, e: Expected) -> bool:
    # A message names its table (possibly in the plural, "persons"), its column, and the count
    # as printed ("1,234"). empty_table flags a table with rows=1 ("person has no rows"): there
    # is no count to name; query_failed names the rule and the engine's reason instead.
    table_named = e.table in message
    column_named = e.column is None or e.rule == "query_failed" or e.column in message
    rows_named = e.rows is None or e.rule == "empty_table" or f"{e.rows:,}" in message
    return table_named and column_named and rows_named


def assert_answer(recipe: Recipe, code: int, out: str, err: str) -> None:
    """Assert that check's exit code, report and message are what the recipe expects."""
    assert "Traceback" not in out + err
    assert code == recipe.exit_code, err
    if code == 2:
        # the check could not run: nothing on stdout, one line on stderr
        assert out == ""
        assert err.startswith("error: ")
        assert err.count("\n") == 1
        for fragment in recipe.fragments:
            assert fragment in err
        return
    report = json.loads(out)
    findings = report["findings"]
    if recipe.clean:
        assert findings == []
    for e in recipe.expect:
        hits = [f for f in findings if _matches(f, e)]
        assert hits, f"{e} not among {[(f['rule'], f['table'], f['rows']) for f in findings]}"
        assert all(_names_what_it_counts(f["message"], e) for f in hits), hits
    for f in findings:
        # every finding, expected or not, names what it counts
        e = Expected(f["severity"], f["table"], f["column"], f["rule"], f["rows"])
        assert _names_what_it_counts(f["message"], e), f
    text = err + "\n".join(f["message"] for f in findings)
    for fragment in recipe.fragments:
        assert fragment in text
    if code == 1:
        first = next(f for f in findings if f["severity"] == "error")
        assert err.startswith("error: the CDM fails the check: " + first["message"])
        assert err.count("\n") == 1
        assert report["ok"] is False
    else:
        assert err == ""
        assert report["ok"] is True
        assert all(f["severity"] != "error" for f in findings)


@pytest.mark.parametrize(("recipe", "kind"), _params(cases()))
def test_check_answers_every_recipe(recipe: Recipe, kind: Kind, tmp_path: Path, capsys) -> None:
    url = build(recipe, kind, tmp_path / "cdm")
    code, out, err = check_json(capsys, url)
    assert_answer(recipe, code, out, err)


_BY_NAME = {r.name: r for r in RECIPES}
_AS_A_PROCESS = [
    ("not_a_duckdb_file", "duckdb"),
    ("non_utf8_required_text", "parquet"),
    ("non_utf8_source_value", "parquet"),
]


@pytest.mark.parametrize(
    ("name", "kind"), _AS_A_PROCESS, ids=[f"{n}-{k}" for n, k in _AS_A_PROCESS]
)
def test_check_as_a_process_prints_no_traceback(name: str, kind: Kind, tmp_path: Path) -> None:
    recipe = _BY_NAME[name]
    url = build(recipe, kind, tmp_path / "cdm")
    done = subprocess.run(
        [sys.executable, "-c", _ENTRY, "check", "--cdm", url],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
        check=False,
    )
    assert done.returncode == recipe.exit_code
    assert "Traceback" not in done.stdout + done.stderr
    if recipe.exit_code:
        assert done.stderr.startswith("error: ")
        assert done.stderr.count("\n") == 1
        for fragment in recipe.fragments:
            assert fragment in done.stderr
    else:
        assert done.stderr == ""
        assert "passes the check" in " ".join(done.stdout.split())


def test_corpus_is_as_large_as_promised() -> None:
    # issue 7: at least 50 malformed CDMs, both forms where the difference matters
    assert len(RECIPES) >= 120  # issue 17: from 76
    assert len({r.name for r in RECIPES}) == len(RECIPES)
    assert sum(len(r.kinds) == 2 for r in RECIPES) >= 10
    assert {r.exit_code for r in RECIPES} == {0, 1, 2}
