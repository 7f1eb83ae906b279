"""The demo pipeline writes one self-contained HTML report with every section."""

from __future__ import annotations

from labelwise.report import Section, Table, Text, render_report
from labelwise.report.demo import DEMO_SECTIONS


def test_render_report_escapes_text_and_writes_atomically(tmp_path):
    import pandas as pd

    path = render_report(
        [
            Section(
                key="s", title="T", blocks=(Text("<b>x</b>"), Table(pd.DataFrame({"a": [1.23456]})))
            )
        ],
        tmp_path / "r" / "index.html",
    )
    html = path.read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "1.235" in html
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]


def test_demo_writes_every_section(demo_report_path):
    path = demo_report_path
    html = path.read_text()
    assert path.name == "index.html"
    assert "Crowd label aggregation" in html and "Dawid-Skene" in html
    for name in DEMO_SECTIONS:
        assert f'id="{name}"' in html
    assert html.count("data:image/png;base64,") >= 1


def test_written_files_get_the_usual_permissions(tmp_path):
    import os

    from labelwise.io import atomic_write

    path = atomic_write(tmp_path / "x.txt", lambda p: p.write_text("hi"))
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)
    assert path.read_text() == "hi"


def test_tables_print_counts_as_integers_and_no_negative_zero():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "count": [165.0, 12.0, np.nan],  # floats only because of the missing value
            "accuracy": [1.0, 0.0, 1.0],  # whole, but a share: keeps its decimals
            "gain": [-0.0001, 0.25, np.inf],
            "ok": [True, False, True],
        }
    )
    html = Table(frame).to_html()
    assert ">165<" in html and ">12<" in html and "165.000" not in html
    assert ">1.000<" in html and ">0.000<" in html
    assert "-0.000" not in html and "∞" in html


def test_report_figures_keep_readable_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labelwise.report import figure_from_matplotlib
    from labelwise.report._blocks import MIN_FONT_PT

    fig, ax = plt.subplots(figsize=(10, 3))
    ax.set_title("tiny", fontsize=4)
    ax.plot([0, 1], [0, 1], label="x")
    ax.legend(fontsize=5)
    sizes = []
    fig.canvas.mpl_connect("draw_event", lambda e: sizes.extend(
        t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()
    ))  # fmt: skip
    out = figure_from_matplotlib(fig, "c", dpi=100)
    assert min(sizes) >= MIN_FONT_PT
    width, height = out.size
    assert 600 < width < 1100 and height > 150
    assert out.min_width == max(600, round(0.65 * width))
