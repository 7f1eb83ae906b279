"""Report section: a dataset audit of the digits, with some labels flipped on purpose."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise.curate import audit_dataset
from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section"]

#: Share of the digits' labels flipped (uniformly to another class) for the demo.
FLIP_RATE = 0.08


def _estimator(fast: bool) -> Any:
    if fast:  # no iterations to converge: a few hundred milliseconds
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def build_section(ctx: DemoContext) -> Section:
    """Flip some digit labels, audit the set, show what a reviewer would look at first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, truth, images = ctx.crowd.X, ctx.crowd.truth, ctx.crowd.images
    if X is None or images is None:
        return Section(key="audit", title="Dataset audit", summary="No features to audit.")
    rng = np.random.default_rng(ctx.random_state)
    n = X.shape[0]
    flipped = rng.choice(n, round(FLIP_RATE * n), replace=False)
    given = truth.astype(np.int64).copy()
    given[flipped] = (given[flipped] + rng.integers(1, 10, flipped.size)) % 10
    is_flipped = given != truth
    rep = audit_dataset(
        X,
        given,
        estimator=_estimator(ctx.fast),
        n_splits=3 if ctx.fast else 5,
        random_state=ctx.random_state,
    )
    li = rep.label_issues
    if li is None:  # pragma: no cover - labels were given above
        return Section(key="audit", title="Dataset audit", summary="No labels to audit.")
    tp = int((li.is_issue & is_flipped).sum())
    precision = tp / max(li.n_issues, 1)
    recall = tp / max(int(is_flipped.sum()), 1)

    top = li.ranking[:12]
    fig, axes = plt.subplots(2, 6, figsize=(9, 3.6))
    for ax, i in zip(axes.ravel(), top, strict=False):
        ax.imshow(images[i], cmap="gray_r")
        mark = "flipped" if is_flipped[i] else "not flipped"
        ax.set_title(f"given {given[i]} -> {li.suggested[i]}\n({mark})", fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    gallery = figure_from_matplotlib(
        fig, "Top label issues, most likely wrong first: given label -> suggested label."
    )
    blocks: list[Any] = [
        Text(
            f"{FLIP_RATE:.0%} of the digits' labels ({int(is_flipped.sum())} items) were flipped "
            "to another class, so the truth is known. The audit computes out-of-fold "
            "probabilities, estimates the noise with confident learning and flags the items "
            "least likely to carry their given label; it also looks for outliers (mean "
            "distance to the 10 nearest neighbours, robust threshold) and near duplicates "
            "(cosine similarity of at least 0.98 on the pixel vectors)."
        ),
        Table(rep.summary, caption="How many items each check flagged", digits=4),
        Table(
            pd.DataFrame(
                {
                    "estimated errors": [li.n_estimated],
                    "range": [f"{li.count.low}-{li.count.high}" if li.count else ""],
                    "flagged": [li.n_issues],
                    "truly flipped": [int(is_flipped.sum())],
                    "precision": [precision],
                    "recall": [recall],
                }
            ),
            caption="Label issues against the known flips",
        ),
        gallery,
    ]
    pairs = rep.near.pairs[:6]
    if len(pairs):
        fig, axes = plt.subplots(2, len(pairs), figsize=(1.5 * len(pairs), 3.4), squeeze=False)
        for c, (a, b) in enumerate(pairs):
            for r, i in enumerate((a, b)):
                axes[r, c].imshow(images[i], cmap="gray_r")
                axes[r, c].set_title(f"#{i} ({given[i]})", fontsize=8)
                axes[r, c].axis("off")
            axes[0, c].text(
                0.5,
                -0.1,
                f"cos {rep.near.similarity[c]:.3f}",
                fontsize=7,
                ha="center",
                transform=axes[0, c].transAxes,
                va="top",
            )
        blocks.append(
            figure_from_matplotlib(fig, "Most similar near-duplicate pairs (columns) side by side.")
        )
    if rep.balance is not None:
        blocks.append(Table(rep.balance, caption="Items per given class"))
    summary = (
        f"{li.n_issues} label issues flagged for {int(is_flipped.sum())} flipped labels "
        f"(precision {precision:.2f}, recall {recall:.2f}); "
        f"{int(rep.near.redundant.sum())} near duplicates, {int(rep.outliers.is_outlier.sum())} "
        "outliers."
    )
    return Section(key="audit", title="Dataset audit", summary=summary, blocks=tuple(blocks))
