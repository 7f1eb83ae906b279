"""Near duplicates by a calibrated gap: real copies (CIFAR slice), text copies, exact copies."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from labelwise.curate import find_leakage
from labelwise.curate.embeddings import (
    colour_features,
    dct_hash_features,
    hog_features,
    image_embedding,
    text_embedding,
    thumbnail_features,
)
from labelwise.curate.near_duplicates import content_keys, near_duplicates
from labelwise.errors import InputError, ParameterError


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The embeddings' SVDs are small: threads only fight each other on a busy machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _cifar(shared_data, n: int) -> np.ndarray:
    from PIL import Image

    path = shared_data / "images" / "cifar10" / "cifar10_jpg.zip"
    if not path.exists():
        pytest.skip("CIFAR-10 not in the shared data")
    with zipfile.ZipFile(path) as z:
        names = [f"train/{i:05d}.jpg" for i in range(n)]
        return np.stack(
            [np.asarray(Image.open(io.BytesIO(z.read(f))).convert("RGB")) for f in names]
        )


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _altered(imgs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A changed copy of each image: crop+resize, 2-px shift, recolour, or JPEG at quality 40."""
    from PIL import Image

    out = []
    for k, img in enumerate(imgs):
        kind = k % 4
        if kind == 0:
            crop = Image.fromarray(img[2:30, 3:31]).resize((32, 32), Image.BILINEAR)
            out.append(np.asarray(crop))
        elif kind == 1:
            shifted = np.pad(img, ((2, 0), (0, 2), (0, 0)), mode="edge")[:32, 2:]
            out.append(shifted)
        elif kind == 2:
            perm = img[..., rng.permutation(3)].astype(np.float64) * 0.85 + 20
            out.append(np.clip(perm, 0, 255).astype(np.uint8))
        else:
            out.append(_jpeg(img, 40))
    return np.stack(out)


def test_real_images_altered_copies_found_in_train(shared_data):
    imgs = _cifar(shared_data, 600)
    rng = np.random.default_rng(0)
    src = rng.choice(600, 40, replace=False)
    copies = _altered(imgs[src], rng)
    test = np.concatenate([copies, _cifar_tail(imgs)])
    train = imgs
    emb = image_embedding(np.concatenate([train, test]))
    near = near_duplicates(emb[600:], reference=emb[:600])
    best = near.frame().drop_duplicates("a").set_index("a")["b"]
    found = sum(int(best.get(k, -1) == s) for k, s in enumerate(src))
    assert found >= 32, f"only {found} of 40 altered copies found"
    # the unrelated test images (rows 40..) have no near duplicate among the 600
    false = int((best.index >= 40).sum())
    assert false <= 2
    assert "robust scale" in near.calibration.describe()


def _cifar_tail(imgs: np.ndarray) -> np.ndarray:
    # unrelated images: the same photos flipped upside down and colour-inverted
    return 255 - imgs[:60, ::-1]


def test_fixed_cosine_misses_what_the_calibrated_gap_finds(shared_data):
    imgs = _cifar(shared_data, 400)
    rng = np.random.default_rng(1)
    src = np.arange(0, 400, 20)
    copies = _altered(imgs[src], rng)
    flat = np.concatenate([imgs, copies]).reshape(420, -1).astype(np.float64)
    fixed = find_leakage(flat[:400], flat[400:], threshold=0.98)
    emb = image_embedding(np.concatenate([imgs, copies]))
    auto = find_leakage(emb[:400], emb[400:], threshold="auto")
    assert auto.n_leaked > fixed.n_leaked
    assert (auto.train_match[auto.is_leaked] == src[auto.is_leaked]).mean() >= 0.9
    assert 0 < auto.threshold < 1.5


def test_exact_copies_always_pair_even_when_the_gap_misses():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 24))
    X[50:60] = X[0]  # ten identical rows: every one is an "ordinary" neighbour of the others
    keys = content_keys(X)
    near = near_duplicates(X, keys=keys)
    exact = {tuple(p) for p, e in zip(near.pairs.tolist(), near.exact, strict=True) if e}
    assert {(0, j) for j in range(50, 60)} <= exact
    assert np.isinf(near.z[near.exact]).all()
    assert near.groups()[[0, *range(50, 60)]].min() == near.groups()[0]


