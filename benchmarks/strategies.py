"""Fresh-process first call under each warmup-elimination strategy, per framework.

    python benchmarks/strategies.py [--processes N] [--frameworks numba,jax,torch,onnx]

For each framework's case (benchmarks/strategy_cases/warm_cases.py) runs
``jitwarm.caches.strategies.run_strategies`` with every strategy, prints the time to first
result (interpreter + imports + setup + first call) against the framework's floor (fresh
processes that only import the framework, measured in the same run; for ONNX Runtime they
also create one session of the case's original model with default options, as the least
user code does) and the strategy's own floor (what its artifact needs), the median first
call, the ratio to ``none`` and the warm median ratio, and writes everything to
benchmarks/results/strategies.json. Targets (docs/benchmarks.md), checked for the
frameworks measured in the run; the script exits 1 when one is missed: torch bundle ≥ 5×
faster first call than no cache, JAX bundle ≥ 4×, Numba disk cache > 1.2×; the best time
to first result ≤ 1.0× ``import numba``, ≤ 1.3× ``import torch``, ≤ 1.25× ``import jax``
(without backend initialisation: a stricter floor), ≤ 1.3× ``import onnxruntime`` + one
session.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, print_table, verdict, write_json  # noqa: E402
from jitwarm._units import fmt_ns, fmt_ratio  # noqa: E402
from jitwarm.caches.strategies import REGISTRY, run_strategies  # noqa: E402
from jitwarm.measure.process import Settings  # noqa: E402

CASES = Path(__file__).resolve().parent / "strategy_cases" / "warm_cases.py"
TARGETS = {"numba": "numba_kernel", "jax": "jax_mlp", "jax-encoder": "jax_encoder",
           "torch": "torch_mlp",
           "torch-grad": "torch_mlp_grad", "onnx": "onnx_encoder"}
#: (framework, strategy) -> (strict, floor): the speed-up over ``none`` the docs claim
SPEEDUP_TARGETS = {("torch", "bundle"): (False, 5.0), ("jax", "bundle"): (False, 4.0),
                   ("numba", "disk-cache"): (True, 1.2)}
#: framework -> (the framework's floor in the run's ``floors``, the most the best strategy's
#: time to first result may be over it)
TTFR_TARGETS = {"numba": ("numba", 1.0), "torch": ("torch", 1.3), "jax": ("jax", 1.25),
                "onnx": ("onnxruntime + one session", 1.3)}


def framework_floor(res: dict, fw: str) -> int | None:
    """The median of the run's fresh processes of the framework's floor (importing it;
    ONNX Runtime: and creating one session)."""
    key = TTFR_TARGETS.get(fw.split("+")[0].split("-")[0], (fw, 0))[0]
    values = (res.get("floors") or {}).get(key) or []
    return int(statistics.median(values)) if values else None


ANATOMY = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter_ns()
    import numpy as np
    t1 = time.perf_counter_ns()
    import numba
    t2 = time.perf_counter_ns()
    from kernels import f, g
    t3 = time.perf_counter_ns()
    x = np.arange(1000.0)
    t4 = time.perf_counter_ns(); f(x, x); t5 = time.perf_counter_ns()
    g(x, x); t6 = time.perf_counter_ns()
    f(x, x); t7 = time.perf_counter_ns()
    hits = sum(f.stats.cache_hits.values()) + sum(g.stats.cache_hits.values())
    json.dump({"numpy_import_ns": t1 - t0, "numba_import_ns": t2 - t1,
               "module_import_ns": t3 - t2, "first_f_ns": t5 - t4, "first_g_ns": t6 - t5,
               "warm_ns": t7 - t6, "hits": hits}, sys.stdout)
""")
KERNELS = textwrap.dedent("""
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def f(x, y):
        acc = 0.0
        for i in range(x.shape[0]):
            acc += x[i] * y[i] + np.sin(x[i]) * np.cos(y[i])
        return acc

    @njit(cache=True)
    def g(x, y):
        acc = 0.0
        for i in range(x.shape[0]):
            acc += x[i] - y[i] * np.exp(-x[i])
        return acc
""")


def numba_anatomy(processes: int) -> dict:
    """What a Numba cached first call is made of: one-time initialisation vs cache load.

    Two cached functions in a fresh process: the first cached call pays Numba's one-time
    initialisation (LLVM target, codegen, runtime) plus its own cache load; the second
    pays only its cache load. Both hit the disk cache (checked).
    """
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "kernels.py").write_text(KERNELS)
        (Path(d) / "anatomy.py").write_text(ANATOMY)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(d) / "cache")}

        def run() -> dict:
            out = subprocess.run([sys.executable, "anatomy.py"], cwd=d, env=env, text=True,
                                 capture_output=True, check=True)
            return json.loads(out.stdout)

        cold = run()
        runs = [run() for _ in range(processes)]
    med = {k: int(statistics.median(r[k] for r in runs)) for k in runs[0] if k != "hits"}
    med["hits_per_process"] = min(r["hits"] for r in runs)
    med["cold_first_f_ns"] = cold["first_f_ns"]
    med["one_time_init_ns"] = max(0, med["first_f_ns"] - med["first_g_ns"])
    return med


