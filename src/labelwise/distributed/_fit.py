"""The aggregators as map-reduce over item partitions: what ``fit(DaskAnnotations)`` runs.

Every supported model's E-step is local to an item (so to a partition, since the
shuffle put each item's answers in one) and its M-step needs only sums over
answers. So one iteration is one task per partition that

1. computes the partition's posterior from the current parameters, with the
   in-memory estimator's own E-step (``_answer_log_likelihood``, the same float32
   or float64 loop), gold clamping and log-likelihood, and
2. returns the sufficient statistics of the next M-step (Dawid-Skene: ``S.T @ T``,
   annotators*K x K; one-coin: right answers per annotator; MACE: truthful and
   spam counts per annotator and label), the class totals and the log-likelihood;

a tree reduction sums them; the client runs the M-step on the sums and sends the
new parameters with the next iteration's tasks. No posterior is kept between
iterations: it is a function of the partition and the parameters, so a partition
lost with a worker is rebuilt from its lineage (the input chunks) and the fit goes
on with the same numbers. The weighted vote runs its rounds the same way (right
answers per annotator against the current consensus).

GLAD does not decompose this way: its M-step is one L-BFGS run over the annotators'
abilities *and every item's difficulty* jointly, so each of its 25 inner steps
would be a cluster round trip with an item-sized parameter vector held by the
client, and the partition sums change the optimiser's path; it is refused with
that reason rather than approximated.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise._progress import report
from labelwise._tables import _normalise_ids, _py
from labelwise.aggregate._base import (
    clamp_gold,
    gold_log_likelihood,
    has_converged,
    normalise_rows,
    vote_share,
)
from labelwise.aggregate.dawid_skene import m_step_counts
from labelwise.annotations import Annotations
from labelwise.distributed.annotations import Block, DaskAnnotations
from labelwise.errors import AnnotationsError, ParameterError

__all__ = ["SUPPORTED", "fit_distributed"]

#: The estimators that run on :class:`DaskAnnotations`, by class name, and their kind.
SUPPORTED = {
    "MajorityVote": "mv",
    "WeightedMajorityVote": "mv",
    "DawidSkene": "ds",
    "OneCoinDawidSkene": "onecoin",
    "MACE": "mace",
}
_EPS = 1e-9  # MACE's floor, as in labelwise.aggregate.mace
_FAN_IN = 8


@dataclass(frozen=True)
class Spec:
    """What a partition task needs to recompute its part of a fit (sent with each task)."""

    cls: type
    hyper: tuple[tuple[str, Any], ...]
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    log_prior: NDArray[np.float64] | None = None
    gold: Any = None  # a pandas DataFrame (item, label) of gold answers, or None
    token: str = ""
    round: int = 0


# ------------------------------------------------------------- worker side
def _local(block: Block, spec: Spec) -> Any:
    """A copy of the partition's prepared estimator with ``spec.params`` set on it."""
    key = ("est", spec.cls.__name__, spec.hyper)
    if key not in block.cache:
        est = spec.cls(**dict(spec.hyper))
        if spec.kind != "mv":
            est._prepare(block.ann)
        block.cache[key] = est
    est = copy.copy(block.cache[key])
    for name, value in spec.params.items():
        setattr(est, name, value)
    return est


def _gold(block: Block, spec: Spec) -> tuple[NDArray[np.int32], NDArray[np.intp]]:
    """The partition's gold codes (``-1`` where unknown) and which gold rows it holds."""
    ann = block.ann
    if spec.gold is None:
        return np.full(ann.n_items, -1, dtype=np.int32), np.zeros(0, dtype=np.intp)
    key = ("gold", spec.token)
    if key not in block.cache:
        frame = spec.gold
        g_items = _normalise_ids(frame["item"])
        ids = pd.Index(ann.item_ids)
        if ids.inferred_type != pd.Index(g_items).inferred_type:
            ids, g_items = ids.astype(str), g_items.astype(str)
        rows = np.flatnonzero(ids.get_indexer(g_items) >= 0)
        codes = (
            ann.encode_gold(frame.iloc[rows])
            if rows.size
            else np.full(ann.n_items, -1, dtype=np.int32)
        )
        block.cache[key] = (codes, rows)
    gold: tuple[NDArray[np.int32], NDArray[np.intp]] = block.cache[key]
    return gold


