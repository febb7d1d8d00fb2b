"""The ``allrwe`` console script: exit codes, flushed output and exit handlers, without teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from allrwe import __version__
from allrwe.io.example import example_cdm_path

ENTRY = "from allrwe.cli.app import entry; entry()"


def _script(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, env=env, check=False
    )


def test_version_is_printed_and_flushed(tmp_path: Path) -> None:
    done = _script("--version", tmp=tmp_path)
    assert done.returncode == 0
    assert done.stdout == f"allrwe {__version__}\n"


def test_usage_error_exits_2(tmp_path: Path) -> None:
    spec = str(tmp_path / "no-such-spec.yaml")
    out = str(tmp_path / "out")
    done = _script("run", spec, "--cdm", "duckdb:///nowhere.duckdb", "--out", out, tmp=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "error:" in done.stderr
    assert "no-such-spec.yaml" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_check_output_is_complete_and_scratch_folder_removed(tmp_path: Path, kind: str) -> None:
    url = example_cdm_path(kind, tmp_path / "cdm")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = _script("check", "--cdm", url, "--json", tmp=scratch)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole JSON document reached the pipe
    assert report["ok"] is True
    # DuckDB's private folder is removed by its exit handler, which entry() runs itself
    assert list(scratch.iterdir()) == []


def test_prepare_process_imports_the_commands_and_freezes_them() -> None:
    code = (
        "import gc, sys; from allrwe.cli.app import prepare_process; "
        "before = gc.get_freeze_count(), gc.get_threshold(); prepare_process(); "
        "print(*before, gc.get_freeze_count() > 10_000, 'allrwe.study.runner' in sys.modules, "
        "gc.get_threshold(), sep='|')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().split("|") == [
        "0",
        "(700, 10, 10)",
        "True",
        "True",
        "(10000, 50, 100)",
    ]


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


HEAVY = ("scipy", "matplotlib", "jinja2", "allrwe.report", "allrwe.results", "allrwe.synth")


def test_run_starts_without_the_later_stages_modules() -> None:
    code = (
        "import sys; from allrwe.cli.app import app, prepare_process; prepare_process(['run']); "
        f"print([m for m in {HEAVY!r} if m in sys.modules], "
        "[c.name for c in app.registered_commands])"
    )
    assert _python(code) == "[] ['run']"


def test_background_import_loads_modules_and_survives_a_bad_name() -> None:
    code = (
        "import sys; from allrwe.study.background import import_in_background; "
        "t = import_in_background(('allrwe.report', 'allrwe.no_such_module', 'allrwe.results')); "
        "t.join(); print(t.name, 'allrwe.report' in sys.modules, 'allrwe.results' in sys.modules)"
    )
    assert _python(code) == "allrwe-imports True True"


def test_help_lists_every_command_in_order_after_one_was_registered(capsys) -> None:
    from allrwe.cli.app import main

    assert main(["run", "--help"]) == 0
    capsys.readouterr()
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = [
        line.split()[1]
        for line in out.split("Commands", 1)[1].splitlines()
        if line.startswith("│ ") and line[2] != " "
    ]
    assert listed == ["audit", "check", "demo", "merge", "report", "run", "synth", "vocab"]
