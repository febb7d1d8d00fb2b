"""Helpers to read a rendered report: tags with URLs, visible text, numbers in data."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.sections: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action", "poster") and value:
                self.urls.append((tag, name, value))
            if name == "data-section" and value:
                self.sections.append(value)
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def parse(html: str) -> _Tags:
    """Parse a report: attribute URLs, ``data-section`` ids, text outside scripts and styles."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def numbers_in(node: Any) -> list[float]:
    """Every number anywhere in a JSON value."""
    if isinstance(node, bool):
        return []
    if isinstance(node, int | float):
        return [float(node)]
    if isinstance(node, dict):
        return [x for v in node.values() for x in numbers_in(v)]
    if isinstance(node, list):
        return [x for v in node for x in numbers_in(v)]
    return []
