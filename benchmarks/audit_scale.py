"""Near duplicates, outliers and leakage: speed at 200,000 and 1,000,000 rows, and accuracy
on planted copies in Fashion-MNIST.

1. Speed: Gaussian-mixture embeddings (128 dims, 100 clusters) with 1% planted near
   copies; labelwise's one kNN pass (IVF index from ``labelwise.index``) + outlier
   flags + near-duplicate sets + exact duplicates. cleanlab's Datalab
   (outlier + near_duplicate issue types) is timed at ``--datalab-n`` rows in the same
   run, beside labelwise at that size.
2. Planted copies: 20,000 Fashion-MNIST training images (pixels / 255, each image's
   mean subtracted: ``pixels()``); 1,000 copies
   of random images, a third each brightness-shifted (+0.08), noised (Gaussian, sd
   0.05) or re-scaled (x 0.8), appended. Pairs found at the default threshold are
   scored against the planted (original, copy) pairs; the natural near duplicates
   the clean 20,000 already hold are counted separately.
3. Leakage: the 10,000 test images plus 500 modified copies of training images;
   which test items have a near duplicate in train.

Run: .bench-venv/bin/python benchmarks/audit_scale.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from labelwise.curate import (
    exact_duplicates,
    find_leakage,
    find_near_duplicates,
    find_outliers,
    nearest_neighbors,
)
from labelwise.datasets import load_fashion_mnist


def embeddings(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cent = rng.normal(size=(100, 128)).astype(np.float32)
    X = cent[rng.integers(0, 100, n)] + rng.normal(scale=0.7, size=(n, 128)).astype(np.float32)
    m = n // 100
    src = rng.choice(n - m, m, replace=False)
    X[n - m :] = X[src] + rng.normal(scale=0.02, size=(m, 128)).astype(np.float32)
    return X


def audit_pass(X: np.ndarray) -> tuple[int, int, int]:
    nb = nearest_neighbors(X, 10)
    out = find_outliers(neighbors=nb)
    near = find_near_duplicates(neighbors=nb)
    exact = exact_duplicates(X)
    return int(out.is_outlier.sum()), int(near.pairs.shape[0]), int(exact.pairs.shape[0])


def speed(sizes: list[int], repeats: int, datalab_n: int) -> None:
    rows = []
    for n in sizes:
        X = embeddings(n)
        times, res = [], None
        for _ in range(repeats if n <= 200_000 else 1):
            t0 = time.perf_counter()
            res = audit_pass(X)
            times.append(time.perf_counter() - t0)
        assert res is not None
        rows.append(
            {
                "rows": f"{n:,}",
                "library": "labelwise",
                "median s": statistics.median(times),
                "runs": ", ".join(f"{t:.1f}" for t in times),
                "outliers": res[0],
                "near-dup pairs": res[1],
                "planted copies": n // 100,
            }
        )
    if datalab_n:
        from cleanlab import Datalab

        X = embeddings(datalab_n)
        t0 = time.perf_counter()
        res = audit_pass(X)
        t_lw = time.perf_counter() - t0
        y = np.zeros(datalab_n, dtype=int)
        y[::2] = 1
        t0 = time.perf_counter()
        lab = Datalab(data={"label": y}, label_name="label", verbosity=0)
        lab.find_issues(features=X, issue_types={"outlier": {}, "near_duplicate": {}})
        t_dl = time.perf_counter() - t0
        summ = lab.get_issue_summary().set_index("issue_type")["num_issues"]
        rows.append(
            {
                "rows": f"{datalab_n:,}",
                "library": "labelwise",
                "median s": t_lw,
                "runs": f"{t_lw:.1f}",
                "outliers": res[0],
                "near-dup pairs": res[1],
                "planted copies": datalab_n // 100,
            }
        )
        rows.append(
            {
                "rows": f"{datalab_n:,}",
                "library": "cleanlab Datalab",
                "median s": t_dl,
                "runs": f"{t_dl:.1f}",
                "outliers": int(summ.get("outlier", -1)),
                "near-dup pairs": int(summ.get("near_duplicate", -1)),
                "planted copies": datalab_n // 100,
            }
        )
        print(f"Datalab / labelwise time at {datalab_n:,} rows: {t_dl / t_lw:.1f}x")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".2f"))


def modify(img: np.ndarray, kind: int, rng: np.random.Generator) -> np.ndarray:
    if kind == 0:
        return np.clip(img + 0.08, 0, 1)
    if kind == 1:
        return np.clip(img + rng.normal(scale=0.05, size=img.shape), 0, 1)
    return img * 0.8


def pixels(flat: np.ndarray) -> np.ndarray:
    """Pixel vectors compared as images: each image's own mean removed, so cosine
    similarity is the images' correlation (blind to brightness and contrast)."""
    return flat - flat.mean(axis=1, keepdims=True)


