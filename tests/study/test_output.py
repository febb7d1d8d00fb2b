"""The output folder is allrwe's alone: manifest, refusals, stale staging, filesystem failures."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from study_paths import DEMO_SPEC

from allrwe.cli.app import main
from allrwe.errors import UsageError
from allrwe.io.source import local_path
from allrwe.io.write import parquet_dir_to_duckdb
from allrwe.study import run_study, runner
from allrwe.study.output import (
    MARKER,
    StagedOutput,
    read_manifest,
    remove_stale_staging,
    write_manifest,
)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _previous_run(out: Path) -> dict[str, bytes]:
    out.mkdir()
    (out / "figures").mkdir()
    (out / "report.html").write_text("previous report")
    (out / "figures" / "km.png").write_bytes(b"png")
    write_manifest(out, ["report.html", "figures/km.png"])
    return _snapshot(out)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_commit_writes_a_manifest_of_every_file(tmp_path):
    out = tmp_path / "out"
    with StagedOutput(out) as staged:
        (staged.path / "sub").mkdir()
        (staged.path / "sub" / "a.csv").write_text("a")
        (staged.path / "b.html").write_text("b")
        staged.commit()
    assert read_manifest(out) == {"sub/a.csv", "b.html"}
    assert (out / MARKER).read_text().splitlines() == ["allrwe study output", "b.html", "sub/a.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_run_replaces_only_the_files_a_run_wrote(tmp_path):
    out = tmp_path / "out"
    _previous_run(out)
    with StagedOutput(out) as staged:
        (staged.path / "report.html").write_text("new report")
        staged.commit()
    assert _snapshot(out) == {
        MARKER: b"allrwe study output\nreport.html\n",
        "report.html": b"new report",
    }


@pytest.mark.parametrize(
    ("added", "named"),
    [
        ("NOTES.md", "NOTES.md"),
        ("manuscript/draft.docx", "manuscript/"),
        ("figures/mine.png", "figures/mine.png"),
        ("cdm.duckdb", "cdm.duckdb"),
    ],
)
def test_a_file_the_user_added_refuses_the_folder_and_keeps_everything(tmp_path, added, named):
    out = tmp_path / "out"
    _previous_run(out)
    (out / added).parent.mkdir(parents=True, exist_ok=True)
    (out / added).write_text("the user's")
    before = _snapshot(out)
    with pytest.raises(UsageError, match=r"holds 1 file\(s\) allrwe run did not write") as info:
        StagedOutput(out)
    assert f"did not write ({named!r})" in str(info.value)
    assert info.value.exit_code == 2
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_folder_the_user_added_refuses_the_folder(tmp_path):
    out = tmp_path / "out"
    _previous_run(out)
    (out / "manuscript").mkdir()
    with pytest.raises(UsageError, match=r"\('manuscript/'\)"):
        StagedOutput(out)
    assert (out / "manuscript").is_dir()


def test_a_marker_without_a_file_list_protects_every_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("allrwe study output\n")
    (out / "report.html").write_text("older version's report")
    with pytest.raises(UsageError, match=r"did not write \('report.html'\)"):
        StagedOutput(out)
    assert (out / "report.html").read_text() == "older version's report"


def test_a_file_added_during_the_run_stops_the_commit(tmp_path):
    out = tmp_path / "out"
    _previous_run(out)
    before = _snapshot(out)
    with StagedOutput(out) as staged:
        (staged.path / "report.html").write_text("new")
        (out / "NOTES.md").write_text("written while the run ran")
        with pytest.raises(UsageError, match=r"'NOTES\.md'"):
            staged.commit()
    assert _snapshot(out) == {**before, "NOTES.md": b"written while the run ran"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_many_unknown_files_are_counted_and_three_named(tmp_path):
    out = tmp_path / "out"
    _previous_run(out)
    for i in range(5):
        (out / f"n{i}.txt").write_text("x")
    with pytest.raises(UsageError, match=r"holds 5 file\(s\).*'n2.txt' and 2 more"):
        StagedOutput(out)


def test_the_reproducer_notes_manuscript_and_the_cdm_inside_out(emr_cdm, tmp_path):
    # issue 17: a previous run's folder holding the user's notes, a manuscript and the CDM
    cdm_folder = local_path(emr_cdm)
    assert cdm_folder is not None
    assert cdm_folder.is_dir()
    out = tmp_path / "prev"
    _previous_run(out)
    (out / "NOTES.md").write_text("notes")
    (out / "manuscript").mkdir()
    (out / "manuscript" / "draft.docx").write_bytes(b"docx")
    assert parquet_dir_to_duckdb(cdm_folder, out / "cdm.duckdb")["person"] == 1200
    before = _snapshot(out)
    with pytest.raises(UsageError, match="would hold or replace the CDM") as info:
        run_study(DEMO_SPEC, f"duckdb:///{out / 'cdm.duckdb'}", out)
    assert info.value.exit_code == 2
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prev"]


@pytest.mark.parametrize("where", ["inside", "same", "parent"])
def test_an_out_that_holds_or_is_inside_the_cdm_is_refused(tmp_path, where):
    cdm = tmp_path / "cdm"
    cdm.mkdir()
    (cdm / "person.parquet").write_bytes(b"PAR1")
    out = {"inside": cdm / "out", "same": cdm, "parent": tmp_path}[where]
    with pytest.raises(UsageError, match="would hold or replace the CDM"):
        StagedOutput(out, protect=[cdm])
    assert sorted(p.name for p in cdm.iterdir()) == ["person.parquet"]


def test_local_path_reads_duckdb_and_parquet_urls_only(tmp_path):
    assert local_path("duckdb:///data/cdm.duckdb") == Path("/data/cdm.duckdb")
    assert local_path("duckdb://rel/cdm.duckdb") == Path("rel/cdm.duckdb")
    assert local_path("parquet:///abs/cdm") == Path("/abs/cdm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old form is read silently: connect() warns
        assert local_path("duckdb:////data/cdm.duckdb") == Path("/data/cdm.duckdb")
    assert local_path("x/cdm.duckdb") == Path("x/cdm.duckdb")
    assert local_path(tmp_path) == tmp_path
    assert local_path("postgresql://u@h/db?schema=cdm") is None
    assert local_path("spark://") is None


def _staging(parent: Path, pid: int, *, host: str, suffix: str = "partial") -> Path:
    folder = parent / f".out.allrwe-{pid}-abcd1234.{suffix}"
    folder.mkdir()
    (folder / MARKER).write_text(f"allrwe study output\nhost {host}\npid {pid}\n")
    (folder / "report.html").write_text("an unaudited report")
    return folder


def test_staging_folders_of_dead_runs_are_removed(tmp_path):
    here = socket.gethostname()
    dead = _staging(tmp_path, _dead_pid(), host=here)
    old = _staging(tmp_path, _dead_pid(), host=here, suffix="old")
    alive = _staging(tmp_path, os.getpid(), host=here)
    elsewhere = _staging(tmp_path, _dead_pid(), host=here + "-other-host")
    user = tmp_path / ".out.mine.partial"
    user.mkdir()
    removed = remove_stale_staging(tmp_path)
    assert sorted(removed) == sorted([dead, old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, elsewhere.name, user.name]
    )


def test_a_new_run_cleans_the_staging_of_a_killed_one(tmp_path):
    dead = _staging(tmp_path, _dead_pid(), host=socket.gethostname())
    nested = dead.parent / f".{dead.name}.allrwe-{_dead_pid()}-k3j4h5g6.partial"
    nested.mkdir()
    out = tmp_path / "out"
    with StagedOutput(out) as staged:
        (staged.path / "report.html").write_text("new")
        staged.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_killed_run_leaves_a_staging_folder_the_next_run_removes(tmp_path):
    out = tmp_path / "out"
    code = (
        "import os, signal; from allrwe.study.output import StagedOutput; "
        f"s = StagedOutput({str(out)!r}); os.kill(os.getpid(), signal.SIGKILL)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, check=False)
    assert proc.returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1
    assert left[0].startswith(".out.allrwe-")
    assert left[0].endswith(".partial")
    with StagedOutput(out) as staged:
        staged.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("afile/out", "afile' is not a folder"),
        ("/dev/full/x", "'/dev/full' is not a folder"),
        ("/proc/self/x", ""),
    ],
)
def test_an_unwritable_place_is_one_usage_error(tmp_path, target, reason):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / target if not target.startswith("/") else Path(target)
    with pytest.raises(UsageError, match=f"cannot write output folder .*{reason}") as info:
        StagedOutput(out)
    assert info.value.exit_code == 2
    assert (tmp_path / "afile").read_text() == "x"


def test_a_mount_point_is_refused(tmp_path):
    with pytest.raises(UsageError, match="is a mount point"):
        StagedOutput("/proc")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.EROFS, "Read-only file system"),
        (errno.EACCES, "Permission denied"),
        (errno.ENOSPC, "No space left on device"),
    ],
)
def test_a_parent_that_cannot_be_written_is_one_usage_error(tmp_path, monkeypatch, code, reason):
    # as root the permission bits do not stop a write, so the failure is injected
    def refuse(*args: object, **kwargs: object) -> str:
        raise OSError(code, os.strerror(code), str(tmp_path))

    monkeypatch.setattr("allrwe.study.output.tempfile.mkdtemp", refuse)
    with pytest.raises(UsageError, match=reason):
        StagedOutput(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_move_restores_the_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = _previous_run(out)
    real = os.replace

    def refuse_the_new_folder(src: object, dst: object) -> None:
        if str(src).endswith(".partial"):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(src))
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("allrwe.study.output.os.replace", refuse_the_new_folder)
    with StagedOutput(out) as staged:
        (staged.path / "report.html").write_text("new")
        with pytest.raises(UsageError, match="Invalid cross-device link"):
            staged.commit()
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_full_disk_mid_run_keeps_the_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = _previous_run(out)

    def fill_the_disk(spec, vocab, cdm_url, staged, *args: object) -> dict[str, object]:
        (staged.path / "report.html").write_text("half a report")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staged.path / "results.xlsx"))

    monkeypatch.setattr(runner, "_run", fill_the_disk)
    with pytest.raises(UsageError, match=r"No space left on device \(.*results.xlsx\)") as info:
        run_study(DEMO_SPEC, "duckdb:///nowhere.duckdb", out)
    assert info.value.exit_code == 2
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_command_line_prints_one_error_line(tmp_path, capsys, emr_cdm):
    (tmp_path / "afile").write_text("x")
    code = main(["run", str(DEMO_SPEC), "--cdm", emr_cdm, "--out", str(tmp_path / "afile/out")])
    captured = capsys.readouterr()
    assert code == 2
    # the progress line may precede it; the error itself is one line
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: cannot write output folder")
    assert errors[0].endswith("afile' is not a folder")
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("vocab", ["/tmp", "/dev/zero"])
def test_a_vocab_option_that_is_no_file_is_one_error_line(tmp_path, capsys, emr_cdm, vocab):
    # issue 17: --vocab /tmp gave a traceback, --vocab /dev/zero grew to 24 GB
    out = tmp_path / "out"
    args = ["run", str(DEMO_SPEC), "--cdm", emr_cdm, "--out", str(out), "--vocab", vocab]
    code = main(args)
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert code == 1
    assert errors == [errors[0]]
    assert f"vocabulary file '{vocab}' is" in errors[0]
    assert "Traceback" not in captured.err
    assert not out.exists()
