"""CDM URLs: Ibis's form (``scheme:///abs/path``), allrwe 0.1's older forms, and local paths.

The rule this module owns: ``duckdb:///abs/path`` is absolute and ``duckdb://rel/path``
relative, as Ibis reads them; allrwe 0.1's forms still work with a :class:`UrlFormWarning`;
passwords never appear in messages (:func:`redact`).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from allrwe.errors import AllrweWarning

__all__ = ["URL_HINT", "UrlFormWarning", "cdm_url", "local_path", "redact", "url_path"]


class UrlFormWarning(AllrweWarning):
    """A URL in a form allrwe still reads but will not in a later release."""


def cdm_url(path: str | Path, kind: str) -> str:
    """Return the URL of a DuckDB file or Parquet folder, in Ibis's form (absolute path).

    Parameters
    ----------
    path : str or pathlib.Path
        The file or folder; made absolute.
    kind : {"duckdb", "parquet", "csv"}
        The scheme.

    Returns
    -------
    str
        ``duckdb:///abs/path`` or ``parquet:///abs/path``.

    Examples
    --------
    >>> cdm_url("/data/cdm.duckdb", "duckdb")
    'duckdb:///data/cdm.duckdb'
    """
    return f"{kind}://{Path(path).absolute().as_posix()}"


def local_path(url: Any) -> Path | None:
    """Return the file or folder of a local CDM URL (DuckDB or Parquet), else None.

    Parameters
    ----------
    url : str, pathlib.Path or object
        A CDM as :func:`connect` takes it (an open source or backend gives None).

    Returns
    -------
    pathlib.Path or None
        The DuckDB file or Parquet folder; None for a server or an unknown form.
    """
    if not isinstance(url, (str, os.PathLike)):
        return None
    text = os.fspath(url)
    if "://" not in text:
        return Path(text) if text.endswith(".duckdb") or Path(text).is_dir() else None
    parsed = urlparse(text)
    if parsed.scheme.lower() not in ("duckdb", "parquet"):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # connect() warns about an old URL form once
        return url_path(parsed)


def url_path(parsed: Any) -> Path:
    """Return the path of a ``duckdb:`` or ``parquet:`` URL, as Ibis reads it.

    ``duckdb:///abs/path`` is absolute and ``duckdb://rel/path`` relative (the host part is
    the first folder). allrwe 0.1's forms still work, with a :class:`UrlFormWarning`:
    ``duckdb:////abs/path``, and ``duckdb:///rel/path`` when ``/rel/path`` does not exist
    but ``rel/path`` does.
    """
    raw = unquote(parsed.path)
    if parsed.netloc:
        return Path(unquote(parsed.netloc) + raw)
    scheme = parsed.scheme.lower()
    if raw.startswith("//"):
        path = Path("/" + raw.lstrip("/"))
        _warn_url_form(f"{scheme}:////{raw.lstrip('/')}", f"{scheme}://{path.as_posix()}")
        return path
    path = Path(raw or ".")
    relative = Path(raw.lstrip("/"))
    if path.is_absolute() and not path.exists() and raw.lstrip("/") and relative.exists():
        _warn_url_form(f"{scheme}://{raw}", f"{scheme}://{relative.as_posix()}", relative_path=True)
        return relative
    return path


URL_HINT = (
    "(an absolute path follows three slashes, {0}:///abs/path; a relative one two, {0}://rel/path)"
)


def _warn_url_form(given: str, ibis_form: str, *, relative_path: bool = False) -> None:
    meaning = "a relative path" if relative_path else "an absolute path"
    warnings.warn(
        f"{given!r} is allrwe 0.1's URL form for {meaning}; write {ibis_form!r} "
        "(Ibis's form: three slashes and an absolute path, or scheme://relative/path)",
        UrlFormWarning,
        stacklevel=4,
    )


def redact(text: str) -> str:
    """Return ``text`` with the password of a URL replaced by ``***``."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", text)