ORT_ANATOMY = textwrap.dedent("""
    import json, sys, time
    t_spawn, kind, model, artifact = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    t0 = time.perf_counter_ns()
    if kind == "jitwarm.load":
        import jitwarm
        import onnxruntime
    else:
        import onnxruntime
    import numpy as np
    t1 = time.perf_counter_ns()
    if kind == "default session":
        s = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        run = s.run
    elif kind == "ORT format, optimisation off":
        so = onnxruntime.SessionOptions()
        so.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        so.add_session_config_entry("session.load_model_format", "ORT")
        s = onnxruntime.InferenceSession(artifact + "/" + sys.argv[5], so,
                                         providers=["CPUExecutionProvider"])
        run = s.run
    else:
        fn = jitwarm.load(artifact)
        run = lambda names, feed: fn(feed)
    t2 = time.perf_counter_ns()
    x = np.load(artifact + "/inputs/0.npy", allow_pickle=False)
    run(None, {"x": x})
    t3 = time.perf_counter_ns()
    json.dump({"interpreter_ns": t0 - t_spawn, "import_ns": t1 - t0, "session_ns": t2 - t1,
               "first_run_ns": t3 - t2, "ttfr_ns": t3 - t_spawn}, sys.stdout)
""")
#: what each ORT anatomy process does after its imports
ORT_KINDS = ("default session", "ORT format, optimisation off", "jitwarm.load")


def onnx_anatomy(processes: int) -> dict:
    """Where ONNX Runtime's time to first result goes without jitwarm's measured worker.

    Fresh processes, interleaved: ``import onnxruntime`` + a default session of the original
    model (graph optimisation at creation); + a session of the ORT-format artifact with the
    options ``jitwarm.load`` uses (optimisation off, ``session.load_model_format=ORT``); and
    ``import jitwarm`` + ``jitwarm.load`` (its checks, then that session) — each then runs
    the model once. The artifact is built by ``jitwarm aot build`` (a fresh process).
    """
    sys.path.insert(0, str(CASES.parent))
    from warm_cases import _encoder_path

    from jitwarm.caches.aot import build

    model = _encoder_path()
    with tempfile.TemporaryDirectory() as d:
        art = Path(d) / "art"
        manifest = build(f"{CASES}::{TARGETS['onnx']}", art)
        script = Path(d) / "ort_anatomy.py"
        script.write_text(ORT_ANATOMY)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent / "src"),
             os.environ.get("PYTHONPATH", "")])}
        runs: dict[str, list[dict]] = {k: [] for k in ORT_KINDS}
        for _ in range(processes):
            for kind in ORT_KINDS:
                out = subprocess.run([sys.executable, str(script), str(time.perf_counter_ns()),
                                      kind, model, str(art), manifest["info"]["file"]],
                                     env=env, text=True, capture_output=True, check=True)
                runs[kind].append(json.loads(out.stdout))
    return {kind: {k: int(statistics.median(r[k] for r in rs)) for k in rs[0]}
            for kind, rs in runs.items()} | {"processes": processes,
                                             "artifact": manifest["loader"]}


def anatomy(s: dict) -> str:
    """Compile phases and GC of one strategy's summary, on one line."""
    phases = ", ".join(f"{k} {fmt_ns(v)}" for k, v in (s.get("compile_phases_ns") or {}).items()
                       if v) or "no phases reported"
    return f"{phases}; GC {fmt_ns(s.get('first_call_gc_ns'))} " \
           f"({s.get('first_call_gc_full') or 0} full)"


def _floor_name(r: dict) -> str:
    """A strategy's floor by name (older results have only its imports)."""
    return r.get("floor_name") or "+".join(r.get("floor_imports") or [])


