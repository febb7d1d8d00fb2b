"""The pieces every inline SVG figure is drawn with: text, axes, legend, frame, hatching.

Shared by :mod:`allrwe.report.render.svg` (curves, bars, forest plots) and
:mod:`allrwe.report.render.svg_patterns` (treatment-pattern figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_W = 720.0
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
_DASHES = ("", "6 3", "2 2", "8 3 2 3")


def _f(v: float) -> str:
    """Format a coordinate with one decimal, no trailing zeros."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _px(v: float) -> str:
    """Format a coordinate of a curve, band or mark to the whole pixel (they are many)."""
    return str(round(v))


def _text(x: float, y: float, s: str, size: float = 11, anchor: str = "middle", **kw: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in kw.items())
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" text-anchor="{anchor}"{extra}>'
        f"{escape(str(s))}</text>"
    )


def _width(s: str, size: float = 11) -> float:
    """Rough width of a text in pixels (DejaVu Sans averages 0.6 em)."""
    return 0.6 * size * len(s)


def _svg(height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(_W)} {_f(height)}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {_FONT} fill="#1a1a1a">'
        + "".join(body)
        + "</svg>"
    )


class _Axes:
    """Maps data to pixels inside a plot rectangle."""

    def __init__(
        self, left: float, top: float, width: float, height: float, xmax: float, ymax: float
    ) -> None:
        self.left, self.top, self.width, self.height = left, top, width, height
        self.xmax, self.ymax = max(xmax, 1e-9), max(ymax, 1e-9)

    def x(self, v: float) -> float:
        return self.left + self.width * min(v, self.xmax) / self.xmax

    def y(self, v: float) -> float:
        return self.top + self.height * (1 - min(max(v, 0.0), self.ymax) / self.ymax)


def _legend(items: list[tuple[str, str, str]], x0: float, y: float) -> tuple[list[str], float]:
    """Lay out legend keys ``(name, colour, dash)`` in wrapping rows; return parts, end y."""
    out: list[str] = []
    x = x0
    for name, colour, dash in items:
        w = 30 + _width(name, 11) + 18
        if x + w > _W - 10 and x > x0:
            x, y = x0, y + 18
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(y - 4)}" x2="{_f(x + 24)}" y2="{_f(y - 4)}" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_text(x + 30, y, name, 11, "start"))
        x += w
    return out, y


def _frame(
    ax: _Axes, xticks: Sequence[float], yticks: Sequence[float], xlabel: str, ylabel: str
) -> list[str]:
    bottom = ax.top + ax.height
    out = [
        f'<path d="M{_f(ax.left)} {_f(ax.top)}V{_f(bottom)}H{_f(ax.left + ax.width)}" '
        'fill="none" stroke="#444"/>'
    ]
    for t in xticks:
        x = ax.x(t)
        out.append(f'<path d="M{_f(x)} {_f(bottom)}v5" stroke="#444"/>')
        out.append(_text(x, bottom + 18, f"{t:g}", 11))
    for t in yticks:
        y = ax.y(t)
        out.append(f'<path d="M{_f(ax.left - 5)} {_f(y)}H{_f(ax.left + ax.width)}" stroke="#eee"/>')
        out.append(_text(ax.left - 8, y + 4, f"{t:g}", 11, "end"))
    out.append(_text(ax.left + ax.width / 2, bottom + 38, xlabel, 12))
    cy = ax.top + ax.height / 2
    out.append(_text(16, cy, ylabel, 12, transform=f"rotate(-90 16 {_f(cy)})"))
    return out


def _hatch(figure_id: str) -> str:
    return (
        f'<defs><pattern id="hatch-{figure_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>'
    )
