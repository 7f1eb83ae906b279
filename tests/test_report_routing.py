"""The routing section of the report, on the demo crowd (fast mode)."""

from __future__ import annotations

from labelwise.datasets import load_digits_crowd
from labelwise.report import Figure, Table
from labelwise.report.demo import DEMO_SECTIONS, DemoContext
from labelwise.report.sections import routing


def test_routing_section_fast():
    ctx = DemoContext(crowd=load_digits_crowd(random_state=0), fast=True)
    section = routing.build_section(ctx)
    assert "routing" in DEMO_SECTIONS
    assert section.key == "routing"
    assert "fixed overlap with majority vote needs" in section.summary
    assert any(isinstance(b, Figure) for b in section.blocks)
    tables = [b.frame for b in section.blocks if isinstance(b, Table)]
    reach, pool = tables
    assert set(reach["policy"]) == {"fixed", "dynamic", "eig", "model-eig"}
    r = reach.set_index("policy")
    assert r.loc["eig", "to 0.95"] < r.loc["fixed", "to 0.95"]
    # every spammer copy is stopped by the gold-question skill floor
    spam = pool.set_index("kind copied").loc["spammer"]
    assert spam["blocked by the skill floor"] == spam["annotators"]
    assert "routing_curves" in ctx.shared
