"""Load and crash safety of the labeling service: concurrent simulated annotators on
loopback, next-task + answer pairs per second with p50/p99 latency, then the checks.

Items are real texts (AG News, 4 classes, from the shared data folder); the answers
are simulated (each annotator answers the true class with its own accuracy, else a
random class). The server runs as a separate uvicorn process (SQLite: one process with
group commit, ``synchronous=FULL``; PostgreSQL: ``--pg-workers`` processes on Debian's
server). With ``--crash`` the server is killed with SIGKILL halfway and restarted;
clients retry unacknowledged answers with the same client key.

Afterwards: every acknowledged answer is in the export, none twice, no item beyond its
overlap, no lease left alive once they expire, and the service's consensus export equals
``labelwise aggregate`` on the exported answers.

    nice -n 10 .venv/bin/python benchmarks/service_load.py --backend sqlite --crash
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(
    url: str, n_items: int, n_clients: int, overlap: int, policy: str, lease: int
) -> tuple[dict[str, str], str, list[str], np.ndarray]:
    from labelwise.datasets import shared_data_dir
    from labelwise.service import ItemIn, LabelService, ProjectSpec, open_database

    data = pd.read_csv(shared_data_dir() / "text" / "ag_news" / "train.csv").head(n_items)
    classes = sorted(data["label"].unique())
    svc = LabelService(open_database(url))
    svc.create_project(
        ProjectSpec(
            name="news",
            classes=classes,
            overlap=overlap,
            policy=policy,
            lease_seconds=lease,
            model_every=0,
        )
    )
    svc.add_items(
        "news", [ItemIn(id=f"n{i:05d}", content=str(t)) for i, t in enumerate(data["text"])]
    )
    _, admin = svc.create_person("admin", "admin")
    tokens = {}
    for j in range(n_clients):
        who, tok = svc.create_person(f"ann{j:02d}")
        tokens[who.name] = tok
    svc.assign("news", list(tokens))
    svc.close()
    truth = np.asarray([classes.index(c) for c in data["label"]])
    return tokens, admin, classes, truth


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LABELWISE_DB": url, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "labelwise.service.api:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    import urllib.request

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start; see {log}")


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[2]) == pgid:  # field 5 of /proc/pid/stat: the process group
            total += (int(f[11]) + int(f[12])) / tick
    return total


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the server and its worker processes, no goodbye
    proc.wait()


async def client(
    name: str,
    token: str,
    base: str,
    deadline: float,
    classes: list[str],
    truth: np.ndarray,
    acc: float,
    seed: int,
    out: dict[str, Any],
) -> None:
    import aiohttp

    rng = np.random.default_rng(seed)
    h = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=h) as s:
        pending: dict[str, Any] | None = None  # an answer sent but not acknowledged
        while time.time() < deadline:
            try:
                if pending is None:
                    t0 = time.perf_counter()
                    async with s.post(f"{base}/api/projects/news/next") as r:
                        body = await r.json()
                    t1 = time.perf_counter()
                    task = body["task"]
                    if task is None:
                        await asyncio.sleep(0.2)
                        continue
                    i = int(task["external_id"][1:])
                    lab = int(truth[i]) if rng.random() < acc else int(rng.integers(len(classes)))
                    pending = {
                        "item_id": task["item_id"],
                        "label": classes[lab],
                        "client_key": uuid.uuid4().hex,
                        "ext": task["external_id"],
                        "t0": t0,
                        "t1": t1,
                    }
                body_ = {k: pending[k] for k in ("item_id", "label", "client_key")}
                t2 = time.perf_counter()
                async with s.post(f"{base}/api/projects/news/answers", json=body_) as r:
                    status = r.status
                    await r.read()
                t3 = time.perf_counter()
                if status in (200, 201):
                    out["acked"].append((pending["client_key"], pending["ext"], name))
                    if not out["crashing"] and status == 201:
                        out["pairs"].append(t3 - pending["t0"])
                        out["next"].append(pending["t1"] - pending["t0"])
                        out["answer"].append(t3 - t2)
                    out["done_at"].append(time.time())
                    pending = None
                elif status == 409:  # lease expired and the item filled meanwhile
                    out["conflicts"] += 1
                    pending = None
                else:
                    out["errors"].append(status)
                    pending = None
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                out["retries"] += 1  # the server is down: retry the same answer shortly
                await asyncio.sleep(0.1)


async def run_clients(
    tokens: dict[str, str],
    base: str,
    seconds: float,
    classes: list[str],
    truth: np.ndarray,
    out: dict[str, Any],
    crash_at: float | None,
    crash: Any,
) -> None:
    deadline = time.time() + seconds
    rng = np.random.default_rng(0)
    accs = rng.uniform(0.6, 0.95, len(tokens))
    tasks = [
        asyncio.create_task(client(n, t, base, deadline, classes, truth, float(a), k, out))
        for k, ((n, t), a) in enumerate(zip(tokens.items(), accs, strict=True))
    ]
    if crash_at is not None:
        await asyncio.sleep(crash_at)
        await asyncio.get_running_loop().run_in_executor(None, crash)
    await asyncio.gather(*tasks)


def one_run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    import urllib.request

    from _service import postgres_url
    from labelwise.service import sqlite_url

    tmp = Path(tempfile.mkdtemp(prefix=f"lw-load-{backend}-"))
    if backend == "sqlite":
        url, workers = sqlite_url(tmp / "lw.db"), 1
    else:
        pg = postgres_url()
        if pg is None:
            print("PostgreSQL could not be started here: skipped")
            return {}
        url, workers = pg, args.pg_workers
    tokens, admin, classes, truth = setup(
        url, args.items, args.clients, args.overlap, args.policy, args.lease
    )
    port = _port()
    log = tmp / "server.log"
    proc = start_server(url, port, workers, log)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {
        "acked": [],
        "pairs": [],
        "next": [],
        "answer": [],
        "errors": [],
        "retries": 0,
        "conflicts": 0,
        "crashing": False,
        "done_at": [],
    }
    state = {"proc": proc, "leased_at_crash": None}

    cpu = {"server": 0.0}

    def crash() -> None:
        out["crashing"] = True
        cpu["server"] += group_cpu(state["proc"].pid)
        kill(state["proc"])
        from sqlalchemy import select

        from labelwise.service import open_database
        from labelwise.service.db import leases

        db = open_database(url, migrate=False)
        with db.read() as c:
            state["leased_at_crash"] = c.execute(select(leases.c.item_id)).scalars().all()
        db.dispose()
        t = time.time()
        state["proc"] = start_server(url, port, workers, log)
        out["downtime"] = time.time() - t
        out["crashing"] = False

    load0 = os.getloadavg()
    t0 = time.time()
    cpu0 = group_cpu(proc.pid) + 0.0
    client0 = time.process_time()
    asyncio.run(
        run_clients(
            tokens,
            base,
            args.seconds,
            classes,
            truth,
            out,
            args.seconds / 2 if args.crash else None,
            crash,
        )
    )
    wall = time.time() - t0
    load1 = os.getloadavg()
    server_cpu = cpu["server"] + group_cpu(state["proc"].pid) - cpu0
    client_cpu = time.process_time() - client0
    h = {"Authorization": f"Bearer {admin}"}

    def get(path: str) -> bytes:
        req = urllib.request.Request(base + path, headers=h)
        return urllib.request.urlopen(req, timeout=120).read()

    time.sleep(args.lease + 1)  # every lease of the run has expired now
    (tmp / "answers.csv").write_bytes(get("/api/admin/projects/news/export/answers.csv"))
    (tmp / "consensus.csv").write_bytes(get("/api/admin/projects/news/export/consensus.csv"))
    import json

    stats = json.loads(get("/api/admin/projects/news/stats"))
    kill(state["proc"])
    exp = pd.read_csv(tmp / "answers.csv")
    acked = pd.DataFrame(out["acked"], columns=["client_key", "item", "worker"])
    lost = int((~acked["client_key"].isin(exp["client_key"])).sum())
    dup_keys = int(exp["client_key"].duplicated().sum())
    dup_pairs = int(exp.duplicated(["item", "worker"]).sum())
    per_item = exp.groupby("item").size()
    cli = subprocess.run(
        [
            str(Path(sys.executable).parent / "labelwise"),
            "aggregate",
            str(tmp / "answers.csv"),
            "-m",
            "mv" if args.policy == "fixed" else "ds",
            "--classes",
            ",".join(classes),
            "-o",
            str(tmp / "offline.csv"),
        ],
        capture_output=True,
        text=True,
    )
    same = None
    if cli.returncode == 0:
        a = pd.read_csv(tmp / "consensus.csv").set_index("item")
        b = pd.read_csv(tmp / "offline.csv").set_index("item")
        same = bool(
            a.index.equals(b.index)
            and (a["label"] == b["label"]).all()
            and np.allclose(a["confidence"], b["confidence"])
        )
    from sqlalchemy import func, select

    from labelwise.service import open_database
    from labelwise.service.db import leases

    db = open_database(url, migrate=False)
    with db.read() as c:
        live_leases = c.execute(
            select(func.count()).select_from(leases).where(leases.c.expires_at > time.time())
        ).scalar_one()
    db.dispose()
    pairs = np.asarray(out["pairs"]) * 1000
    res = {
        "backend": backend + ("" if workers == 1 else f" ({workers} processes)"),
        "clients": args.clients,
        "seconds": round(wall, 1),
        "pairs": len(out["acked"]),
        "pairs/s": round(len(out["acked"]) / wall, 1),
        "p50 ms": round(float(np.percentile(pairs, 50)), 1) if pairs.size else None,
        "p99 ms": round(float(np.percentile(pairs, 99)), 1) if pairs.size else None,
        "next p99 ms": round(float(np.percentile(np.asarray(out["next"]) * 1000, 99)), 1)
        if out["next"]
        else None,
        "answer p99 ms": round(float(np.percentile(np.asarray(out["answer"]) * 1000, 99)), 1)
        if out["answer"]
        else None,
        "acked": len(acked),
        "exported": len(exp),
        "lost": lost,
        "duplicated": dup_keys + dup_pairs,
        "max answers/item": int(per_item.max()) if len(per_item) else 0,
        "overlap": args.overlap,
        "consensus == aggregate": same,
        "live leases after expiry": int(live_leases),
        "errors": len(out["errors"]),
        "409 (expired lease)": out["conflicts"],
        "load avg before/after": f"{load0[0]:.1f}/{load1[0]:.1f}",
        "server CPU s": round(server_cpu, 1),
        "pairs per server CPU s": round(len(out["acked"]) / max(server_cpu, 1e-9), 1),
        "client CPU s": round(client_cpu, 1),
        "items done": stats["items_done"],
    }
    if args.crash:
        res["killed"] = "SIGKILL at %.0f s" % (args.seconds / 2)
        res["restart s"] = round(out.get("downtime", float("nan")), 1)
        res["client retries"] = out["retries"]
        lac = state["leased_at_crash"] or []
        res["leased at kill"] = len(lac)
    print(pd.Series(res).to_string())
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--overlap", type=int, default=3)
    ap.add_argument("--policy", default="dynamic")
    ap.add_argument("--lease", type=int, default=10)
    ap.add_argument("--pg-workers", type=int, default=2)
    ap.add_argument(
        "--crash", action="store_true", help="SIGKILL the server halfway and restart it"
    )
    args = ap.parse_args()
    rows = []
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        r = one_run(backend, args)
        if r:
            rows.append(r)
    if rows:
        cols = [
            "backend",
            "pairs/s",
            "p50 ms",
            "p99 ms",
            "server CPU s",
            "pairs per server CPU s",
            "lost",
            "duplicated",
            "max answers/item",
            "consensus == aggregate",
            "load avg before/after",
        ]
        print()
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
