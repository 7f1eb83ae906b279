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
import orjson
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def news_items(n: int) -> pd.DataFrame:
    """``n`` AG News texts with their labels: the 10,000 of the training split, then
    the 7,600 of the test split, then those again (the ids stay distinct). Enough items
    that 50 annotators do not run out within a run: at ~1,300 pairs/s a 60 s run
    finishes about 30,000 items at overlap 3 (dynamic overlap stops near 2.6 answers);
    a run that finished every item would count the annotators' idle wait and the
    scarce last items as the service's throughput and latency."""
    from labelwise.datasets import shared_data_dir

    folder = shared_data_dir() / "text" / "ag_news"
    both = pd.concat(
        [pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")], ignore_index=True
    )
    return both.iloc[np.arange(n) % len(both)].reset_index(drop=True)


def setup(
    url: str, n_items: int, n_clients: int, overlap: int, policy: str, lease: int
) -> tuple[dict[str, str], str, list[str], np.ndarray]:
    from labelwise.service import ItemIn, LabelService, ProjectSpec, open_database

    data = news_items(n_items)
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


class ServerError(Exception):
    """The server answered a next-task call with an error status."""


class Http:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection, one
    request at a time. Costs the load generator a fraction of aiohttp's CPU, which
    matters when client and server share two cores."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request; returns the status and the decoded JSON body (or None)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else orjson.dumps(body)
        req = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        try:
            assert self.reader is not None
            self.writer.write(req)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            i = lower.find(b"content-length:")
            if i >= 0:
                n = int(lower[i + 15 : lower.index(b"\r\n", i)])
                raw = await self.reader.readexactly(n)
            elif b"transfer-encoding: chunked" in lower:
                raw = b""
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                    chunk = await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
                    raw += chunk[:-2]
            else:
                raw = b""
            if b"connection: close" in lower:
                self.close()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as e:
            self.close()
            raise ConnectionError(str(e)) from e
        try:
            return status, orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return status, None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Labelwise:
    """The labelwise service's two calls."""

    def __init__(self, project: str = "news") -> None:
        self.project = project

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def next(self, h: Http) -> tuple[Any, str] | None:
        status, body = await h.request("POST", f"/api/projects/{self.project}/next")
        if status != 200:
            raise ServerError(status)
        task = body["task"]
        return None if task is None else (task["item_id"], task["external_id"])

    async def answer(self, h: Http, item: Any, label: str, key: str) -> int:
        status, _ = await h.request(
            "POST",
            f"/api/projects/{self.project}/answers",
            {"item_id": item, "label": label, "client_key": key},
        )
        return status


class LabelStudio:
    """Label Studio's next-task and submit-annotation calls (its labeling stream)."""

    def __init__(self, project_id: int) -> None:
        self.pid = project_id

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Token {token}"}

    async def next(self, h: Http) -> tuple[Any, str] | None:
        status, body = await h.request("GET", f"/api/projects/{self.pid}/next")
        if status == 404:
            return None  # no tasks left for this annotator
        if status != 200:
            raise ServerError(status)
        return body["id"], body["data"]["ext"]

    async def answer(self, h: Http, item: Any, label: str, key: str) -> int:
        result = [
            {
                "from_name": "label",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [label]},
            }
        ]
        status, _ = await h.request(
            "POST", f"/api/tasks/{item}/annotations/", {"result": result, "lead_time": 1.0}
        )
        return status


async def client(
    api: Any,
    name: str,
    token: str,
    port: int,
    deadline: float,
    classes: list[str],
    truth: np.ndarray,
    acc: float,
    seed: int,
    out: dict[str, Any],
) -> None:
    rng = np.random.default_rng(seed)
    h = Http("127.0.0.1", port, api.auth(token))
    pending: dict[str, Any] | None = None  # an answer sent but not acknowledged
    while time.time() < deadline:
        try:
            if pending is None:
                t0 = time.perf_counter()
                task = await api.next(h)
                t1 = time.perf_counter()
                if task is None:
                    await asyncio.sleep(0.2)
                    continue
                item, ext = task
                i = int(ext[1:])
                lab = int(truth[i]) if rng.random() < acc else int(rng.integers(len(classes)))
                pending = {
                    "item": item,
                    "label": classes[lab],
                    "client_key": uuid.uuid4().hex,
                    "ext": ext,
                    "t0": t0,
                    "t1": t1,
                }
            t2 = time.perf_counter()
            status = await api.answer(h, pending["item"], pending["label"], pending["client_key"])
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
        except ServerError as e:
            out["errors"].append(e.args[0])
            await asyncio.sleep(0.05)
        except (TimeoutError, ConnectionError):
            out["retries"] += 1  # the server is down: retry the same answer shortly
            await asyncio.sleep(0.1)
    h.close()


