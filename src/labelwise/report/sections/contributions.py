"""Report section: what each annotator's answers are worth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from labelwise.contrib import annotator_contributions
from labelwise.report._blocks import Section, Table, Text

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section"]


def build_section(ctx: DemoContext) -> Section:
    """Contributions of the demo crowd's annotators against their true accuracy."""
    ann, truth = ctx.crowd.annotations, ctx.crowd.truth
    frame = annotator_contributions(ann, gold=truth.astype(np.int32), exact=not ctx.fast)
    known = truth[ann.item] >= 0
    hits = np.bincount(
        ann.worker[known], weights=(ann.label == truth[ann.item])[known], minlength=ann.n_workers
    )
    true_acc = pd.Series(
        hits / np.maximum(np.bincount(ann.worker[known], minlength=ann.n_workers), 1),
        index=ann.worker_ids,
    )
    kind = pd.Series(
        ctx.crowd.worker_kind if ctx.crowd.worker_kind is not None else "", index=ann.worker_ids
    )
    frame = frame.assign(
        kind=frame["worker"].map(kind), true_accuracy=frame["worker"].map(true_acc)
    )
    rho = float(spearmanr(frame["information"], frame["true_accuracy"])[0])
    ctx.shared["contribution_spearman"] = rho
    cols = ["worker", "kind", "n_answers", "true_accuracy", "information", "contribution"]
    extra = [c for c in ("loo_contribution", "loo_accuracy_delta") if c in frame]
    agree = ""
    if "loo_contribution" in frame:
        r = float(spearmanr(frame["contribution"], frame["loo_contribution"])[0])
        agree = f" The one-fit approximation ranks like exact leave-one-out (Spearman {r:.2f})."
    return Section(
        key="contributions",
        title="What each annotator's answers are worth",
        summary=(
            f"Spearman correlation between annotators' information and their true accuracy: "
            f"{rho:.2f}.{agree}"
        ),
        blocks=(
            Text(
                "information: bits each answer carries about the true class under the "
                "consensus model, summed over the annotator's answers (answers at chance add "
                "nothing, wrong ones subtract). contribution: probability the consensus "
                "moves onto the true class thanks to their answers, read off one fit; "
                "loo_contribution the same by refitting without them. Answer counts alone do "
                "not rank: spammers and one-label annotators answer as much as anyone."
            ),
            Table(frame[cols + extra], caption="Annotators, least informative first"),
        ),
    )
