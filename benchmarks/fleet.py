"""A fleet's cold start: N replicas of a torch.compile case started at once on this machine.

    python benchmarks/fleet.py [--replicas 1,2,4] [--strategies none,bundle,remote-cache,aot]

What a deployment sees when it scales out: every new replica starts at the same moment and
pays the warmup together with the others, on shared cores. For each N and each way of
sharing warmth (docs/fleet.md) this runs ``jitwarm.caches.strategies.run_strategies(...,
replicas=N)`` — the same machinery as ``jitwarm profile --strategies ... --replicas N`` —
on benchmarks/strategy_cases/warm_cases.py::torch_mlp, one intra-op thread per replica,
and prints per strategy and N: time to first result (interpreter + imports + setup + first
call) p50 and p95 over the replicas, the slowest replica of the wave, the CPU seconds the
wave burns to first result (user + system of each replica's process tree, compile workers
and the C++ compiler included, summed), torch's remote-cache hits/misses and the native
libraries each replica still built locally.

remote-cache runs against a private ``redis-server`` started here on a free port (no
persistence) and stopped at the end; each N uses its own database of it (``/1``, ``/2``
...), so its first wave starts with an empty server and its replicas race to fill it (the
herd: shown as its own row), and its measured wave then starts against what they left.
``--remote-cache redis://HOST:PORT`` uses a server of yours instead (a cluster's), its
databases /1, /2 ... in turn, each checked empty first. The bundle's prewarm and the AOT
artifact are made once per N by one process, before the wave. Everything goes to
benchmarks/results/fleet.json.

Targets (docs/benchmarks.md), checked at the largest N; the script exits 1 when one is
missed: bundle's and aot's p50 time to first result below none's, and their wave's CPU
below none's; remote-cache's measured replicas each hit the remote cache (no time target:
on CPU its saving is within the noise, as the table shows).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, print_table, verdict, write_json  # noqa: E402
from jitwarm._units import fmt_ns  # noqa: E402
from jitwarm.caches.strategies import run_strategies  # noqa: E402
from jitwarm.measure.process import Settings  # noqa: E402

CASE = Path(__file__).resolve().parent / "strategy_cases" / "warm_cases.py"
TARGET = f"{CASE}::torch_mlp"
STRATEGIES = ("none", "bundle", "remote-cache", "aot")
#: the herd row: remote-cache's first wave, against an empty server
FILL = "remote-cache: 1st wave"
HEADERS = ["strategy", "N", "TTFR p50", "TTFR p95", "slowest", "CPU s / wave",
           "first call p50", "remote hit/miss", "local .so builds"]


class Redis:
    """A private ``redis-server`` on a free port, no persistence, stopped by :meth:`stop`."""

    def __init__(self, workdir: str) -> None:
        from jitwarm.adapters.remote import ping

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while ping(self.url, 0.5) is not None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _sum(values: list) -> int | None:
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def _remote(procs: list[dict]) -> str:
    """``hits/misses`` of torch's remote caches, summed over the replicas (– when off)."""
    caches = [p.get("cache") or {} for p in procs if p.get("status") == "ok"]
    hits = _sum([c.get("remote_hits") for c in caches])
    misses = _sum([c.get("remote_misses") for c in caches])
    return "–" if hits is None and misses is None else f"{hits or 0}/{misses or 0}"


