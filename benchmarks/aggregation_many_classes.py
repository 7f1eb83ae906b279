"""Many classes: time and peak memory of aggregation with 10,000 classes, before/after.

Run with the peer venv (``make bench-env``)::

    OMP_NUM_THREADS=1 .bench-venv/bin/python benchmarks/aggregation_many_classes.py \
        [--before-src /path/to/old/src]

A simulated crowd like entity linking: 10,000 items whose true class is one of
10,000, three answers each from 200 annotators (accuracy 0.55-0.95, wrong answers
uniform over the other classes): 30,000 answers naming about 9,500 distinct classes.
Each (code, method, scale) runs in its own process under a 3 GiB address-space cap,
so peak memory is that process's max RSS; ``--before-src`` points at the ``src``
folder of an older labelwise (e.g. ``git archive 77d4f4a src | tar -x -C /tmp/old``)
to measure it on the same data. crowd-kit's MajorityVote and Wawa run on the same
answers as the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table

CAP_BYTES = 3 * 2**30

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
cap, kind, method, n_items, n_classes = sys.argv[1:6]
resource.setrlimit(resource.RLIMIT_AS, (int(cap), int(cap)))
rng = np.random.default_rng(0)
n_items, n_classes, per_item, n_workers = int(n_items), int(n_classes), 3, 200
truth = rng.integers(0, n_classes, n_items)
acc = rng.uniform(0.55, 0.95, n_workers)
item = np.repeat(np.arange(n_items), per_item)
worker = np.concatenate([rng.choice(n_workers, per_item, replace=False) for _ in truth])
right = rng.random(item.size) < acc[worker]
wrong = (truth[item] + rng.integers(1, n_classes, item.size)) % n_classes
label = np.where(right, truth[item], wrong)
out = {"answers": int(item.size), "classes seen": int(np.unique(label).size)}
try:
    warnings.simplefilter("ignore")
    # imports and input building stay outside the timed fit
    if kind == "crowd-kit":
        import pandas as pd
        import crowdkit.aggregation as ck
        frame = pd.DataFrame({"task": item, "worker": worker, "label": label})
        start = time.perf_counter()
        pred = getattr(ck, method)().fit_predict(frame)
        codes = pred.sort_index().to_numpy()
    else:
        from labelwise import Annotations, make_aggregator
        ann = Annotations.from_codes(item, worker, label, n_items=n_items,
                                     n_workers=n_workers, n_classes=n_classes)
        start = time.perf_counter()
        codes = make_aggregator(method).fit(ann).label_codes_
    out["seconds"] = time.perf_counter() - start
    out["accuracy"] = float((codes == truth).mean())
    out["status"] = "ok"
except MemoryError:
    out["status"] = "MemoryError at the cap"
except Exception as exc:  # a refusal (ResourceError) is a result, not a crash
    out["status"] = f"{type(exc).__name__}: {str(exc)[:120]}"
out["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run(kind: str, method: str, n_items: int, n_classes: int, src: str | None) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(CAP_BYTES), kind, method, str(n_items), str(n_classes)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"status": f"crashed: {proc.stderr.strip().splitlines()[-1:]}"}
    return dict(json.loads(lines[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-src", default=None)
    parser.add_argument("--methods", default="mv,wmv,onecoin,glad,ds,mace")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    codes = [("after", None)] + ([("before", args.before_src)] if args.before_src else [])
    rows = []
    for n in (5_000, 10_000):
        for method in args.methods.split(","):
            for name, src in codes:
                res = run(name, method, n, n, src)
                rows.append({"items = classes": n, "method": method, "code": name, **res})
                print(json.dumps(rows[-1]), flush=True)
        for method in () if args.no_peer else ("MajorityVote", "Wawa"):
            res = run("crowd-kit", method, n, n, None)
            rows.append({"items = classes": n, "method": method, "code": "crowd-kit", **res})
            print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print(f"machine: {machine()}; each run in its own process, capped at 3 GiB")
    print_table(table, "10,000-class aggregation: time and peak memory")


if __name__ == "__main__":
    main()
