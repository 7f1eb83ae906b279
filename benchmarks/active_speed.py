"""One scoring round on a 1,000,000 x 64 pool with a fitted model: full pool vs SEALS.

A synthetic pool (10 Gaussian classes in 64 dimensions, float32), a LogisticRegression
fitted on 1,000 labeled rows. Timed, median of repeats, in one process:

- ``predict_proba + top-k``: the floor of any full round (predict_proba on every
  unlabeled row, margin, argpartition);
- labelwise full round: ``ActiveLearner.query(100)`` with ``candidates=None``;
- scikit-activeml 0.5.2 ``UncertaintySampling(method="margin_sampling").query`` with
  the fitted classifier (``fit_clf=False``), on the whole pool and restricted to
  10,000 candidate ids;
- labelwise SEALS round: ``ActiveLearner.query(100)`` with ``SEALS(k)`` over a faiss
  IVF index built once (build time reported apart), plus the incremental candidate
  update for the 100 new labels (one index search of 100 queries).

The SEALS timings are medians of ``--seals-repeats`` runs (a few ms each: noisy on a
shared machine); for them the ``runs`` column shows every fourth of the sorted runs.

Run: .bench-venv/bin/python benchmarks/active_speed.py [--n 1000000] [--repeats 5]
"""

from __future__ import annotations

import os

# one BLAS thread for both libraries: the machine's 2 cores are shared
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from _common import machine, print_table, timed  # noqa: E402
from labelwise.active import SEALS, ActiveLearner, margin, top_k  # noqa: E402
from labelwise.index import NeighborIndex  # noqa: E402


