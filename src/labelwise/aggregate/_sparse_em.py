"""The EM loop over answered cells, for symmetric-error models with many classes.

One-coin Dawid-Skene and GLAD give each answer a log-likelihood ``log_right`` if it
equals the true class and ``log_wrong`` otherwise. For item ``i`` and class ``k``
the answers' log-likelihood is ``base_i + bonus_ik`` with ``base_i`` the sum of the
item's ``log_wrong`` and ``bonus_ik`` non-zero only on answered cells. So the
posterior of every unanswered class is ``prior_k * exp(base_i)`` up to the item's
normaliser, and the loop keeps one value per answered cell and one *rest* mass per
item (see :mod:`labelwise.aggregate._sparse`). The model supplies
``_answer_terms(annotations) -> (log_wrong, log_right - log_wrong)`` per annotation
and ``_m_step_correct(annotations, p_correct)`` from the posterior of each answer's
own label; nothing of size (n_items, K) is ever allocated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.aggregate._base import has_converged
from labelwise.aggregate._sparse import Cells, answer_cells, pick_top, uses_sparse
from labelwise.annotations import Annotations
from labelwise.errors import ParameterError

__all__ = ["SparseEMMixin", "fit_sparse_em"]


def _prior(
    cells: Cells,
    values: NDArray[np.float64],
    rest: NDArray[np.float64],
    prior: NDArray[np.float64],
    smoothing: float,
) -> NDArray[np.float64]:
    """Class prior from the expected class counts: answered cells plus each item's rest
    mass spread over its unanswered classes in proportion to the previous ``prior``."""
    k = cells.n_classes
    counts = np.bincount(cells.label, weights=values, minlength=k)
    covered = np.bincount(cells.item, weights=prior[cells.label], minlength=cells.n_items)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(rest > 0, rest / np.maximum(1.0 - covered, 1e-300), 0.0)
    # sum_i share_i * prior_k over items where k is unanswered
    counts += prior * (
        share.sum() - np.bincount(cells.label, weights=share[cells.item], minlength=k)
    )
    counts = np.maximum(counts, 0.0) + smoothing
    return counts / counts.sum()  # type: ignore[no-any-return]


def _e_step(
    cells: Cells,
    base: NDArray[np.float64],
    cell_bonus: NDArray[np.float64],
    log_prior: NDArray[np.float64],
    gold: NDArray[np.int32],
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """(cell posterior, rest mass, data log-likelihood) for the current parameters."""
    prior = np.exp(log_prior)
    covered = np.bincount(cells.item, weights=prior[cells.label], minlength=cells.n_items)
    with np.errstate(divide="ignore"):
        log_rest = base + np.log(np.clip(1.0 - covered, 0.0, 1.0))
    log_cell = base[cells.item] + cell_bonus + log_prior[cells.label]
    top = np.maximum(cells.segment_max(log_cell), log_rest)
    top = np.where(np.isfinite(top), top, 0.0)
    cell_exp = np.exp(log_cell - top[cells.item])
    rest_exp = np.exp(log_rest - top)
    total = np.bincount(cells.item, weights=cell_exp, minlength=cells.n_items) + rest_exp
    values = cell_exp / total[cells.item]
    rest = rest_exp / total
    lse = top + np.log(total)
    known = gold >= 0
    if known.any():
        on_gold = known[cells.item] & (cells.label == gold[cells.item])
        ll_gold = np.zeros(cells.n_items)
        ll_gold[cells.item[on_gold]] = log_cell[on_gold]
        lse = np.where(known, ll_gold, lse)
        values = np.where(known[cells.item], on_gold.astype(np.float64), values)
        rest = np.where(known, 0.0, rest)
    return values, rest, float(lse.sum())


def fit_sparse_em(model: Any, annotations: Annotations, gold: NDArray[np.int32]) -> None:
    """Fit ``model`` (one-coin or GLAD) over answered cells; set its fitted attributes.

    Sets ``proba_`` (a ``scipy.sparse.csr_array`` over the answered cells),
    ``proba_rest_`` (n_items,), ``prior_``, ``label_codes_`` (the most probable
    answered or gold class), ``log_likelihood_``, ``n_iter_`` and ``converged_``,
    then calls ``model._finalize(annotations, proba_)``.
    """
    cells = answer_cells(annotations, gold)
    k, n = annotations.n_classes, annotations.n_items
    item = annotations.item
    learn_prior = getattr(model, "learn_prior", True)
    # start from the soft majority vote: vote shares on answered cells, nothing elsewhere
    votes = np.bincount(cells.of_answer, minlength=cells.item.shape[0]).astype(np.float64)
    per_item = np.bincount(cells.item, weights=votes, minlength=n)
    values = np.where(per_item[cells.item] > 0, votes / np.maximum(per_item[cells.item], 1), 0.0)
    rest = np.where(per_item > 0, 0.0, 1.0)
    known = gold >= 0
    if known.any():
        values = np.where(known[cells.item], (cells.label == gold[cells.item]) * 1.0, values)
        rest = np.where(known, 0.0, rest)
    prior = np.full(k, 1.0 / k)
    history: list[float] = []
    model.converged_ = False
    for it in range(1, model.max_iter + 1):
        model._m_step_correct(annotations, values[cells.of_answer])
        if learn_prior:
            prior = _prior(cells, values, rest, prior, model.smoothing)
        log_wrong, log_ratio = model._answer_terms(annotations)
        base = np.bincount(item, weights=log_wrong, minlength=n)
        bonus = np.bincount(cells.of_answer, weights=log_ratio, minlength=cells.item.shape[0])
        values, rest, ll = _e_step(cells, base, bonus, np.log(prior), gold)
        history.append(ll)
        model.n_iter_ = it
        if has_converged(history, model.tol, annotations.n_annotations):
            model.converged_ = True
            break
    if not model.converged_:
        model._warn_not_converged()
    model._m_step_correct(annotations, values[cells.of_answer])
    model.proba_ = cells.to_csr(values)
    model.proba_rest_ = rest
    model.prior_ = _prior(cells, values, rest, prior, model.smoothing) if learn_prior else prior
    model.log_likelihood_ = history
    codes, _ = pick_top(cells, values, "first", np.random.default_rng(0))
    model.label_codes_ = codes
    model._finalize(annotations, model.proba_)


class SparseEMMixin:
    """Runs :func:`fit_sparse_em` instead of the dense loop when the classes are many.

    Put before :class:`~labelwise.aggregate._em.EMAggregator` in the bases of a model
    that has ``_answer_terms`` and ``_m_step_correct``.
    """

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        if not uses_sparse(annotations):
            super()._fit(annotations, gold)  # type: ignore[misc]
            return
        device = getattr(self, "device", None)
        if device is not None:
            raise ParameterError(
                f"{type(self).__name__}(device={device!r}): the torch path keeps the "
                f"(n_items, K) posterior dense; {annotations.n_items:,} items x "
                f"{annotations.n_classes:,} classes is past the dense limit, so use device=None "
                "(the sparse numpy path)."
            )
        self._prepare(annotations)  # type: ignore[attr-defined]
        fit_sparse_em(self, annotations, gold)
