"""Ready-made projects: the demo on the embedded digits (as image files), and a
project moved over from a Label Studio JSON export in one call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelwise.service.auth import Invalid
from labelwise.service.core import LabelService
from labelwise.service.schema import ItemIn, ProjectSpec
from labelwise.service.transfer import _ls_choice, import_label_studio

__all__ = ["DemoProject", "from_label_studio", "make_demo"]


@dataclass(frozen=True)
class DemoProject:
    """What :func:`make_demo` made: the project's name and the tokens to log in with."""

    project: str
    admin_token: str
    annotator_tokens: dict[str, str]


def make_demo(
    svc: LabelService,
    folder: str | Path,
    *,
    n_items: int = 400,
    n_gold: int = 20,
    annotators: int = 3,
    policy: str = "gold",
    overlap: int = 3,
) -> DemoProject:
    """Create project ``digits``: ``n_items`` of scikit-learn's digit images written as
    PNG files under ``folder/images``, their pixels as features (model in the loop),
    ``n_gold`` of them gold items, ``annotators`` annotators and one admin."""
    import matplotlib.image as mpimg

    from labelwise.datasets import load_digits_crowd

    data = load_digits_crowd(random_state=0)
    root = Path(folder).resolve()
    (root / "images").mkdir(parents=True, exist_ok=True)
    images = np.asarray(data.images)[:n_items]
    truth = np.asarray(data.truth)[:n_items]
    classes = [str(c) for c in range(10)]
    new = []
    for i, img in enumerate(images):
        rel = f"images/digit_{i:04d}.png"
        # 8x8 pixels scaled x8 so every browser shows them crisp
        big = np.kron(16.0 - img, np.ones((8, 8))) / 16.0
        mpimg.imsave(root / rel, big, cmap="gray", vmin=0.0, vmax=1.0)
        new.append(
            ItemIn(
                id=f"digit-{i:04d}",
                kind="image",
                content=rel,
                gold=classes[int(truth[i])] if i < n_gold else None,
                features=[float(v) for v in np.asarray(data.X)[i]],
            )
        )
    spec = ProjectSpec(
        name="digits",
        title="Which digit is this?",
        classes=classes,
        keys=classes,
        instructions="Press the digit you see (0-9), s to skip, u to undo your last answer.",
        policy=policy,
        overlap=overlap,
        model_every=50,
        folder=str(root),
    )
    svc.create_project(spec)
    svc.add_items("digits", new)
    _, admin_token = svc.create_person("admin", "admin")
    tokens = {}
    for j in range(annotators):
        who, tok = svc.create_person(f"annotator{j + 1}")
        tokens[who.name] = tok
    svc.assign("digits", list(tokens))
    return DemoProject("digits", admin_token, tokens)


def from_label_studio(
    svc: LabelService,
    path: str | Path,
    *,
    project: str,
    classes: list[str] | None = None,
    overlap: int = 3,
    policy: str = "dynamic",
    folder: str = "",
) -> tuple[int, int]:
    """Create ``project`` from a Label Studio JSON export and import its tasks and
    choice annotations. Classes default to the choices seen, sorted. Returns
    ``(items, answers)``."""
    try:
        tasks: Any = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise Invalid(f"{path} is not JSON: {e}") from None
    if not isinstance(tasks, list):
        raise Invalid(f"{path}: a Label Studio export is a JSON list of tasks.")
    if classes is None:
        seen = {
            c
            for t in tasks
            if isinstance(t, dict)
            for a in t.get("annotations") or []
            if (c := _ls_choice(a)) is not None
        }
        classes = sorted(seen)
    if len(classes) < 2:
        raise Invalid(f"{path}: found {len(classes)} classes; give them with --classes.")
    svc.create_project(
        ProjectSpec(name=project, classes=classes, overlap=overlap, policy=policy, folder=folder)
    )
    return import_label_studio(svc, project, tasks)