def pool(n: int, d: int = 64, k: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.0, size=(k, d)).astype(np.float32)
    y = rng.integers(k, size=n)
    X = centres[y] + rng.normal(size=(n, d)).astype(np.float32) * np.float32(1.5)
    return X, y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--labeled", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seals-k", default="10,100")
    ap.add_argument("--nprobe", type=int, default=8)
    ap.add_argument("--nlist", type=int, default=4096)
    ap.add_argument("--seals-repeats", type=int, default=21)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    print(f"machine: {machine()}")
    X, y = pool(args.n)
    rng = np.random.default_rng(1)
    lab = rng.choice(args.n, size=args.labeled, replace=False)
    y0 = np.full(args.n, -1)
    y0[lab] = y[lab]
    model = LogisticRegression(max_iter=500).fit(X[lab], y[lab])
    rows = []

    def floor() -> np.ndarray:
        s = margin(model.predict_proba(X))
        s[lab] = -np.inf
        return top_k(s, 100)

    _, t_floor, runs = timed(floor, args.repeats)
    rows.append(
        {
            "round": "predict_proba + margin + top-k (floor)",
            "candidates": args.n - len(lab),
            "median s": t_floor,
            "runs": runs,
        }
    )

    full = ActiveLearner(model, "margin", 100, random_state=0).fit(X, y0)
    full.estimator_ = model  # the same fitted model for every contender
    picks_full, t_full, runs = timed(full.query, args.repeats)
    rows.append(
        {
            "round": "labelwise full round (query)",
            "candidates": args.n - len(lab),
            "median s": t_full,
            "runs": runs,
        }
    )

    if not args.no_peer:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import UncertaintySampling

        clf = SklearnClassifier(
            LogisticRegression(max_iter=500), classes=np.arange(10), missing_label=-1
        ).fit(X[lab], y[lab])
        qs = UncertaintySampling(method="margin_sampling", missing_label=-1, random_state=0)
        picks_peer, t_peer, runs = timed(
            lambda: qs.query(X=X, y=y0, clf=clf, fit_clf=False, batch_size=100), args.repeats
        )
        rows.append(
            {
                "round": "scikit-activeml full round",
                "candidates": args.n - len(lab),
                "median s": t_peer,
                "runs": runs,
            }
        )
        cand = rng.choice(np.flatnonzero(y0 == -1), size=10_000, replace=False)
        _, t_peer_c, runs = timed(
            lambda: qs.query(X=X, y=y0, clf=clf, fit_clf=False, batch_size=100, candidates=cand),
            args.repeats,
        )
        rows.append(
            {
                "round": "scikit-activeml, 10,000 candidate ids",
                "candidates": 10_000,
                "median s": t_peer_c,
                "runs": runs,
            }
        )
        same = len(np.intersect1d(picks_full, picks_peer))
        print(f"full round: labelwise and scikit-activeml picked {same}/100 of the same rows")

    t0 = time.perf_counter()
    index = NeighborIndex(metric="l2", kind="ivf", nlist=args.nlist, nprobe=args.nprobe).fit(X)
    t_index = time.perf_counter() - t0
    exact = NeighborIndex(metric="l2", kind="flat").fit(X)
    probe = lab[:100]
    _, nn_ivf = index.neighbors_of_indexed(probe, 10)
    _, nn_exact = exact.neighbors_of_indexed(probe, 10)
    del exact
    recall = np.mean(
        [len(np.intersect1d(a, b)) / 10 for a, b in zip(nn_ivf, nn_exact, strict=True)]
    )
    print(
        f"faiss IVF index ({args.nlist} lists, nprobe {args.nprobe}) over {args.n:,} x 64 "
        f"built once in {t_index:.1f} s; recall@10 against exact search: {recall:.3f}"
    )
    for k in (int(v) for v in args.seals_k.split(",")):
        t0 = time.perf_counter()
        al = ActiveLearner(
            model, "margin", 100, candidates=SEALS(k, index=index), random_state=0
        ).fit(X, y0)
        t_seed = time.perf_counter() - t0
        al.estimator_ = model
        n_cand = len(al.seals_.candidates_)

        ids, t_query, runs_q = timed(al.query, args.seals_repeats)

        def update(al: ActiveLearner = al, ids: np.ndarray = ids) -> None:
            al.seals_.add_labeled(ids)  # the incremental candidate update of teach()
            al.seals_._labeled[ids] = False  # undo, so that each repeat does the same work

        _, t_update, runs_u = timed(update, args.seals_repeats)
        rows.append(
            {
                "round": f"labelwise SEALS query, k={k}",
                "candidates": n_cand,
                "median s": t_query,
                "runs": runs_q,
            }
        )
        rows.append(
            {
                "round": f"labelwise SEALS candidate update (100 new labels), k={k}",
                "candidates": n_cand,
                "median s": t_update,
                "runs": runs_u,
            }
        )
        rows.append(
            {
                "round": f"labelwise SEALS round = query + update, k={k}",
                "candidates": n_cand,
                "median s": t_query + t_update,
                "runs": [],
            }
        )
        print(
            f"SEALS k={k}: seeding {n_cand:,} candidates from {args.labeled} labels took "
            f"{t_seed:.1f} s (once)"
        )
        # the same with the pool's kNN graph computed once at set-up: updates are lookups
        t0 = time.perf_counter()
        pre = SEALS(k, index=index, precompute=True).fit(None, labeled=np.flatnonzero(y0 >= 0))
        t_graph = time.perf_counter() - t0

        def update_pre(pre: SEALS = pre, ids: np.ndarray = ids) -> None:
            pre.add_labeled(ids)
            pre._labeled[ids] = False

        _, t_update_pre, runs_p = timed(update_pre, args.seals_repeats)
        rows.append(
            {
                "round": f"labelwise SEALS update, precomputed kNN graph, k={k}",
                "candidates": n_cand,
                "median s": t_update_pre,
                "runs": runs_p,
            }
        )
        rows.append(
            {
                "round": f"labelwise SEALS round = query + update (precomputed graph), k={k}",
                "candidates": n_cand,
                "median s": t_query + t_update_pre,
                "runs": [],
            }
        )
        print(
            f"SEALS k={k}: the kNN graph of the whole pool took {t_graph:.1f} s (once, at set-up)"
        )
        del pre
    df = pd.DataFrame(rows)
    df["x faster than labelwise full"] = t_full / df["median s"]
    if not args.no_peer:
        df["x faster than scikit-activeml full"] = t_peer / df["median s"]
    df["runs"] = df["runs"].map(
        lambda r: ", ".join(f"{v:.3g}" for v in (r if len(r) <= 5 else sorted(r)[:: len(r) // 5]))
    )
    print_table(df, f"One scoring round, pool {args.n:,} x 64, batch 100, margin")


if __name__ == "__main__":
    main()