def rows_of(n: int, res: dict) -> list[dict]:
    """One row per strategy (and remote-cache's first wave) of one N's result."""
    rows = []
    for name, r in res["strategies"].items():
        if r["status"] != "ok":
            rows.append({"strategy": name, "n": n, "status": r["status"],
                         "reason": r.get("reason")})
            continue
        f = r.get("fleet") or {}
        procs = r["processes"]
        if f == {}:  # one replica: no fleet view; the same figures from the process
            ttfr = [p["time_to_first_result_ns"] for p in procs if p.get("status") == "ok"]
            cpu = [p.get("cpu_to_first_result_ns") for p in procs if p.get("status") == "ok"]
            f = {"ttfr_p50_ns": int(statistics.median(ttfr)), "ttfr_p95_ns": max(ttfr),
                 "wave_last_ttfr_ns": max(ttfr), "wave_cpu_ns": _sum(cpu) // len(cpu)
                 if _sum(cpu) is not None else None}
        details = r.get("details") or {}
        firsts = [p["first_call_ns"] for p in procs if p.get("status") == "ok"]
        row = {"strategy": name, "n": n, "status": "ok",
               "ttfr_p50_ns": f["ttfr_p50_ns"], "ttfr_p95_ns": f["ttfr_p95_ns"],
               "slowest_ns": f["wave_last_ttfr_ns"], "wave_cpu_ns": f["wave_cpu_ns"],
               "first_call_p50_ns": int(statistics.median(firsts)) if firsts else None,
               "remote": _remote(procs),
               "remote_hits_each": [((p.get("cache") or {}).get("remote_hits") or 0)
                                    for p in procs if p.get("status") == "ok"]
               if name == "remote-cache" else None,
               "local_native_builds": None}
        if name == "remote-cache":
            measured = [x for x in details.get("replicas") or [] if x["role"] == "measured"]
            fill = [x for x in details.get("replicas") or [] if x["role"] == "fills"]
            row["local_native_builds"] = _median([x.get("local_native_builds")
                                                  for x in measured])
            rows.append(row)
            fw = details.get("fill_wave") or {}
            rows.append({
                "strategy": FILL, "n": n, "status": "ok",
                "ttfr_p50_ns": fw.get("ttfr_p50_ns"), "ttfr_p95_ns": fw.get("ttfr_p95_ns"),
                "slowest_ns": fw.get("wave_last_ttfr_ns"), "wave_cpu_ns": fw.get("wave_cpu_ns"),
                "first_call_p50_ns": _median([x.get("first_call_ns") for x in fill]),
                "remote": "{}/{}".format(*(_sum([x["remote"].get(k) for x in fill]) or 0
                                           for k in ("hits", "misses"))),
                "keys_before": details.get("keys_before"),
                "local_native_builds": _median([x.get("local_native_builds") for x in fill])})
            continue
        rows.append(row)
    return rows


def _median(values: list) -> int | None:
    vals = [v for v in values if v is not None]
    return int(statistics.median(vals)) if vals else None


def _s(ns: int | None) -> str:
    return "–" if ns is None else f"{ns / 1e9:.1f}"


def table(rows: list[dict]) -> list[list[str]]:
    out = []
    for r in rows:
        if r["status"] != "ok":
            out.append([r["strategy"], str(r["n"]), f"{r['status']}: {r.get('reason')}"[:60],
                        *[""] * 6])
            continue
        out.append([r["strategy"], str(r["n"]), fmt_ns(r["ttfr_p50_ns"]),
                    fmt_ns(r["ttfr_p95_ns"]), fmt_ns(r["slowest_ns"]), _s(r["wave_cpu_ns"]),
                    fmt_ns(r["first_call_p50_ns"]), r["remote"],
                    "–" if r.get("local_native_builds") is None
                    else str(r["local_native_builds"])])
    return out


