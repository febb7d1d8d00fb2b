"""Renderers of a :class:`~allrwe.report.model.ReportDocument`."""

from allrwe.report.render.html import render_html

__all__ = ["render_html"]