def markdown(payload: dict) -> str:
    """The results as the Markdown table of docs/caching.md."""
    lines = ["| case | strategy | to first result | ÷ framework floor | ÷ own floor (imports) | "
             "first call (median, range) | none / this | compiling | import + setup | "
             "warm vs none | cache hit/miss |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for fw, res in payload["frameworks"].items():
        floor = framework_floor(res, fw)
        for name, r in res["strategies"].items():
            s = r["summary"]
            if r["status"] != "ok":
                lines.append(f"| {fw} | {name} | {r['status']}: {r['reason']} "
                             "| | | | | | | | |")
                continue
            ttfr = s["time_to_first_result_ns"]
            over = f"{ttfr / floor:.2f}×" if floor and ttfr else "–"
            own = (f"{r['ttfr_over_floor']:.2f}× ({_floor_name(r)})"
                   if r.get("ttfr_over_floor") else "–")
            lo, hi = s["first_call_range_ns"]
            ratio = "1" if name == "none" else fmt_ratio(r["speedup"])
            warm = fmt_ratio(r["warm_ratio"])
            lines.append(
                f"| {fw} ({res.get('processes', '?')} proc.) | {name} | {fmt_ns(ttfr)} | {over} | "
                f"{own} | {fmt_ns(s['first_call_ns'])} "
                f"({fmt_ns(lo)}–{fmt_ns(hi)}) | {ratio} | {fmt_ns(s['compile_ns'])} | "
                f"{fmt_ns((s['import_ns'] or 0) + (s['setup_ns'] or 0))} | {warm} | "
                f"{s['cache_hits']}/{s['cache_misses']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--frameworks", default="numba,jax,torch,onnx",
                    help=f"comma-separated, from {', '.join(TARGETS)}")
    # a strategy that needs a server (remote-cache: --remote-cache) is not in the default
    ap.add_argument("--strategies", default=",".join(st.name for st in REGISTRY
                                                     if st.option is None))
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the A/B and pool, interleaving the strategies in time")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() after setup in every measured process (stored as "
                         "'<framework>+gc-freeze')")
    ap.add_argument("--threads", type=int, default=1,
                    help="framework threads in every measured process (default 1: on a "
                         "shared 2-core machine more threads make warm calls wait on each "
                         "other; 0: the frameworks' defaults)")
    ap.add_argument("--markdown", action="store_true",
                    help="only print benchmarks/results/strategies.json as a Markdown table")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(json.loads((RESULTS / "strategies.json").read_text(encoding="utf-8"))))
        return 0
    strategies = [s for s in args.strategies.split(",") if s]
    payload: dict = {"processes": args.processes, "threads": args.threads or None,
                     "frameworks": {}}
    previous = RESULTS / "strategies.json"
    if previous.exists():  # keep the frameworks not re-measured this time
        try:
            old = json.loads(previous.read_text(encoding="utf-8"))
            payload["frameworks"] = old.get("frameworks", {})
            for key in ("numba_anatomy", "onnx_anatomy"):
                if key in old:
                    payload[key] = old[key]
        except (OSError, json.JSONDecodeError):
            pass
    rows = []
    keys = []  # where each framework's result is stored in the payload
    for fw in [f for f in args.frameworks.split(",") if f]:
        t0 = time.time()
        # Mega-Cache and TorchScript are torch's own: elsewhere only "skipped" rows
        strats = [s for s in strategies
                  if s not in ("mega-cache", "torchscript") or fw.startswith("torch")]
        print(f"[{fw}] measuring {', '.join(strats)} ...", file=sys.stderr, flush=True)
        res = run_strategies(f"{CASES}::{TARGETS[fw]}", strats, processes=args.processes,
                             settings=Settings(max_calls=300, max_time_s=2.0,
                                               gc_freeze=args.gc_freeze,
                                               threads=args.threads or None), timeout_s=900,
                             rounds=args.rounds,
                             progress=lambda s, m, fw=fw: print(f"  [{fw}] {s}: {m}",
                                                               file=sys.stderr, flush=True))
        key = f"{fw}+gc-freeze" if args.gc_freeze else fw
        keys.append(key)
        payload["frameworks"][key] = res.to_dict()
        payload["frameworks"][key]["wall_s"] = round(time.time() - t0, 1)
        payload["frameworks"][key]["processes"] = args.processes * args.rounds
        payload["frameworks"][key]["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                  time.gmtime())
        floor = framework_floor(payload["frameworks"][key], key)
        for r in res.strategies:
            s = r.summary
            if r.status != "ok":
                rows.append([key, r.strategy, r.status, "", "", "", "", "", "",
                             str(r.reason)[:60]])
                continue
            rows.append([
                key, r.strategy, fmt_ns(r.ttfr_ns),
                f"{r.ttfr_ns / floor:.2f}x" if floor and r.ttfr_ns else "-",
                f"{r.ttfr_over_floor:.2f}x {_floor_name(r.to_dict())}"
                if r.ttfr_over_floor else "-",
                fmt_ns(s["first_call_ns"]),
                "1.00x" if r.strategy == "none" else (
                    fmt_ratio(r.speedup) if r.speedup else "-"),
                fmt_ns(s.get("compile_ns")), fmt_ns(s.get("runtime_init_ns")),
                "-" if r.warm_ratio is None else fmt_ratio(r.warm_ratio)
                + (" SLOWER" if r.warm_slower else ""),
            ])
    if "numba" in args.frameworks.split(","):
        a = numba_anatomy(args.processes)
        payload["numba_anatomy"] = a
        print("numba cached first call, anatomy (median of fresh processes): "
              f"import numpy {fmt_ns(a['numpy_import_ns'])}, import numba "
              f"{fmt_ns(a['numba_import_ns'])}, first cached call {fmt_ns(a['first_f_ns'])} "
              f"(= one-time initialisation {fmt_ns(a['one_time_init_ns'])} + its cache load; "
              f"a second cached function's first call {fmt_ns(a['first_g_ns'])}), warm call "
              f"{fmt_ns(a['warm_ns'])}; uncached first call {fmt_ns(a['cold_first_f_ns'])}")
    if "onnx" in args.frameworks.split(","):
        a = onnx_anatomy(args.processes)
        payload["onnx_anatomy"] = a
        print(f"onnxruntime time to first result without jitwarm's worker (median of "
              f"{a['processes']} fresh processes each, interleaved):")
        for kind in ORT_KINDS:
            k = a[kind]
            print(f"  {kind:<30} interpreter {fmt_ns(k['interpreter_ns'])}, imports "
                  f"{fmt_ns(k['import_ns'])}, session {fmt_ns(k['session_ns'])}, first run "
                  f"{fmt_ns(k['first_run_ns'])}: first result at {fmt_ns(k['ttfr_ns'])}")
    floors = "; ".join(f"{k}: {', '.join(sorted(res.get('floors') or {}))}"
                       for k, res in ((k, payload["frameworks"][k]) for k in keys))
    print(f"floors measured (fresh processes that only import these, or do what is named): "
          f"{floors}")
    print_table(["framework", "strategy", "to first result", "/ framework floor",
                 "/ own floor", "first call", "none/this", "compile", "init+load",
                 "warm vs none"], rows)
    from jitwarm.caches.strategies import floor_sentences

    print("\nwhat is left of the floor (-X importtime, packages beyond the floor)")
    for key in keys:
        for line in floor_sentences(payload["frameworks"][key]):
            print(f"  {key}: {line}")
        for name, r in payload["frameworks"][key]["strategies"].items():
            if r.get("vs_plain"):  # a variant (aot+gc-freeze) against its strategy
                print(f"  {key}: {name}: " + "; ".join(r["explanation"][-2:]))
    print("\nwhere the first call goes (medians): compile phases, and Python's GC")
    for key in keys:
        for name, r in payload["frameworks"][key]["strategies"].items():
            if r["status"] == "ok":
                print(f"  {key:<10} {name:<10} {anatomy(r['summary'])}")
    path = write_json("strategies", payload)
    print(f"written to {path}")
    return verdict("strategies.py", target_checks(payload, keys))


def target_checks(payload: dict, keys: list[str]) -> list[tuple[str, bool]]:
    """One (description, met) per stated speed-up target among the frameworks measured."""
    checks = []
    for key in keys:
        fw = key.split("+")[0]
        for (tfw, strategy), (strict, floor) in SPEEDUP_TARGETS.items():
            if tfw != fw:
                continue
            r = payload["frameworks"][key]["strategies"].get(strategy)
            if r is None:
                continue  # not asked for in this run
            speedup = r.get("speedup") if r.get("status") == "ok" else None
            shown = fmt_ratio(speedup) if speedup else f"{r.get('status')}: {r.get('reason')}"
            op = ">" if strict else "≥"
            met = speedup is not None and (speedup > floor if strict else speedup >= floor)
            checks.append((f"{key} {strategy} first call {op} {floor:g}× faster than none "
                           f"({shown})", met))
        target = TTFR_TARGETS.get(fw)
        if target is None or key not in payload["frameworks"]:
            continue
        res = payload["frameworks"][key]
        base = framework_floor(res, key)
        if not base:
            continue
        ok = [(r["ttfr_ns"], name) for name, r in res["strategies"].items()
              if r.get("status") == "ok" and r.get("ttfr_ns")]
        if ok:
            ttfr, name = min(ok)
            floor = target[0] if " " in target[0] else f"import {target[0]}"
            checks.append((f"{key} best time to first result ({name}, {fmt_ns(ttfr)}) ≤ "
                           f"{target[1]:g}× {floor} ({fmt_ns(base)}): "
                           f"{ttfr / base:.2f}×", ttfr <= target[1] * base))
    return checks


if __name__ == "__main__":
    sys.exit(main())