def test_planted_gaussian_copy_and_nothing_else():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 64))
    X[7] = X[200] + 0.05 * rng.normal(size=64)
    near = near_duplicates(X)
    assert near.pairs.tolist() == [[7, 200]]
    assert near.z[0] >= near.calibration.z_threshold
    assert near.flagged().sum() == 2


def test_cross_search_returns_pairs_across_only():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(300, 32))
    q = rng.normal(size=(100, 32))
    q[5] = ref[17] * 3.0
    q[6] = q[7]  # a copy inside the query set is not leakage
    near = near_duplicates(q, reference=ref)
    assert near.pairs.tolist() == [[5, 17]]
    assert near.groups().shape == (400,)
    assert near.groups()[5] == near.groups()[100 + 17] >= 0


def test_text_copies_survive_reencoding(shared_data):
    path = shared_data / "text" / "ag_news" / "train.csv"
    if not path.exists():
        pytest.skip("AG News not in the shared data")
    texts = pd.read_csv(path, nrows=400)["text"].tolist()
    copies = [
        texts[3].upper(),
        texts[10].replace("'", " #39;").replace(" ", "  "),
        texts[25] + " (Reuters)",
    ]
    emb = text_embedding(texts + copies)
    near = near_duplicates(emb[400:], reference=emb[:400])
    best = near.frame().drop_duplicates("a").set_index("a")["b"].to_dict()
    assert best == {0: 3, 1: 10, 2: 25}


def test_parts_are_invariant_to_what_they_should_ignore():
    rng = np.random.default_rng(0)
    base = rng.random((4, 32, 32, 3))
    brighter = np.clip(base * 0.7 + 0.2, 0, 1)
    assert np.allclose(thumbnail_features(base), thumbnail_features(base * 0.5 + 0.25), atol=1e-5)
    assert (hog_features(base) * hog_features(brighter)).sum(axis=1).min() > 0.9
    assert dct_hash_features(base).shape == (4, 63)
    assert np.allclose(np.linalg.norm(colour_features(base), axis=1), 1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: image_embedding(np.zeros((3, 4, 4))), "at least 8 x 8"),
        (lambda: image_embedding(np.zeros((3, 32, 32, 2))), "shape"),
        (lambda: image_embedding(np.zeros((3, 32, 32)), weights={"sift": 1}), "unknown"),
        (lambda: text_embedding(["a", 3]), r"texts\[1\]"),
        (lambda: near_duplicates(np.zeros((2, 4))), "at least 3"),
        (lambda: near_duplicates(np.eye(5), reference=np.eye(4)), "features"),
        (lambda: near_duplicates(np.eye(5), keys=["a"]), "keys has 1"),
        (lambda: find_leakage(np.eye(5), np.eye(5), threshold="fixed"), "auto"),
    ],
)
def test_bad_input_names_what_is_wrong(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_bad_parameters():
    with pytest.raises(ParameterError, match="ordinary"):
        near_duplicates(np.eye(6), ordinary=(5, 2))
    with pytest.raises(ParameterError, match="z_threshold"):
        near_duplicates(np.eye(6), z_threshold=0)


def test_pairs_follow_the_rows_when_rows_are_reordered():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 48))
    for a, b in [(3, 300), (10, 20), (50, 51)]:
        X[b] = X[a] + 0.03 * rng.normal(size=48)
    base = near_duplicates(X)
    perm = rng.permutation(400)
    moved = near_duplicates(X[perm])
    back = np.sort(perm[moved.pairs], axis=1)
    assert sorted(map(tuple, back.tolist())) == sorted(map(tuple, base.pairs.tolist()))
    cal = base.calibration
    assert cal.gap_threshold == pytest.approx(cal.median + cal.z_threshold * cal.scale)
    assert (base.gap >= cal.gap_threshold - 1e-9).all()
