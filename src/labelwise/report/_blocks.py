"""The pieces a report section is made of: text, tables and figures.

Sections are built by the core's report functions and rendered by
:func:`labelwise.report.render_report`; a section never writes files itself.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Figure", "Section", "Table", "Text", "figure_from_matplotlib"]


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text (escaped when rendered)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table with a caption; floats are shown with ``digits`` decimals."""

    frame: pd.DataFrame
    caption: str = ""
    digits: int = 3

    def to_html(self) -> str:
        fmt = {
            c: (lambda v, d=self.digits: "" if pd.isna(v) else f"{v:.{d}f}")
            for c in self.frame.columns
            if pd.api.types.is_float_dtype(self.frame[c])
        }
        return self.frame.to_html(index=False, formatters=fmt, border=0, classes="tbl", na_rep="")  # type: ignore[arg-type]


@dataclass(frozen=True)
class Figure:
    """A PNG image (embedded in the page as base64) with a caption."""

    png: bytes
    caption: str = ""

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def figure_from_matplotlib(fig: Any, caption: str = "", *, dpi: int = 110) -> Figure:
    """Render a matplotlib figure to a :class:`Figure` and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Figure(png=buf.getvalue(), caption=caption)


@dataclass(frozen=True)
class Section:
    """One section of the HTML report: an anchor key, a title and its blocks in order."""

    key: str
    title: str
    blocks: tuple[Text | Table | Figure, ...] = field(default_factory=tuple)
    summary: str = ""
