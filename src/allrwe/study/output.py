"""The output folder of a run: written in a staging folder beside it, moved into place at the end.

A failed run leaves the previous complete output untouched and no partial folder behind. A
folder is replaced only if it is empty or was written by an earlier run (it holds the marker
file), so a mistyped ``--out`` cannot wipe unrelated files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from allrwe.errors import UsageError

__all__ = ["MARKER", "PATIENT_LEVEL_DIR", "StagedOutput", "relative_files"]

logger = logging.getLogger(__name__)

#: file that marks a folder as the output of ``allrwe run`` (no suffix: the audit skips it)
MARKER = ".allrwe-output"
#: sub-folder of person-level tables (``--patient-level``): never to leave the site
PATIENT_LEVEL_DIR = "patient_level"


def relative_files(root: Path) -> list[str]:
    """Return every file under ``root`` as a sorted POSIX path relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"output folder {str(out)!r} is not empty and was not written by allrwe run; "
            "choose a new or empty folder"
        )


class StagedOutput:
    """A staging folder beside ``out`` that replaces ``out`` on :meth:`commit`.

    Use as a context manager: leaving the block without :meth:`commit` (an error) removes
    the staging folder and leaves ``out`` as it was.

    Parameters
    ----------
    out : str or path-like
        The final output folder.

    Raises
    ------
    UsageError
        If ``out`` is a file, or a non-empty folder without the marker of an earlier run.
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out).absolute()
        _check_target(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(
            tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".partial", dir=self.out.parent)
        )
        self.path.chmod(0o755)
        (self.path / MARKER).write_text("allrwe study output\n", encoding="utf-8")
        self._committed = False

    def commit(self) -> Path:
        """Move the staging folder to ``out`` (replacing an earlier run's output)."""
        _check_target(self.out)
        old: Path | None = None
        if self.out.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".old", dir=self.out.parent)
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
        self._committed = True
        logger.info("output written to %s", self.out)
        return self.out

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
