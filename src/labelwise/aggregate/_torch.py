"""The EM loop on a torch device: Dawid-Skene and one-coin Dawid-Skene on a GPU.

The numpy loop (:class:`~labelwise.aggregate._em.EMAggregator`) runs the E-step and
the M-step as sparse products over the one-hot answer matrix ``S``. Here the same two
steps run on the device:

- Dawid-Skene: the E-step ``S @ log pi`` as a torch sparse CSR product (cuSPARSE on
  a GPU; ``log_lik[item] += log_confusion_rows[worker * K + label]`` by ``index_add_``
  on MPS), the M-step ``S.T @ T`` as ``counts[worker * K + label] += posterior[item]``
  by ``index_add_``;
- one-coin: ``hits[worker] += posterior[item, label]`` and the per-cell bonus, both
  ``index_add_`` / ``index_put_`` over the annotation arrays.

Every other step (soft-majority start, class prior, per-item prior, gold clamping,
the stopping rule) is the numpy loop's, written once more in torch, in the same
dtypes (Dawid-Skene's posterior in float32, its confusion matrices from float64
counts; one-coin in float64), so the two paths give the same labels and
probabilities within float32 rounding. torch is imported only when a fit asks for a
device: ``import labelwise`` never loads it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelwise.aggregate._base import has_converged, vote_share
from labelwise.annotations import Annotations
from labelwise.errors import ParameterError, ResourceError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["fit_em_torch", "torch_device"]

#: Device types whose torch build multiplies sparse CSR by dense (MPS does not).
_SPARSE_DEVICES = ("cpu", "cuda")


def torch_device(device: Any, owner: str) -> torch.device:
    """The ``torch.device`` for ``device``; a clear error when torch or the device is missing.

    Never falls back: ``device="cuda"`` on a machine without a CUDA GPU raises
    :class:`~labelwise.errors.ResourceError` instead of silently running on the CPU.
    """
    if not isinstance(device, str):
        raise ParameterError(
            f"The 'device' parameter of {owner} must be None (numpy) or a torch device "
            f"name such as 'cpu' or 'cuda'. Got {device!r} instead."
        )
    try:
        import torch
    except ImportError:
        raise ResourceError(
            f"{owner}(device={device!r}) needs torch; install it with "
            "'pip install labelwise[gpu]', or use device=None for the numpy path."
        ) from None
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ParameterError(
            f"The 'device' parameter of {owner} is not a torch device name: {device!r} ({exc})."
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ResourceError(
            f"{owner}(device={device!r}): torch sees no CUDA GPU on this machine "
            f"(torch {torch.__version__}, torch.cuda.is_available() is False). Use "
            "device='cpu' for torch on the CPU or device=None for the numpy path; "
            "labelwise does not fall back on its own."
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ResourceError(
            f"{owner}(device={device!r}): this machine has {torch.cuda.device_count()} CUDA "
            "device(s)."
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ResourceError(f"{owner}(device={device!r}): torch sees no Apple MPS device.")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ParameterError(
            f"The 'device' parameter of {owner} must name a cpu, cuda or mps device. "
            f"Got {device!r} instead."
        )
    return dev


class _Kernel(ABC):
    """One model's M-step and E-step over the annotation arrays on the device."""

    def __init__(self, model: Any, annotations: Annotations, dev: torch.device, dtype: Any):
        import torch

        self.torch = torch
        self.k, self.n, self.w = annotations.n_classes, annotations.n_items, annotations.n_workers
        self.dtype = dtype
        self.smoothing = float(model.smoothing)
        self.item = torch.from_numpy(annotations.item.astype(np.int64)).to(dev)
        self.worker = torch.from_numpy(annotations.worker.astype(np.int64)).to(dev)
        self.label = torch.from_numpy(annotations.label.astype(np.int64)).to(dev)
        self.dev = dev

    @abstractmethod
    def m_step(self, post: torch.Tensor) -> torch.Tensor:
        """The model's parameters from the posterior."""

    @abstractmethod
    def log_likelihood(self, params: torch.Tensor) -> torch.Tensor:
        """(n_items, K) log P(answers of item i | true class k)."""


class _DawidSkeneKernel(_Kernel):
    """Dawid-Skene's E-step ``S @ log pi`` as a torch sparse CSR product (``index_add_``
    on a device without sparse CSR: MPS); its M-step ``S.T @ T`` as ``index_add_`` over
    the annotations in item order, which sums in scipy's order (a CSR product of
    ``S.T`` rounds differently and can move the stopping iteration on a real crowd)."""

    def __init__(self, model: Any, annotations: Annotations, dev: torch.device, dtype: Any):
        super().__init__(model, annotations, dev, dtype)
        # row of each answer in S.T: (worker, given label)
        self.row = self.worker * self.k + self.label
        del self.worker
        self.s = None
        if dev.type in _SPARSE_DEVICES:
            self.s = self._csr(annotations.answer_matrix(np.float32).tocsr())

    def _csr(self, m: Any) -> torch.Tensor:
        import warnings

        torch = self.torch
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            return torch.sparse_csr_tensor(
                torch.from_numpy(m.indptr.astype(np.int64)),
                torch.from_numpy(m.indices.astype(np.int64)),
                torch.from_numpy(m.data.astype(np.float32)),
                size=m.shape,
                check_invariants=False,
            ).to(self.dev)

    def m_step(self, post: torch.Tensor) -> torch.Tensor:
        torch, k, w = self.torch, self.k, self.w
        counts = torch.zeros((w * k, k), dtype=post.dtype, device=self.dev)
        counts.index_add_(0, self.row, post[self.item])
        cells = counts.double().reshape(w, k, k).transpose(1, 2) + self.smoothing
        totals = cells.sum(dim=2, keepdim=True)
        return cells / torch.where(totals > 0, totals, torch.ones_like(totals))

    def log_likelihood(self, confusion: torch.Tensor) -> torch.Tensor:
        torch, k, w = self.torch, self.k, self.w
        rows = torch.log(confusion).to(self.dtype).transpose(1, 2).reshape(w * k, k)
        if self.s is not None:
            return self.s @ rows.contiguous()
        out = torch.zeros((self.n, k), dtype=self.dtype, device=self.dev)
        return out.index_add_(0, self.item, rows[self.row])