async def run_clients(
    api: Any,
    tokens: dict[str, str],
    port: int,
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
        asyncio.create_task(client(api, n, t, port, deadline, classes, truth, float(a), k, out))
        for k, ((n, t), a) in enumerate(zip(tokens.items(), accs, strict=True))
    ]
    if crash_at is not None:
        await asyncio.sleep(crash_at)
        await asyncio.get_running_loop().run_in_executor(None, crash)
    await asyncio.gather(*tasks)


def _fresh_out() -> dict[str, Any]:
    return {
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


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values) * 1000, q)), 1) if values else None


def _figures(
    name: str,
    args: argparse.Namespace,
    wall: float,
    out: dict[str, Any],
    load0: tuple[float, ...],
    load1: tuple[float, ...],
    server_cpu: float,
) -> dict[str, Any]:
    """Throughput, latency and cost figures of one run."""
    n = len(out["acked"])
    return {
        "backend": name,
        "clients": args.clients,
        "seconds": round(wall, 1),
        "pairs": n,
        "pairs/s": round(n / wall, 1),
        "p50 ms": _ms(out["pairs"], 50),
        "p99 ms": _ms(out["pairs"], 99),
        "next p99 ms": _ms(out["next"], 99),
        "answer p99 ms": _ms(out["answer"], 99),
        "overlap": args.overlap,
        "errors": len(out["errors"]),
        "client retries (connection lost)": out["retries"],
        "409 (expired lease)": out["conflicts"],
        "load avg before/after": f"{load0[0]:.1f}/{load1[0]:.1f}",
        "server CPU s": round(server_cpu, 1),
        "pairs per server CPU s": round(n / max(server_cpu, 1e-9), 1),
    }


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
    out = _fresh_out()
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

    spy = None
    if args.profile:  # sample the server's stacks (py-spy on PATH) while the load runs
        spy = subprocess.Popen(
            ["py-spy", "record", "-p", str(proc.pid), "-o", args.profile, "--format", "raw",
             "-d", str(int(args.seconds)), "-r", "200"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    import gc

    gc.collect()
    gc.freeze()  # the client's own full collections (pandas, the set-up) are no server latency
    load0 = os.getloadavg()
    t0 = time.time()
    cpu0 = group_cpu(proc.pid) + 0.0
    client0 = time.process_time()
    asyncio.run(
        run_clients(
            Labelwise(),
            tokens,
            port,
            args.seconds,
            classes,
            truth,
            out,
            args.seconds / 2 if args.crash else None,
            crash,
        )
    )
    wall = time.time() - t0
    if spy is not None:
        spy.wait()
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
    res = _figures(
        backend + ("" if workers == 1 else f" ({workers} processes)"),
        args, wall, out, load0, load1, server_cpu,
    )  # fmt: skip
    res.update(
        {
            "acked": len(acked),
            "exported": len(exp),
            "lost": lost,
            "duplicated": dup_keys + dup_pairs,
            "max answers/item": int(per_item.max()) if len(per_item) else 0,
            "items beyond overlap": int((per_item > args.overlap).sum()),
            "consensus == aggregate": same,
            "live leases after expiry": int(live_leases),
            "client CPU s": round(client_cpu, 1),
            "items done": stats["items_done"],
        }
    )
    if args.crash:
        res["killed"] = "SIGKILL at %.0f s" % (args.seconds / 2)
        res["restart s"] = round(out.get("downtime", float("nan")), 1)
        lac = state["leased_at_crash"] or []
        res["leased at kill"] = len(lac)
    print(pd.Series(res).to_string())
    return res


LS_TEMPLATE = Path(tempfile.gettempdir()) / "labelwise-bench-labelstudio-template"
LS_ADMIN_TOKEN = "0123456789abcdef0123456789abcdef01234567"


def labelstudio_run(args: argparse.Namespace) -> dict[str, Any]:
    """The same clients against Label Studio (``--ls-python``: its venv's interpreter)
    on its embedded SQLite, served by ``label-studio start``."""

    ls_bin = Path(args.ls_python).parent
    if not (ls_bin / "label-studio").exists():
        print(
            f"Label Studio is not installed at {ls_bin}: skipped (pip install label-studio there)"
        )
        return {}
    env = {**os.environ, "SENTRY_DSN": "", "OMP_NUM_THREADS": "1"}
    if not (LS_TEMPLATE / "label_studio.sqlite3").exists():  # migrations take minutes: once
        subprocess.run(
            [str(ls_bin / "label-studio"), "init", "--no-browser", "--agree-fix-sqlite",
             "--username", "admin@example.com", "--password", "admin-password-1",
             "--user-token", LS_ADMIN_TOKEN],
            env={**env, "LABEL_STUDIO_BASE_DATA_DIR": str(LS_TEMPLATE)},
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="lw-load-labelstudio-"))
    import shutil

    data_dir = tmp / "data"
    shutil.copytree(LS_TEMPLATE, data_dir)
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(data_dir)
    data = news_items(args.items)
    classes = sorted(str(c) for c in data["label"].unique())
    truth = np.asarray([classes.index(c) for c in data["label"]])
    spec = {
        "classes": classes,
        "texts": [str(t) for t in data["text"]],
        "annotators": args.clients,
        "overlap": args.overlap,
    }
    import json

    (tmp / "spec.json").write_text(json.dumps(spec))
    script = ROOT / "benchmarks" / "_labelstudio_setup.py"
    made = subprocess.run(
        [args.ls_python, str(script), str(tmp / "spec.json")],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    setup_out = json.loads(made.stdout.strip().splitlines()[-1])
    port = _port()
    log = tmp / "server.log"
    proc = subprocess.Popen(
        [str(ls_bin / "label-studio"), "start", "--no-browser", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    import urllib.request

    deadline = time.time() + 300
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                kill(proc)
                raise RuntimeError(f"Label Studio did not start; see {log}") from None
            time.sleep(0.5)
    try:
        out = _fresh_out()
        load0 = os.getloadavg()
        cpu0 = group_cpu(proc.pid)
        t0 = time.time()
        asyncio.run(
            run_clients(
                LabelStudio(int(setup_out["project"])),
                setup_out["tokens"],
                port,
                args.seconds,
                classes,
                truth,
                out,
                None,
                None,
            )
        )
        wall = time.time() - t0
        load1 = os.getloadavg()
        server_cpu = group_cpu(proc.pid) - cpu0
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/projects/{setup_out['project']}/export?exportType=JSON",
            headers={"Authorization": f"Token {setup_out['admin']}"},
        )
        tasks = json.loads(urllib.request.urlopen(req, timeout=300).read())
    finally:
        kill(proc)
    names = {int(k): v for k, v in setup_out["ids"].items()}
    rows = [
        (t["data"]["ext"], names.get(int(a["completed_by"]), str(a["completed_by"])))
        for t in tasks
        for a in t.get("annotations", [])
        if not a.get("was_cancelled")
    ]
    exp = pd.DataFrame(rows, columns=["item", "worker"])
    acked = pd.DataFrame(out["acked"], columns=["client_key", "item", "worker"])
    present = set(map(tuple, exp[["item", "worker"]].to_numpy().tolist()))
    lost = int(
        sum((i, w) not in present for i, w in zip(acked["item"], acked["worker"], strict=True))
    )
    per_item = exp.groupby("item").size()
    res = _figures("label-studio (start)", args, wall, out, load0, load1, server_cpu)
    res.update(
        {
            "acked": len(acked),
            "exported": len(exp),
            "lost": lost,
            "duplicated": int(exp.duplicated(["item", "worker"]).sum()),
            "max answers/item": int(per_item.max()) if len(per_item) else 0,
            "items beyond overlap": int((per_item > args.overlap).sum()),
            "consensus == aggregate": "n/a",
        }
    )
    print(pd.Series(res).to_string())
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--items", type=int, default=60_000)
    ap.add_argument("--overlap", type=int, default=3)
    ap.add_argument("--policy", default="dynamic")
    ap.add_argument("--lease", type=int, default=10)
    ap.add_argument("--pg-workers", type=int, default=2)
    ap.add_argument(
        "--crash", action="store_true", help="SIGKILL the server halfway and restart it"
    )
    ap.add_argument("--profile", help="write py-spy's raw stacks of the server here")
    ap.add_argument(
        "--labelstudio",
        action="store_true",
        help="also run the same clients against Label Studio (see --ls-python)",
    )
    ap.add_argument(
        "--ls-python",
        default=str(ROOT / ".ls-venv" / "bin" / "python"),
        help="the interpreter of a venv with label-studio installed",
    )
    args = ap.parse_args()
    rows = []
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        r = one_run(backend, args)
        if r:
            rows.append(r)
    if args.labelstudio:
        r = labelstudio_run(args)
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
            "items beyond overlap",
            "consensus == aggregate",
            "load avg before/after",
        ]
        print()
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(str(r[c]) for c in cols) + " |")
        ls = [r for r in rows if r["backend"].startswith("label-studio")]
        for r in rows:
            if ls and r is not ls[0]:
                speed = r["pairs/s"] / max(ls[0]["pairs/s"], 1e-9)
                cost = r["pairs per server CPU s"] / max(ls[0]["pairs per server CPU s"], 1e-9)
                print(
                    f"{r['backend']}: {speed:.1f}x Label Studio's pairs/s, "
                    f"{cost:.1f}x its pairs per server CPU second"
                )


if __name__ == "__main__":
    main()
