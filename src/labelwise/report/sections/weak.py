"""Report section: labels without labelers (labeling functions and their label model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from labelwise.report._blocks import Section, Table, Text
from labelwise.weak import LabelModel, VoteMatrix, function_summary, majority_vote, prototype_votes

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section", "digit_functions"]


def digit_functions(ctx: DemoContext) -> tuple[VoteMatrix, np.ndarray]:
    """Labeling functions for the demo's digits: three nearest-centroid sets, each from
    three labeled examples per digit (a few labels stretched over every item); returns
    the votes and the true class codes."""
    crowd = ctx.crowd
    if crowd.X is None:  # pragma: no cover - the demo crowd has features
        raise ValueError("the demo crowd has no features")
    x, truth = crowd.X, crowd.truth
    classes = list(crowd.annotations.classes)
    rng = np.random.default_rng(ctx.random_state)
    votes: VoteMatrix | None = None
    for s in range(3):
        ex = np.concatenate(
            [rng.choice(np.flatnonzero(truth == k), 3, replace=False) for k in range(len(classes))]
        )
        v = prototype_votes(
            x,
            x[ex],
            np.asarray(classes, dtype=object)[truth[ex]],
            classes=classes,
            margin=0.02,
            item_ids=crowd.annotations.item_ids,
            prefix=f"centroids{s + 1}",
        )
        votes = v if votes is None else votes.hstack(v)
    assert votes is not None
    return votes, truth


def build_section(ctx: DemoContext) -> Section:
    """Function votes alone, the label model against their majority vote, and functions
    and the crowd combined in one model."""
    votes, truth = digit_functions(ctx)
    known = truth >= 0
    gold = np.where(known, np.asarray(votes.classes, dtype=object)[np.maximum(truth, 0)], None)
    summary = function_summary(votes, gold=gold)
    model = LabelModel().fit(votes)
    joint = LabelModel().fit(votes, crowd=ctx.crowd.annotations)
    mv = majority_vote(votes, random_state=ctx.random_state)
    covered = model.covered_

    def acc(codes: np.ndarray, mask: np.ndarray) -> float:
        return float((codes[mask & known] == truth[mask & known]).mean())

    lm_codes = model.proba_.argmax(axis=1)
    joint_codes = joint.proba_[: votes.n_items].argmax(axis=1)
    from labelwise.aggregate import OneCoinDawidSkene

    crowd_only = OneCoinDawidSkene().fit(ctx.crowd.annotations).label_codes_
    table = pd.DataFrame(
        {
            "labels from": [
                "majority vote of the functions",
                "label model (functions)",
                "crowd alone (one-coin Dawid-Skene)",
                "label model (functions + crowd)",
            ],
            "accuracy, covered items": [
                acc(mv, covered),
                acc(lm_codes, covered),
                acc(crowd_only, covered),
                acc(joint_codes, covered),
            ],
            "accuracy, all items": [
                acc(mv, np.ones_like(known)),
                acc(lm_codes, np.ones_like(known)),
                acc(crowd_only, np.ones_like(known)),
                acc(joint_codes, np.ones_like(known)),
            ],
        }
    )
    ctx.shared["weak_table"] = table
    funcs = summary.merge(model.function_frame(), on="function")
    t = table.set_index("labels from")
    lm_cov = float(t.iloc[1, 0])
    mv_cov = float(t.iloc[0, 0])
    joint_all = float(t.iloc[3, 1])
    crowd_all = float(t.iloc[2, 1])
    text = (
        f"{votes.n_functions} labeling functions (nearest digit centroids from 3 labeled "
        f"examples per digit, three independent draws) vote on {covered.mean():.0%} of the "
        f"{votes.n_items} items. Label model {lm_cov:.1%} accurate on covered items, "
        f"majority vote {mv_cov:.1%}; with the crowd in the same model "
        f"{joint_all:.1%} on all items (crowd alone {crowd_all:.1%})."
    )
    return Section(
        key="weak",
        title="Labels without labelers: labeling functions",
        summary=text,
        blocks=(
            Text(
                "A labeling function is an annotator that never tires: it votes a class or "
                "abstains. The label model is the one-coin Dawid-Skene EM with abstains as "
                "missing answers, each function's votes weighed by its estimated accuracy "
                "and discounted when it votes in step with others (near copies count once). "
                "Crowd answers join the same model as further annotators."
            ),
            Table(table, caption="Accuracy against the known truth"),
            Table(
                funcs[
                    [
                        "function",
                        "coverage",
                        "overlap",
                        "conflict",
                        "accuracy",
                        "estimated_accuracy",
                        "weight",
                    ]
                ].head(15),
                caption="Per function: coverage, overlap, conflict, accuracy on the truth, and "
                "the label model's estimate and weight (first 15)",
            ),
        ),
    )
