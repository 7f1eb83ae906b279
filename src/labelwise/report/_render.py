"""Render report sections into one self-contained HTML page (figures embedded)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from labelwise.io import atomic_write
from labelwise.report._blocks import Figure, Section, Table, Text

__all__ = ["render_html", "render_report"]


def _block_view(block: Text | Table | Figure) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"kind": "text", "text": block.text}
    if isinstance(block, Table):
        return {"kind": "table", "html": block.to_html(), "caption": block.caption}
    width, height = block.size
    return {
        "kind": "figure",
        "uri": block.data_uri,
        "caption": block.caption,
        "width": width,
        "height": height,
        "min_width": block.min_width,
    }


def render_html(sections: Sequence[Section], *, title: str, subtitle: str = "") -> str:
    """Return the report page as an HTML string."""
    env = Environment(
        loader=PackageLoader("labelwise.report", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    views = [
        {
            "key": s.key,
            "title": s.title,
            "summary": s.summary,
            "blocks": [_block_view(b) for b in s.blocks],
        }
        for s in sections
    ]
    return env.get_template("report.html").render(title=title, subtitle=subtitle, sections=views)


def render_report(
    sections: Sequence[Section],
    path: str | Path,
    *,
    title: str = "labelwise report",
    subtitle: str = "",
) -> Path:
    """Write the report to ``path`` (atomically: no half-written page on failure)."""
    html = render_html(sections, title=title, subtitle=subtitle)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
