"""The near-duplicate / split / version section of the demo report."""

from __future__ import annotations

import re

import pytest

from labelwise.datasets import load_digits_crowd
from labelwise.report.demo import DEMO_SECTIONS, DemoContext
from labelwise.report.sections.near_duplicates import N_PLANTED, build_section
from labelwise.versions import load_version


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def test_section_finds_planted_copies_splits_them_whole_and_links_its_version(tmp_path):
    assert "versions" in DEMO_SECTIONS
    ctx = DemoContext(crowd=load_digits_crowd(random_state=0), fast=True, out_dir=tmp_path)
    section = build_section(ctx)
    found = int(re.search(rf"\((\d+)/{N_PLANTED} planted found\)", section.summary).group(1))
    assert found >= 0.6 * N_PLANTED
    assert " 0 cross the labelwise split" in section.summary
    v = load_version(tmp_path / "versions", "demo")
    assert v.manifest_sha256[:12] in section.summary
    assert v.manifest["aggregation"]["method"] == "DawidSkene"
    removed = v.items[v.items["status"] == "removed"]
    assert len(removed) and removed["reason"].str.startswith("near duplicate of item").all()
    assert any(getattr(b, "png", None) for b in section.blocks)
