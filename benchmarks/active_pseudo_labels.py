"""How right self-training's pseudo-labels are, and what a refit with them gains, per set.

One random draw of 100 and of 400 labels per data set of ``active_text.py`` (the same
models and features). For each threshold (0.9, 0.7, every row): the share of the rest of
the pool whose predicted probability reaches it, the share of those pseudo-labels that
are right, and the test accuracy of the model refitted on the labels plus them (each
weighted by its probability), against the labels-only model. It explains where
self-training can help (an under-confident model leaves little above 0.9) and where it
cannot (an over-confident one's pseudo-labels are wrong where classes overlap).

Run: nice -n 10 .venv/bin/python benchmarks/active_pseudo_labels.py
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import active_text as at


def main() -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name in ["digits", "fashion", "ag_news", "sst2", "trec"]:
        Xp, yp, Xt, yt, C = at.DATASETS[name]()
        for n in (100, 400):
            lab = np.random.default_rng(0).choice(len(yp), n, replace=False)
            m = at._model(C).fit(Xp[lab], yp[lab])
            out = [f"{name} n={n} labels-only {(m.predict(Xt) == yt).mean():.3f}"]
            unl = np.setdiff1d(np.arange(len(yp)), lab)
            P = m.predict_proba(Xp[unl])
            pl, conf = m.classes_[P.argmax(1)], P.max(1)
            for t in (0.9, 0.7, 0.0):
                s = conf >= t
                m2 = at._model(C).fit(
                    np.vstack([Xp[lab], Xp[unl[s]]]),
                    np.concatenate([yp[lab], pl[s]]),
                    sample_weight=np.concatenate([np.ones(n), conf[s]]),
                )
                out.append(
                    f"t={t}: share {s.mean():.2f} right {(pl[s] == yp[unl[s]]).mean():.3f} "
                    f"test {(m2.predict(Xt) == yt).mean():.3f}"
                )
            print("; ".join(out), flush=True)


if __name__ == "__main__":
    main()