def planted() -> None:
    rng = np.random.default_rng(0)
    imgs, _ = load_fashion_mnist("train")
    base = imgs[rng.choice(len(imgs), 20_000, replace=False)].reshape(20_000, -1) / 255.0
    n_copy = 1000
    src = rng.choice(20_000, n_copy, replace=False)
    kinds = np.arange(n_copy) % 3
    copies = np.stack([modify(base[s], k, rng) for s, k in zip(src, kinds, strict=True)])
    X = pixels(np.vstack([base, copies]))
    truth = {(int(s), 20_000 + i) for i, s in enumerate(src)}
    natural = find_near_duplicates(X[:20_000]).pairs.shape[0]
    t0 = time.perf_counter()
    dup = find_near_duplicates(X)
    took = time.perf_counter() - t0
    found = {(int(a), int(b)) for a, b in dup.pairs}
    found_planted = {p for p in found if p[1] >= 20_000}
    tp = len(found & truth)
    rows = []
    for k, name in enumerate(["brightness +0.08", "Gaussian noise sd 0.05", "re-scaled x0.8"]):
        t_k = {p for p, kk in zip(sorted(truth, key=lambda p: p[1]), kinds, strict=True) if kk == k}
        rows.append({"copies": name, "planted": len(t_k), "recall": len(found & t_k) / len(t_k)})
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
    print(
        f"\nplanted pairs: {len(truth)}, found pairs: {len(found)} ({took:.1f} s); "
        f"recall {tp / len(truth):.3f}; precision among pairs that involve a copy "
        f"{tp / max(len(found_planted), 1):.3f}; precision over all pairs "
        f"{tp / max(len(found), 1):.3f} "
        f"(the clean 20,000 images alone hold {natural} natural near-duplicate pairs at the "
        "same threshold)"
    )
    test, _ = load_fashion_mnist("test")
    Xt = test.reshape(len(test), -1) / 255.0
    leak_src = rng.choice(20_000, 500, replace=False)
    leaked = np.stack([modify(base[s], i % 3, rng) for i, s in enumerate(leak_src)])
    Xt = np.vstack([Xt, leaked])
    truth_leak = np.r_[np.zeros(len(test), bool), np.ones(500, bool)]
    t0 = time.perf_counter()
    lk = find_leakage(pixels(base), pixels(Xt))
    took = time.perf_counter() - t0
    tp = int((lk.is_leaked & truth_leak).sum())
    match_ok = float((lk.train_match[len(test) :] == leak_src).mean())
    print(
        f"\nleakage: {len(Xt):,} test items ({500} planted copies of train items) against 20,000 "
        f"train: flagged {lk.n_leaked}, recall {tp / 500:.3f}, precision "
        f"{tp / max(lk.n_leaked, 1):.3f}, right train match {match_ok:.3f}, {took:.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200000,1000000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--datalab-n", type=int, default=10_000)
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    if not args.skip_speed:
        speed([int(s) for s in args.sizes.split(",")], args.repeats, args.datalab_n)
    planted()


if __name__ == "__main__":
    main()
