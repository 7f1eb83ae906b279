"""MC-dropout predictions from a torch model, for :func:`~labelwise.active.strategies.bald`.

torch is an optional extra (``pip install labelwise[torch]``); nothing else in
labelwise imports it, and this module imports it only when called.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number

__all__ = ["mc_dropout_proba"]


def mc_dropout_proba(
    model: Any, X: ArrayLike, *, n_samples: int = 20, batch_size: int = 1024, device: str = "cpu"
) -> NDArray[np.float64]:
    """Softmax outputs of ``n_samples`` stochastic passes with dropout on (Gal et al. 2017).

    ``model`` maps a float tensor (b, d) to logits (b, K). Dropout layers are put in
    training mode for the passes (other layers, e.g. batch norm, stay in eval mode)
    and the model's modes are restored afterwards.

    Returns
    -------
    (n_samples, n, K) float array, ready for ``bald`` / ``mean_kl`` / ``vote_entropy``.
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "mc_dropout_proba needs torch; install it with 'pip install labelwise[torch]'."
        ) from exc
    check_number(n_samples, "n_samples", "mc_dropout_proba", kind=int, low=1)
    check_number(batch_size, "batch_size", "mc_dropout_proba", kind=int, low=1)
    data = np.ascontiguousarray(check_features(X, "X"), dtype=np.float32)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.dropout._DropoutNd):
            m.train()
    out = []
    try:
        with torch.no_grad():
            for _ in range(n_samples):
                parts = []
                for start in range(0, len(data), batch_size):
                    xb = torch.from_numpy(data[start : start + batch_size]).to(device)
                    parts.append(torch.softmax(model(xb), dim=1).cpu().numpy())
                out.append(np.concatenate(parts))
    finally:
        for m, mode in modes.items():
            m.train(mode)
    return np.stack(out).astype(np.float64)
