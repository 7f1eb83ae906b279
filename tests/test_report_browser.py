"""The report in a real browser (Chromium from Debian, driven by Playwright) at desktop
and phone widths: no sideways scrolling of the page, no console errors, every image
loads and is shown large enough to read, no contents entry split across columns.

Renders the fast demo report and a synthetic page whose section has a very wide table
and figure, so that any section added later gets the same checks for free.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labelwise.report import Section, Table, Text, render_report

CHROMIUM = os.environ.get("LABELWISE_CHROMIUM", "/usr/bin/chromium")
WIDTHS = (1400, 390)


def _browser():
    """Chromium through Playwright; skip (outside CI only) when either is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it with apt-get")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    return sync_playwright


def check_page(path: Path, screenshots: Path | None = None) -> dict[int, dict]:
    """Open ``path`` at each width and return what was measured; assert nothing."""
    sync_playwright = _browser()
    found: dict[int, dict] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors: list[str] = []
                page.on(
                    "console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None
                )
                page.on("pageerror", lambda x, e=errors: e.append(str(x)))
                page.goto(path.resolve().as_uri(), wait_until="load")
                found[width] = page.evaluate(
                    """() => ({
                      scrollWidth: document.documentElement.scrollWidth,
                      innerWidth: window.innerWidth,
                      images: Array.from(document.images).map(i => ({
                        ok: i.complete && i.naturalWidth > 0,
                        natural: i.naturalWidth,
                        shown: i.getBoundingClientRect().width,
                        alt: i.alt})),
                      navFragments: Array.from(document.querySelectorAll('nav li'))
                        .map(li => li.getClientRects().length),
                    })"""
                )
                found[width]["errors"] = errors
                if screenshots is not None:
                    page.screenshot(path=str(screenshots / f"report_{width}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    return found


def assert_page_fits(found: dict[int, dict]) -> None:
    for width, f in found.items():
        assert f["errors"] == [], (width, f["errors"])
        assert f["scrollWidth"] <= f["innerWidth"], (
            f"page scrolls sideways at {width} px: {f['scrollWidth']} px wide"
        )
        assert f["images"], "no image on the page"
        for img in f["images"]:
            assert img["ok"], f"broken image {img['alt']!r} at {width} px"
            # shown at >= 0.6 of its pixel size (or whole): text of >= 9 pt stays >= 8 px
            assert img["shown"] >= min(img["natural"], 0.6 * img["natural"] + 1) - 1, (width, img)
        assert all(n == 1 for n in f["navFragments"]), f"a contents entry is split at {width} px"


def test_wide_table_and_figure_scroll_in_their_own_box(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from labelwise.report import figure_from_matplotlib

    wide = pd.DataFrame(
        np.arange(60.0).reshape(2, 30) / 7, columns=[f"column {i}" for i in range(30)]
    )
    fig, ax = plt.subplots(figsize=(14, 3))
    ax.plot(np.arange(10), np.arange(10) ** 2, label="a long legend entry")
    ax.legend(fontsize=5)
    section = Section(
        key="wide",
        title="A section with a very long title that must wrap on a phone screen",
        summary="x" * 300,
        blocks=(Text("averyveryverylongwordwithoutanyspace" * 4), Table(wide, caption="wide"),
                figure_from_matplotlib(fig, "a 14-inch figure")),
    )  # fmt: skip
    page = render_report([section, section], tmp_path / "index.html")
    assert_page_fits(check_page(page))


def test_demo_report_in_chromium_at_desktop_and_phone_width(demo_report_path, tmp_path):
    shots = Path(os.environ.get("LABELWISE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    found = check_page(demo_report_path, screenshots=shots)
    assert_page_fits(found)
    assert len(found[390]["images"]) >= 5
    assert (shots / "report_390.png").stat().st_size > 10_000
