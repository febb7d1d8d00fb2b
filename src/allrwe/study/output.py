"""The output folder of a run: written in a staging folder beside it, moved into place at the end.

The output folder is allrwe's alone. Its marker file is a manifest of the files the run wrote;
a later run replaces the folder only if everything in it is listed there (or it is empty), so
files a user added since (notes, a manuscript, a copy of the CDM) are never deleted: the run
stops first. A failed run leaves the previous complete output untouched and no staging folder
behind; staging folders left by a run that was killed are removed by the next run beside them.
Every filesystem failure is a :class:`~allrwe.errors.UsageError` naming the folder.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import pandas as pd
import yaml

from allrwe.errors import UsageError
from allrwe.spec import StudySpec

__all__ = [
    "MARKER",
    "PATIENT_LEVEL_DIR",
    "StagedOutput",
    "cannot_write",
    "provenance_time",
    "read_manifest",
    "relative_files",
    "write_manifest",
    "write_patient_level",
    "write_spec",
]

logger = logging.getLogger(__name__)

#: manifest that marks a folder as the output of ``allrwe run`` (no suffix: the audit skips it)
MARKER = ".allrwe-output"
#: sub-folder of person-level tables (``--patient-level``): never to leave the site
PATIENT_LEVEL_DIR = "patient_level"
#: first line of the manifest
_HEADER = "allrwe study output"
#: staging and swap folders: ``.<out>.allrwe-<pid>-<random>.partial`` / ``.old``
_STAGING = re.compile(r"^\..+\.allrwe-(\d+)-[^.]+\.(partial|old)$")
#: staging folders of versions before the pid was in the name, removed after a day
_LEGACY_STAGING = re.compile(r"^\..+\.[a-z0-9_]{8}\.(partial|old)$")
_LEGACY_AGE_SECONDS = 86_400
#: names listed in an error message about unknown files
_SHOWN = 3


def relative_files(root: Path) -> list[str]:
    """Return every file under ``root`` as a sorted POSIX path relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def write_manifest(folder: Path, files: Iterable[str]) -> None:
    """Write the manifest of ``folder``: the marker line, then one relative file path a line.

    Parameters
    ----------
    folder : pathlib.Path
        The output folder (or its staging folder).
    files : iterable of str
        The files the run wrote, as POSIX paths relative to ``folder``.
    """
    names = sorted({f for f in files if f != MARKER})
    text = "\n".join([_HEADER, *names]) + "\n"
    (folder / MARKER).write_text(text, encoding="utf-8")


def read_manifest(folder: Path) -> set[str] | None:
    """Return the files listed in the manifest of ``folder``, or None if it has none.

    A marker written before manifests existed lists no file.
    """
    marker = folder / MARKER
    if not marker.is_file() or marker.is_symlink():
        return None
    try:
        with marker.open(encoding="utf-8", errors="replace") as handle:
            lines = handle.read(4_000_000).splitlines()
    except OSError:
        return None
    if not lines or lines[0].strip() != _HEADER:
        return None
    return {line for line in lines[1:] if line and not line.startswith(("pid ", "host "))}


def _entries(root: Path) -> set[str]:
    """Every file, link and folder under ``root`` (links not followed), relative POSIX paths."""
    found: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder).relative_to(root)
        for name in [*dirs, *files]:
            found.add((base / name).as_posix())
    return found


def _allowed(listed: set[str]) -> set[str]:
    allowed = {MARKER, *listed}
    for name in listed:
        allowed.update(p.as_posix() for p in Path(name).parents if p.as_posix() != ".")
    return allowed


