"""Real near duplicates in CIFAR-10 and AG News, and the splits they leak through.

Runs, on the same data in one run:

- labelwise's calibrated near-duplicate search (``image_embedding`` + ``near_duplicates``)
  against the fixed-cosine baseline (``find_leakage`` at cosine 0.98 on raw pixels,
  the detector the issue found wanting): test images with a train near duplicate;
- pairs within train, within test, and across, on CIFAR-10 and on AG News (MiniLM);
- near-duplicate pairs that cross a random 80/10/10 split (scikit-learn's
  ``train_test_split``, the usual practice) versus ``labelwise.split.split_dataset``
  with the near-duplicate groups.

It writes pair sheets (PNG) for judging by eye and a text sample of AG News pairs to
``--out`` (default ``benchmarks/figures/near_duplicates``).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/near_duplicates.py
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.curate import find_leakage
from labelwise.curate.embeddings import image_embedding, text_embedding
from labelwise.curate.near_duplicates import content_keys, near_duplicates
from labelwise.report.sections.near_duplicates import pair_sheet
from labelwise.split import crossing_pairs, split_dataset

DATA = Path(__file__).resolve().parents[1].parent.parent / "shared" / "data"


def _data_dir(arg: str | None) -> Path:
    for cand in [Path(arg)] if arg else [DATA, Path("/work/shared/data"), Path("../shared/data")]:
        if (cand / "images" / "cifar10").exists():
            return cand
    raise SystemExit("CIFAR-10 not found: pass --data DIR (the shared/data folder).")


def load_cifar(data: Path) -> tuple[np.ndarray, pd.DataFrame]:
    from PIL import Image

    labels = pd.read_csv(data / "images" / "cifar10" / "labels.csv")
    with zipfile.ZipFile(data / "images" / "cifar10" / "cifar10_jpg.zip") as z:
        imgs = np.stack(
            [np.asarray(Image.open(io.BytesIO(z.read(f))).convert("RGB")) for f in labels.file]
        )
    return imgs, labels


def random_vs_labelwise(ids, labels, pairs, seed: int) -> tuple[int, int, int]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(ids))
    tr, rest = train_test_split(idx, test_size=0.2, random_state=seed, stratify=labels)
    va, _te = train_test_split(rest, test_size=0.5, random_state=seed, stratify=labels[rest])
    rand = np.full(len(ids), "test", dtype=object)
    rand[tr], rand[va] = "train", "val"
    lw = split_dataset(ids, labels, pairs=pairs, seed=seed)
    return len(pairs), crossing_pairs(pairs, rand), crossing_pairs(pairs, lw.split)


def _where(pairs: np.ndarray, is_test: np.ndarray) -> pd.Series:
    kind = is_test[pairs[:, 0]].astype(int) + is_test[pairs[:, 1]].astype(int)
    return pd.Series(kind).map({0: "within train", 1: "train vs test", 2: "within test"})


def _pooled_table(pooled, is_test: np.ndarray, title: str) -> None:
    where = _where(pooled.pairs, is_test)
    rows = []
    for w in ("train vs test", "within train", "within test"):
        m = (where == w).to_numpy()
        rows.append((w, int(m.sum()), int(pooled.exact[m].sum())))
    print_table(pd.DataFrame(rows, columns=["where", "pairs", "of which exact"]), title)


def cifar(data: Path, out: Path, z: float, seeds: int, baseline: bool) -> None:
    t0 = time.perf_counter()
    imgs, lab = load_cifar(data)
    is_test = (lab.split == "test").to_numpy()
    tr, te = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    t_load = time.perf_counter() - t0
    emb_path = Path(tempfile.gettempdir()) / "labelwise-bench-cifar10-embedding.npy"
    t0 = time.perf_counter()
    if emb_path.exists():  # the embedding is a pure function of the images: reuse it
        emb = np.load(emb_path)
    else:
        emb = image_embedding(imgs)
        np.save(emb_path, emb)
    t_emb = time.perf_counter() - t0
    keys = content_keys(imgs)
    t0 = time.perf_counter()
    # one search at a lower cut: the calibration does not depend on the cut, so the
    # pairs at z >= z and the ones just below it come from the same pass
    wide = near_duplicates(
        emb[te], reference=emb[tr], z_threshold=0.75 * z, keys=keys[te], reference_keys=keys[tr]
    )
    t_leak = time.perf_counter() - t0
    frame = wide.frame()
    leak = frame[frame.z >= z]
    best = leak.drop_duplicates("a")  # one pair per test image: its strongest
    print(f"\nCIFAR-10: load {t_load:.1f} s, embedding {t_emb:.1f} s, search {t_leak:.1f} s")
    print("calibration (test vs train):", wide.calibration.describe())
    rows = [(f"labelwise calibrated gap (z >= {z:g})", len(best), len(leak))]
    if baseline:
        flat = imgs.reshape(len(imgs), -1).astype(np.float32)
        base_raw = find_leakage(flat[tr], flat[te], threshold=0.98)
        rows.append(("fixed cosine 0.98, raw pixels", base_raw.n_leaked, base_raw.n_leaked))
    print_table(
        pd.DataFrame(rows, columns=["detector", "test images with a train copy", "pairs"]),
        "CIFAR-10 (20,000 train, 10,000 test): train/test near duplicates",
    )
    files = lab.file.to_numpy()
    best.assign(test_file=files[te][best.a], train_file=files[tr][best.b]).to_csv(
        out / "cifar_test_train_pairs.csv", index=False
    )
    rng = np.random.default_rng(0)
    sample = best.iloc[np.sort(rng.choice(len(best), size=min(96, len(best)), replace=False))]
    for part in range(0, len(sample), 48):
        chunk = sample.iloc[part : part + 48]
        pair_sheet(
            imgs[te][chunk.a.to_numpy()],
            imgs[tr][chunk.b.to_numpy()],
            [f"{part + i}: z {v:.1f}" for i, v in enumerate(chunk.z)],
            out / f"cifar_sample_{part // 48}.png",
        )
    below = frame[frame.z < z].drop_duplicates("a")
    below = below[~below.a.isin(best.a)]
    pick = below.iloc[np.sort(rng.choice(len(below), size=min(24, len(below)), replace=False))]
    pair_sheet(
        imgs[te][pick.a.to_numpy()],
        imgs[tr][pick.b.to_numpy()],
        [f"{i}: z {v:.1f}" for i, v in enumerate(pick.z)],
        out / "cifar_below_threshold.png",
    )
    print(f"test images with a best pair at {0.75 * z:g} <= z < {z:g}: {len(below)}")
    # pooled search over all 30,000: pairs of every kind, and the splits they cross
    pooled = near_duplicates(emb, z_threshold=z, keys=keys)
    print("calibration (pooled):", pooled.calibration.describe())
    _pooled_table(pooled, is_test, "CIFAR-10 (30,000 pooled) near-duplicate pairs found")
    ids = lab.file.to_numpy()
    y = lab.label.to_numpy()
    res = [random_vs_labelwise(ids, y, pooled.pairs, s) for s in range(seeds)]
    print_table(
        pd.DataFrame(
            [(s, *r) for s, r in enumerate(res)],
            columns=["seed", "near-dup pairs", "crossing random split", "crossing labelwise split"],
        ),
        "CIFAR-10 (30,000 pooled): near-duplicate pairs crossing an 80/10/10 split",
    )


def ag_news_copies(tr: pd.DataFrame, te: pd.DataFrame, out: Path, z: float) -> None:
    """Copies of article text: ``text_embedding`` (character n-grams) instead of MiniLM."""
    t0 = time.perf_counter()
    emb = text_embedding(tr.text.tolist() + te.text.tolist())
    print(f"\nAG News text_embedding: {time.perf_counter() - t0:.1f} s")
    near = near_duplicates(
        emb[len(tr) :],
        reference=emb[: len(tr)],
        z_threshold=3.0,
        keys=content_keys(te.text.tolist()),
        reference_keys=content_keys(tr.text.tolist()),
    )
    print("calibration (test vs train):", near.calibration.describe())
    best = near.frame().drop_duplicates("a")
    counts = [(c, int((best.z >= c).sum())) for c in (3, 4, 5, 6, 8)]
    print_table(pd.DataFrame(counts, columns=["z >=", "test items"]), "AG News, text_embedding")
    rng = np.random.default_rng(0)
    with open(out / "ag_news_text_embedding_sample.txt", "w") as fh:
        for lo, hi in ((8.0, np.inf), (z, 8.0), (3.0, z)):
            band = best[(best.z >= lo) & (best.z < hi)]
            pick = band.iloc[np.sort(rng.choice(len(band), size=min(12, len(band)), replace=False))]
            fh.write(f"=== {lo:g} <= z < {hi:g}: {len(band)} test items\n")
            for r in pick.itertuples():
                fh.write(f"z={r.z:.1f} sim={r.similarity:.3f}\n")
                fh.write(
                    f"  TEST : {te.text.iloc[r.a][:200]}\n  TRAIN: {tr.text.iloc[r.b][:200]}\n"
                )


def ag_news(data: Path, out: Path, z: float, seeds: int) -> None:
    base = data / "text" / "ag_news"
    tr = pd.read_csv(base / "train.csv")
    te = pd.read_csv(base / "test.csv")
    etr = np.load(base / "train.minilm.npy").astype(np.float32)
    ete = np.load(base / "test.minilm.npy").astype(np.float32)
    ktr, kte = content_keys(tr.text.tolist()), content_keys(te.text.tolist())
    leak = near_duplicates(ete, reference=etr, z_threshold=z, keys=kte, reference_keys=ktr)
    print("\nAG News calibration (test vs train):", leak.calibration.describe())
    print(
        f"AG News test items with a train near duplicate: {int(leak.flagged().sum())} of "
        f"{len(te)} ({leak.n_pairs} pairs, {int(leak.exact.sum())} exact)"
    )
    rng = np.random.default_rng(0)
    f = leak.frame()
    sample = f.iloc[np.sort(rng.choice(len(f), size=min(40, len(f)), replace=False))]
    with open(out / "ag_news_sample.txt", "w") as fh:
        for i, r in enumerate(sample.itertuples()):
            fh.write(f"[{i}] z={r.z:.1f} sim={r.similarity:.3f} exact={r.exact}\n")
            fh.write(f"  TEST : {te.text.iloc[r.a][:300]}\n  TRAIN: {tr.text.iloc[r.b][:300]}\n\n")
    allx = np.concatenate([etr, ete])
    is_test = np.r_[np.zeros(len(tr), bool), np.ones(len(te), bool)]
    ids = np.r_[[f"train/{i}" for i in range(len(tr))], [f"test/{i}" for i in range(len(te))]]
    y = np.r_[tr.label.to_numpy(), te.label.to_numpy()]
    pooled = near_duplicates(allx, z_threshold=z, keys=np.r_[ktr, kte])
    print("AG News calibration (pooled):", pooled.calibration.describe())
    _pooled_table(pooled, is_test, "AG News (17,601 pooled, MiniLM) near-duplicate pairs found")
    res = [random_vs_labelwise(ids, y, pooled.pairs, s) for s in range(seeds)]
    print_table(
        pd.DataFrame(
            [(s, *r) for s, r in enumerate(res)],
            columns=["seed", "near-dup pairs", "crossing random split", "crossing labelwise split"],
        ),
        "AG News (17,601 pooled): near-duplicate pairs crossing an 80/10/10 split",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default="benchmarks/figures/near_duplicates")
    ap.add_argument("--z", type=float, default=8.0, help="cut for the image embedding")
    ap.add_argument("--z-text", type=float, default=3.5, help="cut for MiniLM sentence embeddings")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--only", choices=["cifar", "ag_news"], default=None)
    ap.add_argument(
        "--baseline", action="store_true", help="also run the fixed 0.98 cosine on raw pixels"
    )
    ap.add_argument(
        "--text-embedding",
        action="store_true",
        help="also search AG News with text_embedding (character n-grams; ~10 min here)",
    )
    args = ap.parse_args()
    data = _data_dir(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(machine())
    if args.only in (None, "cifar"):
        cifar(data, out, args.z, args.seeds, args.baseline)
    if args.only in (None, "ag_news"):
        ag_news(data, out, args.z_text, args.seeds)
        if args.text_embedding:
            base = data / "text" / "ag_news"
            ag_news_copies(
                pd.read_csv(base / "train.csv"), pd.read_csv(base / "test.csv"), out, 5.0
            )


if __name__ == "__main__":
    main()