def markdown(payload: dict) -> str:
    """The results as the Markdown table of docs/fleet.md and docs/benchmarks.md."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|---" * len(HEADERS) + "|"]
    for cells in table(payload["rows"]):
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_checks(payload: dict) -> list[tuple[str, bool]]:
    """The stated targets, at the largest N measured (each can fail)."""
    rows = payload["rows"]
    if not rows:
        return [("something was measured", False)]
    n = max(r["n"] for r in rows)
    at = {r["strategy"]: r for r in rows if r["n"] == n}
    none = at.get("none")
    checks = []

    def ok(name: str) -> dict | None:
        r = at.get(name)
        return r if r is not None and r["status"] == "ok" else None

    base = none["ttfr_p50_ns"] if none and none["status"] == "ok" else None
    base_cpu = none.get("wave_cpu_ns") if base else None
    # remote-cache has no time target: on CPU its saving is within the noise (docs/fleet.md,
    # its replicas still build every native library); that each replica hits is its target
    for name in ("bundle", "aot"):
        if name not in payload["strategies"]:
            continue
        r = ok(name)
        got = fmt_ns(r["ttfr_p50_ns"]) if r else (at.get(name) or {}).get("status", "missing")
        checks.append((f"N={n}: {name} p50 time to first result ({got}) below none's "
                       f"({fmt_ns(base)})", bool(r and base and r["ttfr_p50_ns"] < base)))
        cpu = r.get("wave_cpu_ns") if r else None
        checks.append((f"N={n}: {name} CPU to first result per wave ({_s(cpu)} s) below "
                       f"none's ({_s(base_cpu)} s)",
                       bool(cpu is not None and base_cpu and cpu < base_cpu)))
    if "remote-cache" in payload["strategies"]:
        r = ok("remote-cache")
        each = (r or {}).get("remote_hits_each") or []
        checks.append((f"N={n}: every measured remote-cache replica hit the remote cache "
                       f"(hits per replica: {each or 'none measured'})",
                       bool(each) and all(h >= 1 for h in each)))
    return checks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", default="1,2,4", help="comma-separated N")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--waves", type=int, default=1,
                    help="measured waves per strategy and N (each of N replicas)")
    ap.add_argument("--remote-cache", metavar="redis://HOST:PORT",
                    help="a Redis server to use instead of a private one started here (a "
                         "cluster's): N's replicas use its database /1, /2 ... in turn, "
                         "which must be empty (checked)")
    ap.add_argument("--markdown", action="store_true",
                    help="only print benchmarks/results/fleet.json as a Markdown table")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(json.loads((RESULTS / "fleet.json").read_text(encoding="utf-8"))))
        return 0
    ns = [int(x) for x in args.replicas.split(",") if x]
    strategies = [s for s in args.strategies.split(",") if s]
    urls: list[str | None] = [None] * len(ns)
    if "remote-cache" in strategies and args.remote_cache:
        from jitwarm._errors import UsageError
        from jitwarm.adapters.remote import check_url, key_count

        try:
            base = check_url(args.remote_cache).rstrip("/")
        except UsageError as exc:
            print(exc, file=sys.stderr)
            return 2
        if base.count("/") > 2:
            print("--remote-cache: give the server without a /DB: each N uses its own",
                  file=sys.stderr)
            return 2
        urls = [f"{base}/{db}" for db in range(1, len(ns) + 1)]
        full = [(u, k) for u in urls if (k := key_count(u)) != 0]
        if full:
            db, keys = full[0][0].rsplit("/", 1)[1], full[0][1]
            print(f"--remote-cache: database {db} " + (
                f"holds {keys} keys" if keys is not None else "cannot be read") +
                ": each N's first wave must start against an empty one", file=sys.stderr)
            return 2
    elif "remote-cache" in strategies and shutil.which("redis-server") is None:
        print("redis-server is not installed: remote-cache is not measured "
              "(Debian: apt-get install redis-server)", file=sys.stderr)
        strategies.remove("remote-cache")
    settings = Settings(max_calls=20, max_time_s=0.2, min_calls=10, threads=1)
    payload: dict = {"case": "torch_mlp", "replicas": ns, "strategies": strategies,
                     "waves": args.waves, "threads": 1, "runs": {}, "rows": [],
                     "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    t_all = time.time()
    with tempfile.TemporaryDirectory(prefix="jitwarm-fleet-") as d:
        server = (Redis(d) if "remote-cache" in strategies and not args.remote_cache
                  else None)
        try:
            for db, n in enumerate(ns, start=1):
                t0 = time.time()
                # its own, empty database of the server
                url = f"{server.url}/{db}" if server else urls[db - 1]
                print(f"[N={n}] {', '.join(strategies)} ...", file=sys.stderr, flush=True)
                res = run_strategies(
                    TARGET, strategies, processes=args.waves, replicas=n, settings=settings,
                    timeout_s=900, options={"remote_cache": url},
                    progress=lambda s, m, n=n: print(f"  [N={n}] {s}: {m}", file=sys.stderr,
                                                     flush=True)).to_dict()
                res["wall_s"] = round(time.time() - t0, 1)
                payload["runs"][str(n)] = res
                payload["rows"].extend(rows_of(n, res))
        finally:
            if server:
                server.stop()
    payload["wall_s"] = round(time.time() - t_all, 1)
    print(f"torch_mlp, N replicas started at once on this machine ({payload['wall_s']:.0f} s "
          "in all); TTFR = interpreter + imports + setup + first call; CPU = user + system "
          "of each replica's process tree to its first result, summed over the wave")
    print_table(HEADERS, table(payload["rows"]))
    for n in ns:
        r = payload["runs"][str(n)]["strategies"].get("remote-cache") or {}
        for line in [*(r.get("explanation") or []), *(r.get("misses") or [])]:
            if line.startswith(("replica", "torch:", "the server")):
                print(f"  N={n} remote-cache: {line}")
    path = write_json("fleet", payload)
    print(f"written to {path}")
    return verdict("fleet.py", target_checks(payload))


if __name__ == "__main__":
    sys.exit(main())