class _OneCoinKernel(_Kernel):
    def __init__(self, model: Any, annotations: Annotations, dev: torch.device, dtype: Any):
        super().__init__(model, annotations, dev, dtype)
        n_w = annotations.annotations_per_worker().astype(np.float64)
        self.n_w = self.torch.from_numpy(n_w).to(dev)

    def m_step(self, post: torch.Tensor) -> torch.Tensor:
        torch = self.torch
        correct = post[self.item, self.label].double()
        hits = torch.zeros(self.w, dtype=torch.float64, device=self.dev)
        hits.index_add_(0, self.worker, correct)
        acc = (hits + self.smoothing) / (self.n_w + 2 * self.smoothing)
        return acc.clamp(1e-9, 1 - 1e-9)

    def log_likelihood(self, acc: torch.Tensor) -> torch.Tensor:
        torch, k = self.torch, self.k
        log_wrong = torch.log((1 - acc) / (k - 1))
        log_ratio = torch.log(acc) - log_wrong
        base = torch.zeros(self.n, dtype=torch.float64, device=self.dev)
        base.index_add_(0, self.item, log_wrong[self.worker])
        out = base[:, None].repeat(1, k)
        out.index_put_((self.item, self.label), log_ratio[self.worker], accumulate=True)
        return out.to(self.dtype)


_KERNELS = {"DawidSkene": _DawidSkeneKernel, "OneCoinDawidSkene": _OneCoinKernel}


def _normalise_rows(torch: Any, log_unnorm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(posterior, log normaliser) per row: :func:`~labelwise.aggregate._base.normalise_rows`."""
    top = log_unnorm.max(dim=1).values
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    x = torch.exp(log_unnorm - top[:, None])
    total = x.sum(dim=1)
    return x / total[:, None], top + torch.log(total)


def fit_em_torch(model: Any, annotations: Annotations, gold: NDArray[np.int32]) -> None:
    """Run ``model``'s EM on ``torch_device(model.device)``; set the same fitted
    attributes as the numpy loop (``proba_``, ``prior_``, ``log_likelihood_``,
    ``n_iter_``, ``converged_`` and the model's parameters) and call ``_finalize``."""
    name = type(model).__name__
    dev = torch_device(model.device, name)
    import torch

    if name not in _KERNELS:
        raise ParameterError(
            f"{name} has no torch path; device= is available for {', '.join(_KERNELS)}."
        )
    loop = torch.float32 if model._loop_dtype == np.float32 else torch.float64
    kernel = _KERNELS[name](model, annotations, dev, loop)
    smoothing = float(model.smoothing)
    gold_t = torch.from_numpy(gold.astype(np.int64)).to(dev)
    known = gold_t >= 0
    known_rows = torch.nonzero(known).flatten()
    has_gold = bool(known_rows.numel())

    def clamp(post: torch.Tensor) -> None:
        if has_gold:
            post[known_rows] = 0.0
            post[known_rows, gold_t[known_rows]] = 1.0

    start = vote_share(annotations, gold)
    item_prior = getattr(model, "_item_prior", None)
    log_item_prior = None
    if item_prior is not None:
        empty = np.bincount(annotations.item, minlength=annotations.n_items) == 0
        start[empty & (gold < 0)] = item_prior[empty & (gold < 0)]
        log_item_prior = torch.from_numpy(np.log(item_prior).astype(model._loop_dtype)).to(dev)
    post = torch.from_numpy(start.astype(model._loop_dtype)).to(dev)

    def prior_of(p: torch.Tensor) -> torch.Tensor:
        counts = p.double().sum(dim=0) + smoothing
        return counts / counts.sum()

    history: list[float] = []
    model.converged_ = False
    with torch.no_grad():
        for it in range(1, model.max_iter + 1):
            params = kernel.m_step(post)
            log_unnorm = kernel.log_likelihood(params)
            if log_item_prior is None:
                log_unnorm += torch.log(prior_of(post)).to(log_unnorm.dtype)
            else:
                log_unnorm += log_item_prior
            post, lse = _normalise_rows(torch, log_unnorm)
            clamp(post)
            ll = lse.double()
            if has_gold:
                ll[known_rows] = log_unnorm[known_rows, gold_t[known_rows]].double()
            history.append(float(ll.sum().item()))
            model.n_iter_ = it
            if has_converged(history, model.tol, annotations.n_annotations):
                model.converged_ = True
                break
        if not model.converged_:
            model._warn_not_converged()
        params = kernel.m_step(post)
        post64 = post.double()
        post64 /= post64.sum(dim=1, keepdim=True)
        proba = post64.cpu().numpy()
        fitted = params.cpu().numpy()
    if name == "DawidSkene":
        model.confusion_ = fitted
    else:
        model.skill_ = fitted
    model.proba_ = proba
    model.prior_ = model._class_prior(proba)
    model.log_likelihood_ = history
    model._finalize(annotations, proba)