def _e_step(block: Block, spec: Spec) -> tuple[NDArray[np.floating], float]:
    """The in-memory E-step on one partition: posterior and data log-likelihood."""
    est = _local(block, spec)
    gold, _ = _gold(block, spec)
    log_unnorm = est._answer_log_likelihood(block.ann)
    assert spec.log_prior is not None
    log_unnorm += spec.log_prior.astype(log_unnorm.dtype)
    post, lse = normalise_rows(log_unnorm)
    clamp_gold(post, gold)
    return post, gold_log_likelihood(log_unnorm, lse, gold)


def _m_stats(block: Block, spec: Spec, post: NDArray[np.floating]) -> dict[str, Any]:
    """The M-step's sufficient statistics of one partition (sums over its answers)."""
    ann, est = block.ann, _local(block, spec)
    w, k = ann.n_workers, ann.n_classes
    out: dict[str, Any] = {"class": post.sum(axis=0, dtype=np.float64)}
    if spec.kind == "ds":
        out["counts"] = m_step_counts(est._s.T, post)
        return out
    p_right = post[ann.item, ann.label]
    if spec.kind == "onecoin":
        out["hits"] = np.bincount(ann.worker, weights=p_right, minlength=w)
        return out
    # MACE: split each answer into truthful and spam under the current parameters
    theta, xi = est.competence_[ann.worker], est.strategy_[ann.worker, ann.label]
    truthful = p_right * theta / np.maximum(theta + (1 - theta) * xi, _EPS)
    out["theta"] = np.bincount(ann.worker, weights=truthful, minlength=w)
    out["xi"] = np.bincount(est._wcell, weights=1.0 - truthful, minlength=w * k)
    return out


def _em_start(block: Block, spec: Spec) -> dict[str, Any]:
    gold, rows = _gold(block, spec)
    post = vote_share(block.ann, gold).astype(getattr(spec.cls, "_loop_dtype", np.float64))
    out = _m_stats(block, spec, post)
    out["gold_rows"] = rows
    return out


def _em_step(block: Block, spec: Spec) -> dict[str, Any]:
    post, ll = _e_step(block, spec)
    out = _m_stats(block, spec, post)
    out["ll"] = ll
    return out


def _rng(spec: Spec, block: Block) -> np.random.Generator:
    """The tie-break generator of one partition and round: the same after a recompute."""
    seed = dict(spec.hyper).get("random_state", 0)
    if isinstance(seed, int | np.integer):
        return np.random.default_rng([int(seed), block.index, spec.round])
    from labelwise._validation import check_random_state

    return check_random_state(seed)


def _vote_scores(block: Block, spec: Spec) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    ann = block.ann
    weights = spec.params.get("weights")
    if weights is None:
        return ann.vote_counts(), np.ones(ann.n_workers)
    k = ann.n_classes
    flat = np.bincount(
        ann.item.astype(np.int64) * k + ann.label,
        weights=weights[ann.worker],
        minlength=ann.n_items * k,
    )
    return flat.reshape(ann.n_items, k), weights


def _vote_hits(block: Block, spec: Spec) -> dict[str, Any]:
    """Right answers per annotator against this round's weighted vote."""
    from labelwise.aggregate.majority import _break_ties
    from labelwise.agreement import worker_hits

    gold, rows = _gold(block, spec)
    scores, _ = _vote_scores(block, spec)
    codes, _ = _break_ties(scores, dict(spec.hyper)["ties"], _rng(spec, block))
    known = gold >= 0
    codes[known] = gold[known]
    hits, n = worker_hits(block.ann, codes)
    return {"hits": hits, "n": n, "gold_rows": rows}


