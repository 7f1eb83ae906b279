"""The pieces a report section is made of: text, tables and figures.

Sections are built by the core's report functions and rendered by
:func:`labelwise.report.render_report`; a section never writes files itself.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Figure", "Section", "Table", "Text", "figure_from_matplotlib"]


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text (escaped when rendered)."""

    text: str


def _is_whole(column: pd.Series) -> bool:
    """A float column that holds counts: every finite value whole, not all within [0, 1]
    (so a column of accuracies that happen to be 0 or 1 keeps its decimals)."""
    values = column.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return (
        bool(finite.size)
        and bool(np.all(finite == np.round(finite)))
        and bool(np.abs(finite).max() > 1)
    )


def _format_float(value: Any, digits: int) -> str:
    if pd.isna(value):
        return ""
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{round(float(value), digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.000"


@dataclass(frozen=True)
class Table:
    """A table with a caption.

    Floats are shown with ``digits`` decimals, except float columns that hold whole
    numbers (counts that became floats through a missing value), which print as
    integers; infinities print as ``∞``.
    """

    frame: pd.DataFrame
    caption: str = ""
    digits: int = 3

    def to_html(self) -> str:
        fmt = {}
        for c in self.frame.columns:
            if not pd.api.types.is_float_dtype(self.frame[c]):
                continue
            digits = 0 if _is_whole(self.frame[c]) else self.digits
            fmt[c] = lambda v, d=digits: _format_float(v, d)
        return self.frame.to_html(index=False, formatters=fmt, border=0, classes="tbl", na_rep="")  # type: ignore[arg-type]


#: Smallest font (points) a figure's text is given when rendered for the report.
MIN_FONT_PT = 9.0
#: A figure is never shown narrower than this share of its pixel width (or 600 px, if
#: that is wider), so that its text stays readable on a phone: it scrolls instead.
MIN_SCALE = 0.65


@dataclass(frozen=True)
class Figure:
    """A PNG image (embedded in the page as base64) with a caption."""

    png: bytes
    caption: str = ""

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, read from the PNG header; (0, 0) if not a PNG."""
        if self.png[:8] != b"\x89PNG\r\n\x1a\n" or len(self.png) < 24:
            return 0, 0
        return int.from_bytes(self.png[16:20], "big"), int.from_bytes(self.png[20:24], "big")

    @property
    def min_width(self) -> int:
        """Narrowest on-screen width (CSS px) that keeps the figure's text readable."""
        width = self.size[0]
        return min(width, max(600, round(MIN_SCALE * width)))


def figure_from_matplotlib(fig: Any, caption: str = "", *, dpi: int = 110) -> Figure:
    """Render a matplotlib figure to a :class:`Figure` and close it."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text as MplText

    # a figure is shown at about 0.65-1x its pixel size: smaller text is unreadable
    for text in fig.findobj(MplText):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)
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