def _quote(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return shown + more


def _check_target(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    if not out.is_dir():
        return
    if os.path.ismount(out):
        raise UsageError(
            f"output folder {str(out)!r} is a mount point and cannot be replaced; "
            "choose a folder inside it"
        )
    try:
        entries = _entries(out)
    except OSError as exc:
        raise UsageError(f"cannot read output folder {str(out)!r} ({exc.strerror})") from exc
    if not entries:
        return
    listed = read_manifest(out)
    if listed is None:
        raise UsageError(
            f"output folder {str(out)!r} is not empty and was not written by allrwe run; "
            "choose a new or empty folder"
        )
    unknown = entries - _allowed(listed)
    # a folder the user added is named once, not with everything inside it
    extra = sorted(
        name + ("/" if (out / name).is_dir() and not (out / name).is_symlink() else "")
        for name in unknown
        if not any(p.as_posix() in unknown for p in Path(name).parents)
    )
    if extra:
        raise UsageError(
            f"output folder {str(out)!r} holds {len(extra)} file(s) allrwe run did not write "
            f"({_quote(extra)}); move them or choose a new folder: a run replaces the whole folder"
        )


def _check_protected(out: Path, protected: Iterable[Path]) -> None:
    target = out.resolve()
    for path in protected:
        source = path.resolve()
        if source == target or source.is_relative_to(target) or target.is_relative_to(source):
            raise UsageError(
                f"output folder {str(out)!r} would hold or replace the CDM {str(path)!r}; "
                "choose an output folder outside the CDM's folder"
            )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _is_stale(entry: Path, host: str) -> bool:
    match = _STAGING.match(entry.name)
    if match is not None:
        owner = _staging_host(entry)
        return owner in (host, None) and not _pid_alive(int(match.group(1)))
    if _LEGACY_STAGING.match(entry.name) is None:
        return False
    marked = (entry / MARKER).is_file() or (entry / "previous" / MARKER).is_file()
    return marked and time.time() - entry.stat().st_mtime > _LEGACY_AGE_SECONDS


def _staging_host(entry: Path) -> str | None:
    for marker in (entry / MARKER, entry / "previous" / MARKER):
        try:
            lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()[:3]
        except OSError:
            continue
        for line in lines:
            if line.startswith("host "):
                return line[5:].strip()
    return None


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` left by runs on this machine that are no longer alive.

    Parameters
    ----------
    parent : pathlib.Path
        The folder holding an output folder.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    removed: list[Path] = []
    host = socket.gethostname()
    try:
        candidates = [e for e in parent.iterdir() if e.name.startswith(".")]
    except OSError:
        return removed
    for entry in candidates:
        try:
            stale = entry.is_dir() and not entry.is_symlink() and _is_stale(entry, host)
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            logger.info("removed the staging folder %s of an earlier run", entry)
            removed.append(entry)
    return removed


def cannot_write(out: Path, exc: OSError) -> UsageError:
    """Return the one-line error of a filesystem failure while writing ``out``."""
    reason = exc.strerror or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
    return UsageError(f"cannot write output folder {str(out)!r}: {reason}{where}")


def _check_parents(out: Path) -> None:
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(
                    f"cannot write output folder {str(out)!r}: {str(parent)!r} is not a folder"
                )
            return


class StagedOutput:
    """A staging folder beside ``out`` that replaces ``out`` on :meth:`commit`.

    Use as a context manager: leaving the block without :meth:`commit` (an error) removes
    the staging folder and leaves ``out`` as it was.

    Parameters
    ----------
    out : str or path-like
        The final output folder.
    protect : iterable of pathlib.Path, default ()
        Paths (the CDM's file or folder) that must not be inside ``out`` nor hold it.

    Raises
    ------
    UsageError
        If ``out`` is a file or a mount point, holds files no run wrote, holds a protected path,
        or cannot be written.
    """

    def __init__(self, out: str | os.PathLike[str], *, protect: Iterable[Path] = ()) -> None:
        self.out = Path(out).absolute()
        _check_protected(self.out, protect)
        _check_target(self.out)
        self._committed = False
        _check_parents(self.out)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_staging(self.out.parent)
            self.path = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.out.name}.allrwe-{os.getpid()}-",
                    suffix=".partial",
                    dir=self.out.parent,
                )
            )
        except OSError as exc:
            raise cannot_write(self.out, exc) from exc
        try:
            self.path.chmod(0o755)
            text = f"{_HEADER}\nhost {socket.gethostname()}\npid {os.getpid()}\n"
            (self.path / MARKER).write_text(text, encoding="utf-8")
        except OSError as exc:
            self.discard()
            raise cannot_write(self.out, exc) from exc

    def commit(self) -> Path:
        """Write the manifest and move the staging folder to ``out`` (replacing an earlier run's).

        Raises
        ------
        UsageError
            If ``out`` changed since the start so that it may not be replaced, or the move fails
            (``out`` is then as it was).
        """
        _check_target(self.out)
        try:
            write_manifest(self.path, relative_files(self.path))
            self._swap()
        except OSError as exc:
            raise cannot_write(self.out, exc) from exc
        self._committed = True
        logger.info("output written to %s", self.out)
        return self.out

    def _swap(self) -> None:
        old: Path | None = None
        if self.out.exists():
            old = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.out.name}.allrwe-{os.getpid()}-",
                    suffix=".old",
                    dir=self.out.parent,
                )
            )
            os.replace(self.out, old / "previous")
        try:
            os.replace(self.path, self.out)
        except BaseException:
            if old is not None:
                os.replace(old / "previous", self.out)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> StagedOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.discard()


def write_spec(spec: StudySpec, folder: Path) -> None:
    """Write the spec the run read, defaults filled in, as ``study.yaml`` (in model order)."""
    data = spec.model_dump(mode="json")
    # in the model's order: the report lists mappings (therapy classes, say) in spec order
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
    (folder / "study.yaml").write_text(text, encoding="utf-8")


def write_patient_level(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write the person-level tables to ``folder`` (created), one Parquet file each."""
    folder.mkdir()
    (folder / "README.txt").write_text(
        "Person-level tables of an allrwe run. They identify persons: keep them on site and "
        "never share them.\n",
        encoding="utf-8",
    )
    for name, frame in sorted(tables.items()):
        frame.reset_index(drop=True).to_parquet(folder / f"{name}.parquet", index=False)


def provenance_time(given: str | None) -> str | None:
    """Return the run's timestamp: ``given``, else ``SOURCE_DATE_EPOCH`` (UTC), else None (now).

    ``SOURCE_DATE_EPOCH`` (reproducible builds) makes two runs' outputs byte-identical.
    """
    if given is not None:
        return given
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        stamp = pd.Timestamp(int(epoch.strip()), unit="s", tz="UTC")
        return stamp.isoformat()
    return None
