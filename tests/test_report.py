"""The demo pipeline writes one self-contained HTML report with every section."""

from __future__ import annotations

import pytest

from labelwise.report import Section, Table, Text, render_report
from labelwise.report.demo import DEMO_SECTIONS, run_demo


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


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_demo_writes_every_section(tmp_path):
    path = run_demo(tmp_path, fast=True)
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
