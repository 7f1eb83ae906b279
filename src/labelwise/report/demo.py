"""The demo pipeline: every part of labelwise run on the embedded default data.

``run_demo`` builds the shared :class:`DemoContext` (scikit-learn's digits and a
simulated crowd with a fixed seed), calls each section builder in
:data:`DEMO_SECTIONS` in order and writes one HTML report. A later part of
labelwise adds its section by appending ``(name, builder)`` here; a builder takes
the context and returns a :class:`~labelwise.report.Section`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from labelwise.datasets import CrowdDataset, load_digits_crowd
from labelwise.report._blocks import Section
from labelwise.report._render import render_report

__all__ = ["DEMO_SECTIONS", "DemoContext", "run_demo"]

log = logging.getLogger(__name__)


@dataclass
class DemoContext:
    """What every demo section may read: the default data, the seed, a scratch dict.

    ``fast`` asks sections to shrink their work (fewer seeds and rounds), as the
    tests do. ``shared`` lets a later section reuse an earlier one's results.
    """

    crowd: CrowdDataset
    random_state: int = 0
    fast: bool = False
    out_dir: Path = Path("report")
    shared: dict[str, Any] = field(default_factory=dict)


SectionBuilder = Callable[[DemoContext], Section]


def _builders() -> list[tuple[str, SectionBuilder]]:
    # imported here so that importing labelwise.report stays light
    from labelwise.report.sections import (
        active,
        aggregation,
        audit,
        calibration,
        near_duplicates,
        planning,
    )
    from labelwise.report.sections import contributions as contributions_section
    from labelwise.report.sections import engine as engine_section
    from labelwise.report.sections import routing as routing_section
    from labelwise.report.sections import weak as weak_section

    # the order of a labeling project: turn answers into labels, decide who labels
    # what, choose what to label, find what is wrong, plan what more to buy
    return [
        ("aggregation", aggregation.build_section),
        ("calibration", calibration.build_section),
        ("contributions", contributions_section.build_section),
        ("weak", weak_section.build_section),
        ("routing", routing_section.build_section),
        ("active", active.build_section),
        ("audit", audit.build_section),
        ("versions", near_duplicates.build_section),
        ("planning", planning.build_section),
        ("engine", engine_section.build_section),
    ]


#: Names of the sections, in report order (the builders are resolved lazily).
DEMO_SECTIONS: tuple[str, ...] = (
    "aggregation",
    "calibration",
    "contributions",
    "weak",
    "routing",
    "active",
    "audit",
    "versions",
    "planning",
    "engine",
)


def run_demo(
    out_dir: str | Path = "report",
    *,
    random_state: int = 0,
    fast: bool = False,
    only: tuple[str, ...] | None = None,
    on_section: Callable[[str, float], None] | None = None,
) -> Path:
    """Run every demo section and write ``out_dir/index.html``; return its path.

    ``on_section(name, seconds)`` is called after each section (the CLI's progress).
    """
    out = Path(out_dir)
    ctx = DemoContext(
        crowd=load_digits_crowd(random_state=random_state),
        random_state=random_state,
        fast=fast,
        out_dir=out,
    )
    sections: list[Section] = []
    for name, build in _builders():
        if only is not None and name not in only:
            continue
        start = time.perf_counter()
        section = build(ctx)
        sections.append(replace(section, title=f"{len(sections) + 1}. {section.title}"))
        took = time.perf_counter() - start
        log.info("demo section %s took %.1f s", name, took)
        if on_section is not None:
            on_section(name, took)
    subtitle = (
        f"Default data: scikit-learn's digits ({ctx.crowd.annotations.n_items} items) labeled by a "
        f"simulated crowd of {ctx.crowd.annotations.n_workers} annotators, seed {random_state}."
    )
    return render_report(sections, out / "index.html", title="labelwise report", subtitle=subtitle)
