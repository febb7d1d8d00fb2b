"""Options of every command: ``-h``, ``--quiet``/``--verbose``, shell completion."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from allrwe.cli.app import main
from allrwe.cli.options import OUTPUT, log_level


@pytest.fixture(autouse=True)
def _reset_output():
    saved = dict(OUTPUT)
    level = logging.getLogger().level
    yield
    OUTPUT.update(saved)
    logging.getLogger().setLevel(level)


def test_short_help_is_the_long_help(capsys) -> None:
    assert main(["-h"]) == 0
    short = capsys.readouterr().out
    assert main(["--help"]) == 0
    assert capsys.readouterr().out == short
    assert "Usage: allrwe" in short
    assert main(["synth", "-h"]) == 0
    assert "--format" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ({}, logging.WARNING),
        ({"quiet": True}, logging.ERROR),
        ({"verbose": True}, logging.INFO),
        ({"debug": True}, logging.DEBUG),
    ],
)
def test_log_level_of_each_verbosity(flags, level) -> None:
    assert log_level(**flags) == level


def test_quiet_and_verbose_together_is_a_usage_error(capsys) -> None:
    assert main(["--quiet", "--verbose", "vocab"]) == 2
    assert "--quiet cannot be combined" in capsys.readouterr().err


def test_quiet_silences_the_synth_table_but_not_json(tmp_path, capsys) -> None:
    args = ["synth", "--persons", "200", "--all-patients", "3", "--profile", "emr"]
    assert main(["--quiet", *args, "--out", str(tmp_path / "a")]) == 0
    assert OUTPUT["quiet"] is True
    assert capsys.readouterr().out == ""
    assert main(["--quiet", *args, "--out", str(tmp_path / "b"), "--json"]) == 0
    assert '"all_patients": 3' in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "c")]) == 0
    assert OUTPUT["quiet"] is False
    assert "allrwe synth: emr, 200 persons" in capsys.readouterr().out


def test_verbose_sets_the_root_log_level(tmp_path, capsys) -> None:
    assert main(["--verbose", "vocab", "--json"]) == 0
    assert logging.getLogger().level == logging.INFO
    assert OUTPUT["verbose"] is True


def test_bash_completion_completes_commands_and_options() -> None:
    code = "from allrwe.cli.app import entry; entry()"
    env = {**os.environ, "_ALLRWE_COMPLETE": "complete_bash", "COMP_CWORD": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "COMP_WORDS": "allrwe sy"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.split()) == (0, ["synth"])
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "COMP_WORDS": "allrwe synth --fo", "COMP_CWORD": "2"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.split() == ["--format"]
