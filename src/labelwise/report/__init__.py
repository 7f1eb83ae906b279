"""The HTML report: sections of text, tables and figures in one self-contained page.

Each part of labelwise contributes a section builder under
``labelwise.report.sections``; :mod:`labelwise.report.demo` runs them all on the
embedded default data (``labelwise demo`` / ``make demo``).
"""

from __future__ import annotations

from labelwise.report._blocks import Figure, Section, Table, Text, figure_from_matplotlib
from labelwise.report._render import render_html, render_report

__all__ = [
    "Figure",
    "Section",
    "Table",
    "Text",
    "figure_from_matplotlib",
    "render_html",
    "render_report",
]
