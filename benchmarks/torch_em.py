"""EM on a torch device against the numpy path: seconds per iteration, in one run.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/torch_em.py
    .venv/bin/python benchmarks/torch_em.py --sizes 100000000 --devices cuda   # on a GPU

Synthetic crowd (benchmarks/aggregation_speed.py's generator): items x 5 distinct
annotators from a pool of 1,000, 5 classes, accuracies uniform in [0.5, 0.95]. Each
fit runs exactly ``--iters`` EM iterations (``tol`` too small to stop earlier);
the figure is the fit's wall time divided by the iterations (set-up included:
building the sparse matrix on numpy, copying the arrays to the device on torch).
The labels of every path are compared with the numpy path's. A device that is not
present is reported as "not measured" (this machine has no GPU).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from aggregation_speed import synthetic_crowd
from labelwise import Annotations, DawidSkene
from labelwise.aggregate import OneCoinDawidSkene
from labelwise.errors import ResourceError


def per_iteration(model, ann: Annotations) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ConvergenceWarning of a fixed iteration count
        model.fit(ann)
    return (time.perf_counter() - start) / model.n_iter_, model.label_codes_


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} CPU thread(s)")
    rows = []
    for n in args.sizes:
        frame, _ = synthetic_crowd(n)
        ann = Annotations.from_frame(frame, item="task")
        del frame
        for cls in (DawidSkene, OneCoinDawidSkene):
            params = {"max_iter": args.iters, "tol": 1e-12}
            base, base_codes = per_iteration(cls(**params), ann)
            row = {"annotations": f"{n:,}", "model": cls.__name__, "numpy s/iter": f"{base:.3f}"}
            for device in args.devices:
                try:
                    sec, codes = per_iteration(cls(**params, device=device), ann)
                except ResourceError:
                    row[f"torch-{device} s/iter"] = "not measured: no GPU lent"
                    row[f"numpy / torch-{device}"] = "-"
                    continue
                row[f"torch-{device} s/iter"] = f"{sec:.3f}"
                row[f"numpy / torch-{device}"] = f"{base / sec:.2f}x"
                row[f"same labels ({device})"] = f"{(codes == base_codes).mean():.6f}"
            rows.append(row)
            print(row, flush=True)
    print_table(pd.DataFrame(rows), "EM seconds per iteration: numpy against torch")


if __name__ == "__main__":
    main()