def _fitted_block(block: Block, spec: Spec) -> Any:
    """The estimator fitted on one partition with the global parameters: proba_,
    labels_, agreement_ of its items, exactly as the in-memory fit computes them."""
    ann = block.ann
    est = _local(block, spec)
    gold, _ = _gold(block, spec)
    if spec.kind == "mv":
        scores, weights = _vote_scores(block, spec)
        est._from_weighted_votes(ann, gold, scores, weights, _rng(spec, block))
    else:
        post, _ = _e_step(block, spec)
        post64 = post.astype(np.float64)
        post64 /= post64.sum(axis=1, keepdims=True)
        est.proba_ = post64
    est.items_, est.workers_, est.classes_ = ann.item_ids, ann.worker_ids, ann.classes
    est.n_annotations_ = ann.annotations_per_item()
    est._finish(ann)
    return est


def _final_stats(block: Block, spec: Spec) -> dict[str, Any]:
    """Totals of the fitted partition: class mass, consensus counts, vote top shares."""
    from labelwise.aggregate._collapse import vote_top_shares
    from labelwise.agreement import worker_hits

    est = _fitted_block(block, spec)
    ann = block.ann
    codes = est.label_codes_
    hits, n = worker_hits(ann, codes)
    k = ann.n_classes
    return {
        "class": np.asarray(est.proba_.sum(axis=0, dtype=np.float64)).ravel(),
        "consensus": np.bincount(codes[codes >= 0], minlength=k).astype(np.float64),
        "vote_top": vote_top_shares(ann) * ann.n_items,
        "hits": hits,
        "n": n.astype(np.float64),
    }


def result_frame(block: Block, spec: Spec, proba: bool = False) -> pd.DataFrame:
    """One partition's rows of ``to_frame()`` (and ``proba_<class>`` columns)."""
    est = _fitted_block(block, spec)
    frame = est.to_frame()
    if proba:
        p = np.asarray(est.proba_)
        for j, c in enumerate(est.classes_):
            frame[f"proba_{c}"] = p[:, j]
    return frame


def _add(*stats: dict[str, Any]) -> dict[str, Any]:
    out = dict(stats[0])
    for s in stats[1:]:
        for key, value in s.items():
            if key == "gold_rows":
                out[key] = np.concatenate([out[key], value])
            else:
                out[key] = out[key] + value
    return out


# ------------------------------------------------------------- client side
def tree_sum(client: Any, futures: list[Any], fan_in: int = _FAN_IN) -> dict[str, Any]:
    """Sum the partitions' statistics on the workers, ``fan_in`` at a time; fetch one."""
    while len(futures) > 1:
        futures = [
            client.submit(_add, *futures[i : i + fan_in], pure=False)
            for i in range(0, len(futures), fan_in)
        ]
    result: dict[str, Any] = futures[0].result()
    return result


def _map(client: Any, fn: Any, data: DaskAnnotations, spec: Spec) -> list[Any]:
    return client.map(fn, data.blocks, spec=spec, pure=False)  # type: ignore[no-any-return]


def _check_gold(gold: Any, stats: dict[str, Any]) -> None:
    if gold is None:
        return
    found = np.zeros(len(gold), dtype=bool)
    found[stats["gold_rows"]] = True
    if not found.all():
        row = int(np.flatnonzero(~found)[0])
        raise AnnotationsError(
            f"gold row {row} names item {_py(gold['item'].iloc[row])!r}, which has no annotation "
            f"({int((~found).sum())} unknown gold item(s) in all)."
        )


