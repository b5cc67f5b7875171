"""Time to ready and first-request latency of the example service, with and without the warmer.

Starts ``examples/service`` (FastAPI + a JAX MLP, batches pinned to 7 buckets) with uvicorn
on 127.0.0.1 and an ephemeral port, in a fresh process per run, and measures from the
client:

- ``listen_s``: spawn → the server accepts connections;
- ``ready_s``: spawn → ``GET /ready`` answers 200 (without warmer: at once);
- ``first_ms``: the first ``POST /predict`` after ready (a batch size not sent before);
- ``first_compute_ms``: the model call inside that request, timed by the server;
- ``warm_ms``: median of the next 30 requests of the same size;
- ``compiles_after_ready``: compiles requests paid for (JAX monitoring events, via /warmup).

Without the warmer the first request pays the XLA compile of its bucket (cold);
with it, the first request should cost about a warm call. Targets (exit 1 when missed):
with the warmer, no request compiles after ready and the first request takes at most 2× a
warm request.

    .venv/bin/python benchmarks/serving.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from _common import print_table, verdict, write_json

REPO = Path(__file__).resolve().parents[1]
SERVICE = REPO / "examples" / "service"
FEATURES = 16
BATCH = 5  # padded to the bucket 8


def _request(url: str, body: dict | None = None, timeout: float = 60) -> tuple[int, dict, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                 headers={"content-type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, payload = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    return status, json.loads(payload or b"{}"), time.perf_counter() - t0


def one_run(mode: str, warm_calls: int = 30) -> dict:
    env = os.environ.copy()
    env["JITWARM_EXAMPLE_WARMUP"] = mode
    env.setdefault("JAX_PLATFORMS", "cpu")
    t_spawn = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(SERVICE),
         "--host", "127.0.0.1", "--port", "0", "--log-level", "info"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    found: dict = {}
    ev = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            m = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line)
            if m:
                found["port"] = int(m.group(1))
                found["t"] = time.perf_counter()
                ev.set()
        ev.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        ev.wait(120)
        if "port" not in found:
            raise RuntimeError("the service did not start")
        base = f"http://127.0.0.1:{found['port']}"
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline:
            status, body, _ = _request(base + "/ready")
            if status == 200:
                break
            if body.get("failed"):
                raise RuntimeError(f"warmup failed: {body.get('error')}")
            time.sleep(0.01)
        else:
            raise RuntimeError("not ready in time")
        t_ready = time.perf_counter()
        rows = [[0.1 * (i + j) for j in range(FEATURES)] for i in range(BATCH)]
        status, body, first = _request(base + "/predict", {"inputs": rows})
        assert status == 200, body
        first_compute = body["compute_ns"] / 1e6
        warm = []
        for _ in range(warm_calls):
            status, body, dt = _request(base + "/predict", {"inputs": rows})
            warm.append(dt)
        _, status_body, _ = _request(base + "/warmup")
        metrics = status_body["metrics"]
        return {
            "listen_s": found["t"] - t_spawn,
            "ready_s": t_ready - t_spawn,
            "warmup_s": status_body.get("duration_s"),
            "first_ms": first * 1e3,
            "first_compute_ms": first_compute,
            "warm_ms": statistics.median(warm) * 1e3,
            "compiles_after_ready": metrics["compiles_after_ready_total"],
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for _ in range(a.runs):  # alternate, so both see the same machine load
        for mode in ("off", "on"):
            runs[mode].append(one_run(mode))
    keys = ["listen_s", "ready_s", "first_ms", "first_compute_ms", "warm_ms",
            "compiles_after_ready"]
    summary = {mode: {k: statistics.median(r[k] for r in rs) for k in keys}
               for mode, rs in runs.items()}
    label = {"off": "without warmer", "on": "with warmer"}
    rows = []
    for mode in ("off", "on"):
        s = summary[mode]
        rows.append([label[mode], f"{s['listen_s']:.2f}", f"{s['ready_s']:.2f}",
                     f"{s['first_ms']:.1f}", f"{s['first_compute_ms']:.2f}",
                     f"{s['warm_ms']:.2f}", f"{s['first_ms'] / s['warm_ms']:.1f}x",
                     s["compiles_after_ready"]])
    print(f"example service (FastAPI + JAX MLP, 7 buckets), median of {a.runs} fresh runs each")
    print_table(["", "listen s", "ready s", "1st req ms", "1st model ms", "warm req ms",
                 "1st/warm", "compiles after ready"], rows)
    path = write_json("serving", {"runs": a.runs, "batch": BATCH, "summary": summary,
                                  "per_run": runs})
    print(f"\nwrote {path}")
    on = summary["on"]
    return verdict("serving.py", [
        (f"with the warmer, no compile after ready ({on['compiles_after_ready']:g})",
         on["compiles_after_ready"] == 0),
        (f"with the warmer, first request ≤ 2× a warm one ({on['first_ms']:.1f} ms vs "
         f"{on['warm_ms']:.1f} ms)", on["first_ms"] <= 2 * on["warm_ms"]),
    ])


if __name__ == "__main__":
    sys.exit(main())
