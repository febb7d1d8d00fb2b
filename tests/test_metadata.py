"""Package metadata in pyproject.toml: the project URLs PyPI shows."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_project_urls_name_homepage_docs_issues_and_source_of_one_repository() -> None:
    urls = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["urls"]
    assert sorted(urls) == ["Documentation", "Homepage", "Issues", "Source"]
    base = urls["Source"]
    assert base.startswith("https://")
    assert urls["Homepage"] == base
    assert urls["Issues"] == f"{base}/issues"
    assert urls["Documentation"].startswith(f"{base}/")