def _gold_frame_or_none(gold: Any) -> pd.DataFrame | None:
    if gold is None:
        return None
    from labelwise._tables import _first_missing_row, _gold_frame

    frame = _gold_frame(gold)
    for col in ("item", "label"):
        row = _first_missing_row(frame[col])
        if row is not None:
            raise AnnotationsError(f"gold column {col!r} has a missing value at row {row}.")
    return frame.reset_index(drop=True)


def fit_distributed(est: Any, data: DaskAnnotations, gold: Any, prior: Any) -> Any:
    """Fit ``est`` on partitioned annotations; set its attributes and ``result_``.

    The estimator ends with the attributes of an in-memory fit that are per
    annotator or per class (``skill_``, ``confusion_``, ``prior_``, ``workers_``,
    ``classes_``, ``log_likelihood_``, ``n_iter_``, ``converged_``); the per-item
    results stay on the cluster in ``result_`` (a :class:`DaskConsensus`).
    """
    from labelwise.distributed.result import DaskConsensus

    name = type(est).__name__
    kind = SUPPORTED.get(name)
    if kind is None:
        why = (
            " GLAD's M-step optimises every item's difficulty jointly with the annotators' "
            "abilities (one L-BFGS run), which does not split into per-partition sums."
            if name == "GLAD"
            else ""
        )
        raise ParameterError(
            f"{name} cannot fit DaskAnnotations.{why} Use one of {', '.join(SUPPORTED)}, or "
            "collect small data with .to_annotations()."
        )
    if prior is not None:
        raise ParameterError(
            f"{name}.fit: a per-item prior is not supported on DaskAnnotations; fit in memory."
        )
    est._check_params()
    for attr in ("proba_", "labels_", "label_codes_", "items_", "agreement_", "n_annotations_"):
        est.__dict__.pop(attr, None)
    client = data.client
    gold_frame = _gold_frame_or_none(gold)
    spec = Spec(
        cls=type(est),
        hyper=tuple(sorted(est.get_params().items())),
        kind=kind,
        gold=gold_frame,  # small: travels inside each task's spec
        token=uuid.uuid4().hex,
    )
    est.workers_, est.classes_ = data.worker_ids, data.classes
    if kind == "mv":
        spec = _fit_votes(est, data, spec, gold_frame)
    else:
        spec = _fit_em(est, data, spec, gold_frame)
    final = tree_sum(client, _map(client, _final_stats, data, spec))
    n = final["n"]
    if kind == "mv":
        with np.errstate(invalid="ignore", divide="ignore"):
            est.skill_ = np.where(n > 0, final["hits"] / np.maximum(n, 1), np.nan)
    else:
        _finish_em(est, data, final)
    est.result_ = DaskConsensus(client, data.blocks, spec, n_items=data.n_items)
    if est._learns_skill_from_overlap:
        from labelwise.aggregate._collapse import warn_if_collapsed

        shares = final["consensus"] / max(final["consensus"].sum(), 1)
        est.collapsed_ = warn_if_collapsed(
            shares, final["vote_top"] / max(data.n_items, 1), data.classes, name
        )
    return est


def _fit_votes(est: Any, data: DaskAnnotations, spec: Spec, gold: Any) -> Spec:
    """Weighted-vote rounds (none for the plain vote); return the final vote's spec."""
    client = data.client
    rounds = getattr(est, "n_rounds", 0)
    weights = None
    for r in range(rounds):
        spec = replace(spec, params={"weights": weights}, round=r)
        stats = tree_sum(client, _map(client, _vote_hits, data, spec))
        if r == 0:
            _check_gold(gold, stats)
        weights = est._weights_from_hits(stats["hits"], stats["n"], data.n_classes)
        report(data.progress, f"{type(est).__name__} rounds", r + 1, rounds)
    if rounds == 0 and gold is not None:
        _check_gold(gold, tree_sum(client, _map(client, _vote_hits, data, spec)))
    est.weights_ = np.ones(data.n_workers) if weights is None else weights
    return replace(spec, params={"weights": weights}, round=rounds)


def _m_step(est: Any, data: DaskAnnotations, stats: dict[str, Any]) -> dict[str, Any]:
    """The in-memory M-step from the summed statistics; return the parameters to send."""
    from labelwise.aggregate.dawid_skene import confusion_from_counts

    w, k, s = data.n_workers, data.n_classes, est.smoothing
    n_w = data.annotations_per_worker.astype(float)
    if "counts" in stats:
        est.confusion_ = confusion_from_counts(stats["counts"], w, k, s)
        return {"confusion_": est.confusion_}
    if "hits" in stats:
        acc = (stats["hits"] + s) / (n_w + 2 * s)
        est.skill_ = np.clip(acc, 1e-9, 1 - 1e-9)
        return {"skill_": est.skill_}
    theta = (stats["theta"] + s) / (n_w + 2 * s)
    xi_counts = stats["xi"].reshape(w, k) + s
    xi = xi_counts / np.maximum(xi_counts.sum(axis=1, keepdims=True), _EPS)
    est.competence_ = np.clip(theta, _EPS, 1 - _EPS)
    est.strategy_ = np.clip(xi, _EPS, 1.0)
    return {"competence_": est.competence_, "strategy_": est.strategy_}


def _fit_em(est: Any, data: DaskAnnotations, spec: Spec, gold: Any) -> Spec:
    """The EM loop; return the spec of the last E-step (whose posterior is the result)."""
    client = data.client
    name = type(est).__name__
    if spec.kind == "mace":  # MACE's starting parameters (see MACE._prepare)
        k = data.n_classes
        spec = replace(
            spec,
            params={
                "competence_": np.full(data.n_workers, 0.8),
                "strategy_": np.full((data.n_workers, k), 1.0 / k),
            },
        )
    _warn_identifiability(est, data, gold)
    stats = tree_sum(client, _map(client, _em_start, data, spec))
    _check_gold(gold, stats)
    history: list[float] = []
    est.converged_ = False
    for it in range(1, est.max_iter + 1):
        params = _m_step(est, data, stats)
        prior = (stats["class"] + est.smoothing) / (stats["class"] + est.smoothing).sum()
        spec = replace(spec, params=params, log_prior=np.log(prior))
        stats = tree_sum(client, _map(client, _em_step, data, spec))
        history.append(float(stats["ll"]))
        est.n_iter_ = it
        report(data.progress, f"{name} EM iterations", it, est.max_iter)
        if has_converged(history, est.tol, data.n_annotations):
            est.converged_ = True
            report(data.progress, f"{name} EM iterations", it, it)  # the stage ends here
            break
    if not est.converged_:
        est._warn_not_converged()
    _m_step(est, data, stats)  # parameters consistent with the returned posterior
    est.log_likelihood_ = history
    return spec


def _finish_em(est: Any, data: DaskAnnotations, final: dict[str, Any]) -> None:
    """``prior_``, ``skill_`` and ``confusion_`` as the in-memory ``_finalize`` sets them."""
    counts = final["class"] + est.smoothing
    est.prior_ = counts / counts.sum()
    # _finalize reads only the sizes of the annotations (no item data needed)
    sizes = Annotations.from_codes(
        [], [], [], n_items=0, n_workers=data.n_workers, n_classes=data.n_classes
    )
    est._s = None
    est._finalize(sizes, None)
    est.__dict__.pop("_s", None)


def _warn_identifiability(est: Any, data: DaskAnnotations, gold: Any) -> None:
    import warnings

    from labelwise.aggregate._base import IdentifiabilityWarning

    if data.max_annotations_per_item < 2 and gold is None:
        warnings.warn(
            f"{type(est).__name__}: no item has two answers and no gold is given, so "
            "annotator skill cannot be estimated; collect overlapping answers or gold, "
            "or use MajorityVote.",
            IdentifiabilityWarning,
            stacklevel=4,
        )
