"""A/B of warmup-elimination strategies, measured in fresh processes.

:func:`run_strategies` measures a case's first call in fresh processes under each
strategy, with the same measurement as ``jitwarm profile`` (:class:`jitwarm.measure.runner.Runner`:
first call, compile events, warm series):

* ``none`` — every framework cache empty (the ``cold`` state);
* ``disk-cache`` — the framework's own disk cache, populated by a previous process in
  the same place (the ``cached`` state);
* ``bundle`` — the cache made by a prewarm process, packed into a bundle, installed
  into a *new* directory, with the case file copied to *another* directory: what a
  deployment to another host or container gets;
* ``aot`` — the framework's ahead-of-time artifact (:mod:`jitwarm.caches.aot`), made by a
  separate process; the measured case is ``jitwarm.load(DIR)`` (in setup) and the saved
  arguments, so what is measured is what ships;
* ``torchscript`` — torch only: ``torch.jit.trace`` + ``save`` the same way; the profiling
  executor's first, re-optimising calls are reported call by call;
* ``mega-cache`` — torch.compile only: the Mega-Cache blob saved by a separate process,
  hot-loaded in setup into an empty cache directory (:mod:`jitwarm.caches.megacache`);
* ``remote-cache`` — replicas, each with an empty local cache, sharing the framework's
  remote compile cache (torch: Inductor's Redis caches, ``--remote-cache redis://HOST:PORT``):
  a first replica fills it, the measured ones start after it. The server is checked before
  anything runs and by every replica after its call, because Inductor carries on silently
  without a server that does not answer.

Every other strategy runs with the remote caches off, so a server named in the shell's
environment cannot warm the baseline.

The headline is each strategy's time to first result (interpreter + imports + setup + first
call) over its floor — fresh processes, in the same rounds, that only import what the
strategy needs — and what it saves against ``none``. Each strategy also reports the median
first call, what it saves against ``none`` (and the ratio, with the interval of its
per-process values), whether the warm median changed (a cache or AOT artifact that makes
the code slower is flagged, only when the whole interval of the ratio to ``none`` lies
above 1 + :data:`jitwarm.results.stats.PRACTICAL_MARGIN`; with one process there is no interval
and nothing is flagged), and where the remaining cold start goes (compile still happening
and why, one-time initialisation, imports).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.adapters import remote_cache_env
from jitwarm.cases.targets import Target, resolve_target
from jitwarm.measure.process import PACKAGES_CODE, Settings
from jitwarm.results.profile import summarize_state

ProgressFn = Callable[[str, str], None]
_FIELDS = ("first_call_ns", "import_ns", "setup_ns", "compile_ns", "function_compile_ns",
           "runtime_init_ns", "warm_median_ns")


class Strategy:
    """One way of removing warmup, measured in fresh processes.

    A strategy measured by the runner's cache states (``state``: ``"cold"`` or
    ``"cached"``) shares one run with the baseline; any other implements :meth:`measure`,
    which prepares what it needs in separate fresh processes and returns the measured
    processes' records and details. A new strategy is one subclass plus one line in
    :data:`REGISTRY`; the CLI's choices and help come from the registry.
    """

    name: str = ""
    #: one line for ``--strategies`` help and the docs
    help: str = ""
    #: measured as this runner state in the baseline's run (None: :meth:`measure`)
    state: str | None = None
    #: skipped, with that strategy's reason, when this one was skipped
    needs: str | None = None
    #: the run option this strategy needs (a key of ``run_strategies(options=...)``, the
    #: CLI's ``--remote-cache`` for ``remote_cache``); refused when given without it
    option: str | None = None

    def preflight(self, options: dict[str, Any]) -> None:
        """Check what this strategy needs before any process runs (:class:`UsageError`)."""

    def describe(self, r: StrategyResult) -> list[str]:
        """Sentences on this strategy's own details, added to its explanation."""
        return []

    def measure(self, sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        raise NotImplementedError(self.name)

    def setup_note(self) -> str | None:
        """A sentence on what this strategy moves out of the first call, for explanations."""
        return None


class NoneStrategy(Strategy):
    name = "none"
    help = "the baseline: every framework cache empty"
    state = "cold"


class DiskCacheStrategy(Strategy):
    name = "disk-cache"
    help = "the framework's own disk cache, filled by an earlier process"
    state = "cached"


class BundleStrategy(Strategy):
    name = "bundle"
    help = "a prewarmed cache, bundled and installed beside moved sources"
    needs = "disk-cache"

    def measure(self, sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return _bundle(sess)


class AotStrategy(Strategy):
    name = "aot"
    help = "the framework's ahead-of-time path, loaded in setup"

    def measure(self, sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return _aot(sess)

    def setup_note(self) -> str | None:
        return ("aot: verifying and loading the artifact (jitwarm.load: hashes, "
                "compatibility, then the framework's fastest load path) happens in setup, "
                "before the first call")


class TorchScriptStrategy(Strategy):
    name = "torchscript"
    help = ("torch only: torch.jit.trace + save by a separate process, torch.jit.load in "
            "setup; the profiling executor's re-optimising calls are measured")

    def measure(self, sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return _aot(sess, kind="torchscript")

    def setup_note(self) -> str | None:
        return ("torchscript: verifying and loading the saved module (jitwarm.load, "
                "torch.jit.load) happens in setup; its profiling executor profiles the first "
                "call(s) and re-optimises on a later one, inside the measured calls")


class MegaCacheStrategy(Strategy):
    name = "mega-cache"
    help = "torch only: the Mega-Cache blob, hot-loaded in setup"

    def measure(self, sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return _mega(sess)


class RemoteCacheStrategy(Strategy):
    name = "remote-cache"
    help = ("torch only: replicas with empty local caches sharing Inductor's Redis remote "
            "caches (--remote-cache redis://HOST:PORT); a first replica fills them")
    option = "remote_cache"

    def preflight(self, options: dict[str, Any]) -> None:
        from jitwarm.adapters.remote import check_url, masked, ping, probe_write

        url = options.get("remote_cache")
        if not url:
            raise UsageError("the remote-cache strategy needs a server: "
                             "--remote-cache redis://HOST:PORT")
        check_url(url)
        problem = ping(url) or probe_write(url)
        if problem:
            raise UsageError(f"remote cache {masked(url)} does not answer or refuses writes "
                             f"({problem}); torch would silently compile without it, so "
                             "nothing was measured")

    def measure(self, sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return _remote(sess)

    def describe(self, r: StrategyResult) -> list[str]:
        return _remote_lines(r.details)

    def setup_note(self) -> str | None:
        return ("remote-cache: each replica starts with an empty local cache; what the "
                "remote cache holds is looked up (and loaded) during the first call")


#: every strategy, in the order they are measured and shown
REGISTRY: list[Strategy] = [NoneStrategy(), DiskCacheStrategy(), BundleStrategy(),
                            AotStrategy(), TorchScriptStrategy(), MegaCacheStrategy(),
                            RemoteCacheStrategy()]
#: their names (the ``--strategies`` choices)
STRATEGIES = tuple(st.name for st in REGISTRY)
#: the strategy every other is compared with
BASELINE = NoneStrategy.name


#: variants any strategy can be measured under, named ``STRATEGY+VARIANT`` (``aot+gc-freeze``):
#: the same strategy, same rounds, with the run settings changed as :func:`variant_settings` says
VARIANTS: dict[str, str] = {
    "gc-freeze": "gc.freeze() in each measured process after setup, before the first call "
                 "(what a service does after loading), beside the strategy without it",
}


def split_name(name: str) -> tuple[str, str | None]:
    """``"aot+gc-freeze"`` -> ``("aot", "gc-freeze")``; ``"aot"`` -> ``("aot", None)``."""
    base, plus, variant = name.partition("+")
    return base, (variant if plus else None)


def variant_settings(settings: Settings, variant: str | None) -> Settings:
    """The run settings of a variant (``None``: the strategy's own)."""
    from dataclasses import replace

    return replace(settings, gc_freeze=True) if variant == "gc-freeze" else settings


def by_name(name: str) -> Strategy:
    """The registered strategy called ``name`` (a variant ``NAME+VARIANT``: its strategy's;
    KeyError if none)."""
    base = split_name(name)[0]
    for st in REGISTRY:
        if st.name == base:
            return st
    raise KeyError(name)


def strategies_help() -> str:
    """``--strategies`` help, from the registry."""
    return "; ".join([*(f"{st.name}: {st.help}" for st in REGISTRY),
                      *(f"STRATEGY+{v}: {h}" for v, h in VARIANTS.items())])


def parse_strategies(text: str | list[str]) -> list[str]:
    names = text if isinstance(text, list) else [s.strip() for s in text.split(",") if s.strip()]
    bad = [n for n in names if split_name(n)[0] not in STRATEGIES
           or split_name(n)[1] not in (None, *VARIANTS)]
    if bad or not names:
        raise UsageError(f"unknown strategy {', '.join(bad) or text!r}: choose from "
                         f"{', '.join(STRATEGIES)}, each optionally with "
                         f"{', '.join('+' + v for v in VARIANTS)}")
    return list(dict.fromkeys(names))


@dataclass
class StrategyResult:
    """One strategy's processes and summary."""

    strategy: str
    status: str = "ok"  # ok, skipped, failed
    reason: str | None = None
    processes: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    saves_ns: int | None = None
    speedup: float | None = None
    #: the interval of ``speedup`` from every process (None: no interval, see the verdict)
    speedup_ci: list[float] | None = None
    first_call_verdict: str | None = None  # faster | slower | no significant change | ...
    warm_ratio: float | None = None
    warm_ratio_ci: list[float] | None = None
    warm_verdict: str | None = None
    warm_note: str = ""
    warm_slower: bool = False
    explanation: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    #: the headline: median time to first result (interpreter + imports + setup + first call)
    ttfr_ns: int | None = None
    #: the floor: median of fresh processes that only import ``floor_imports`` (what this
    #: strategy's artifact needs; the framework for the cache strategies), same runs, and
    #: then do what the framework's adapter says the least user code does (ONNX Runtime:
    #: create one session); ``floor_name`` is its key in ``floors``
    floor_ns: int | None = None
    floor_imports: list[str] | None = None
    floor_name: str | None = None
    ttfr_over_floor: float | None = None
    #: ``none``'s time to first result minus this one's
    ttfr_saved_ns: int | None = None
    #: with replicas > 1, the fleet's view (:func:`_fleet_of`): TTFR p50/p95, the CPU a
    #: wave burns to first result
    fleet: dict[str, Any] | None = None
    #: a variant (``aot+gc-freeze``) against its strategy without it (:func:`_compare_variants`)
    vs_plain: dict[str, Any] | None = None
    #: top-level packages (outside the standard library) this strategy's first process had
    #: imported at its first result and its floor's processes had not, and the other way round
    packages_beyond_floor: list[str] | None = None
    floor_packages_unused: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StrategiesResult:
    """Every strategy's result for one target (``to_dict`` is JSON-ready)."""

    target: str
    framework: str | None
    strategies: list[StrategyResult]
    settings: dict[str, Any]
    environment: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    status: str = "complete"  # or "interrupted": what finished before Ctrl-C/SIGTERM
    #: ``{"numba": [ns, ...]}``: each floor's fresh processes (imports joined by ``+``, or
    #: an adapter's floor by its name: ``"onnxruntime + one session"``)
    floors: dict[str, list[int]] = field(default_factory=dict)
    #: where each floor's time goes (:func:`_floor_breakdown`), by the same keys
    floor_breakdown: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.strategies)

    def get(self, name: str) -> StrategyResult | None:
        return next((s for s in self.strategies if s.strategy == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "jitwarm.strategies/1",
            "status": self.status,
            "target": self.target,
            "framework": self.framework,
            "settings": self.settings,
            "environment": self.environment,
            "strategies": {s.strategy: s.to_dict() for s in self.strategies},
            "floors": self.floors,
            "floor_breakdown": self.floor_breakdown,
            "notes": self.notes,
        }


_KEEP = (*_FIELDS, "pid", "status", "error", "cache", "compile_events", "first_call_gc",
         "classification", "steady_ci_ns", "framework", "notes", "index", "output_tail",
         "runtime", "floor_spec", "gc_frozen", "interpreter_ns", "packages",
         "cpu_to_first_result_ns", "cpu_scope", "wave", "replica", "wave_offset_ns",
         "process_wall_ns")
#: how many of a process's first calls each strategy record keeps (``early_calls_ns``)
_EARLY = 5


def _summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The strategy's summary: the one summariser of fresh processes (see docs/json-schema.md)."""
    return summarize_state(records)


def _early_calls(p: dict[str, Any]) -> list[int]:
    """The durations of a process's first calls, one call per element (before any batch)."""
    times = p.get("timings_ns") or []
    single = next((start for start, size in p.get("batch_sizes") or [] if size != 1), len(times))
    return [int(t) for t in times[:min(single, _EARLY)]]


def _records(result: Any, state: str) -> list[dict[str, Any]]:
    st = result.states.get(state)
    if not st:
        return []
    out = []
    for p in st["processes"]:
        rec = {k: p.get(k) for k in _KEEP if k in p}
        if p.get("first_call_ns") is not None:
            rec["time_to_first_result_ns"] = ((p.get("import_ns") or 0) + (p.get("setup_ns") or 0)
                                              + p["first_call_ns"])
        if p.get("timings_ns"):
            rec["early_calls_ns"] = _early_calls(p)
        out.append(rec)
    return out


class _Session:
    def __init__(self, target: Target, processes: int, settings: Settings, timeout_s: float,
                 progress: ProgressFn | None, work: Path,
                 options: dict[str, Any] | None = None, replicas: int = 1,
                 variant: str | None = None) -> None:
        #: the variant this session measures (``gc-freeze``), None for the strategies as such
        self.variant = variant
        self.target = target
        #: run options of the strategies that need one (``Strategy.option``)
        self.options = dict(options or {})
        #: every process's environment unless a strategy says otherwise: remote caches off,
        #: and the measured processes' thread cap in the preparing ones too (torch's
        #: Inductor keys its cache by the thread count: a prewarm with every core would
        #: fill a cache that a measured process capped at one thread cannot hit)
        from jitwarm.measure.runner import thread_env

        self.base_env = {**remote_cache_env(None), **thread_env(settings.threads)}
        self.processes = processes
        #: processes started together per wave (``processes`` waves of them)
        self.replicas = replicas
        self.settings = settings
        self.timeout_s = timeout_s
        self.progress = progress
        self.work = work
        #: records of the strategy being measured, kept if the run is interrupted
        self.partial: dict[str, list[dict[str, Any]]] = {}
        #: each strategy's measured processes' cache directories (by index), this round
        self.copies: dict[str, list[Path]] = {}

    def label(self, strategy: str) -> str:
        """The result name of ``strategy`` in this session (``aot+gc-freeze``)."""
        return f"{strategy}+{self.variant}" if self.variant else strategy

    def with_variant(self, variant: str) -> _Session:
        """A session measuring ``variant`` in its own directory, sharing the partial records."""
        sess = _Session(self.target, self.processes, variant_settings(self.settings, variant),
                        self.timeout_s, self.progress, self.work / variant, self.options,
                        replicas=self.replicas, variant=variant)
        sess.work.mkdir(exist_ok=True)
        sess.partial = self.partial
        return sess

    def say(self, strategy: str, message: str) -> None:
        if self.progress:
            self.progress(self.label(strategy) if strategy != "floor" else strategy, message)

    def waves(self, strategy: str, target: Target, extra_env: dict[str, str], *,
              waves: int | None = None, seed: Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> tuple[Any, list[Path]]:
        """``waves`` (default ``processes``) waves of ``replicas`` fresh processes, each with
        its own cache directory (empty, or a copy of ``seed``). Returns the runner's result
        and each process's cache directory, by index; the directories stay until the round
        ends. ``progress(wave, waves)`` before each wave."""
        from jitwarm.measure.runner import Runner

        work = self.work / f"{strategy}-run"
        runner = Runner(target, processes=waves or self.processes, states=("cold",),
                        settings=self.settings, timeout_s=self.timeout_s,
                        extra_env=extra_env, replicas=self.replicas, seed=seed, work=work,
                        progress=(lambda state, w, n, rec: progress(w, n) if rec is None
                                  else None) if progress else None)
        res = runner.run()
        assert runner.run_dir is not None
        n = (waves or self.processes) * self.replicas
        return res, [runner.run_dir / "caches" / f"cold-{i}" for i in range(n)]

    def wave_note(self, w: int, waves: int) -> str:
        """``process 2/3``, or with replicas ``wave 2/3: 4 processes started together``."""
        if self.replicas == 1:
            return f"process {w + 1}/{waves}"
        return f"wave {w + 1}/{waves}: {self.replicas} processes started together"

    def fresh_copies(self, strategy: str, target: Target, populated: Path) -> list[dict[str, Any]]:
        """One process per fresh copy of a populated cache directory (in waves of
        ``replicas``, started together). Their directories: :attr:`copies`."""
        from jitwarm.measure.runner import RunInterrupted

        records = self.partial.setdefault(self.label(strategy), [])
        try:
            res, dirs = self.waves(strategy, target, self.base_env, seed=populated,
                                   progress=lambda w, n: self.say(strategy,
                                                                  self.wave_note(w, n)))
        except RunInterrupted as exc:
            records.extend(_records(exc.result, "cold"))
            raise
        self.copies[strategy] = dirs
        if res.status == "error" and res.error:
            return [{"status": "case_error", "error": res.error.get("message")}]
        records.extend(_records(res, "cold"))
        del self.partial[self.label(strategy)]
        return records


def _moved_target(target: Target, dest: Path) -> tuple[Target, Path | None]:
    """The case file and its sibling .py files copied into ``dest`` (another directory)."""
    if target.file is None:
        return target, None
    src_dir = Path(target.file).parent
    moved = dest / src_dir.name
    moved.mkdir(parents=True)
    for p in src_dir.glob("*.py"):
        if p.is_file():
            shutil.copy2(p, moved / p.name)
    return resolve_target(f"{moved / Path(target.file).name}::{target.name}"), moved


def _bundle(sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from jitwarm.caches.bundle import create, install
    from jitwarm.caches.prewarm import run_case_process, write_prewarm_manifest

    prep = sess.work / "bundle-prewarm"
    sess.say("bundle", "prewarming in a fresh process")
    rec = run_case_process(sess.target, prep, timeout_s=sess.timeout_s,
                           extra_env=sess.base_env)
    if rec.get("status") != "ok":
        raise _StrategyFailed(f"prewarm failed: {rec.get('message') or rec.get('error')}")
    try:
        import zstandard  # noqa: F401

        name = "warm.tar.zst"
    except ImportError:
        name = "warm.tar.gz"
    sources = Path(sess.target.file).parent if sess.target.file else None
    write_prewarm_manifest(prep, None, sources, [{"target": sess.target.spec, **rec}])
    bundle_path = sess.work / name
    try:
        manifest = create(prep, bundle_path, sources=sources)
    except UsageError as exc:
        raise _StrategySkipped(f"nothing to bundle: {exc}") from None
    moved_target, moved = _moved_target(sess.target, sess.work / "moved-sources")
    installed = sess.work / "bundle-installed"
    res = install(bundle_path, target=installed, sources=moved)
    details = {"bundle_bytes": bundle_path.stat().st_size, "files": len(manifest["files"]),
               "contents": manifest["contents"], "moved_to": str(moved) if moved else None,
               "install_notes": res.notes, "install_warnings": res.warnings}
    records = sess.fresh_copies("bundle", moved_target, installed)
    if any(_missed(r) for r in records):
        sess.say("bundle", "a bundled run still compiled: asking the framework why")
        copy = sess.work / "bundle-explain"
        shutil.copytree(installed, copy)
        exp = run_case_process(moved_target, copy, mode="explain", timeout_s=sess.timeout_s,
                               extra_env=sess.base_env)
        details["explain"] = exp.get("explanations") or [
            f"explain process failed: {exp.get('message') or exp.get('error')}"]
    return records, details


def _missed(rec: dict[str, Any]) -> bool:
    cache = rec.get("cache") or {}
    return bool(cache.get("misses")) or any(
        e.get("depth") == 0 and e.get("cache") != "hit" for e in rec.get("compile_events") or [])


def _prepared(sess: _Session, strategy: str, mode: str, loader: str, what: str,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], Target, Path]:
    """A separate fresh process writes the strategy's artifact (``mode``), and a generated
    case loads it in setup. Returns the preparing record, that case, and the cache
    directory the preparing process filled."""
    from jitwarm.caches.aot import case_source, wrapper_case_source
    from jitwarm.caches.prewarm import run_case_process

    artifacts = sess.work / f"{strategy}-artifacts"
    cache = sess.work / f"{strategy}-prepare-cache"
    rec = run_case_process(sess.target, cache, mode=mode, timeout_s=sess.timeout_s,
                           options={"artifact_dir": str(artifacts), **(options or {})},
                           extra_env=sess.base_env)
    if rec.get("status") == "usage_error":
        raise _StrategySkipped(rec["message"])
    if rec.get("status") != "ok":
        raise _StrategyFailed(f"{what} failed: {rec.get('message') or rec.get('error')}")
    t = sess.target
    name = strategy.replace("-", "_")
    case_file = sess.work / f"{name}_case.py"
    spec = {"spec": t.spec, "name": t.name, "file": t.file, "module": t.module}
    case_file.write_text(case_source(spec, str(artifacts), name=name) if mode == "aot-prepare"
                         else wrapper_case_source(spec, str(artifacts), loader=loader, name=name),
                         encoding="utf-8")
    cache.mkdir(parents=True, exist_ok=True)
    return rec, resolve_target(f"{case_file}::{name}"), cache


def _aot(sess: _Session, kind: str = "aot") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    sess.say(kind, "compiling ahead of time in a fresh process")
    rec, target, cache = _prepared(sess, kind, "aot-prepare", "jitwarm.caches.aot",
                                   "AOT compilation", options={"kind": kind})
    # the measured processes get the cache the preparing process filled (a Numba fallback's
    # eager signatures load from it, JAX's compile in setup hits it)
    records = sess.fresh_copies(kind, target, cache)
    details: dict[str, Any] = {"artifact": rec.get("aot")}
    explain = []
    fallback = (rec.get("aot") or {}).get("fallback")
    if fallback:
        explain.append(fallback)
    explain += [why for why in load_reasons(records) if why not in explain]
    if kind == "torchscript":
        details["warmup"] = _early_sentences(records)
    if explain:
        details["explain"] = explain
    return records, details


def load_reasons(records: list[dict[str, Any]]) -> list[str]:
    """Why measured processes loaded an artifact another way than it was built for (their
    ``runtime.aot_loads``), each reason once."""
    out: list[str] = []
    for r in records:
        for loaded in (r.get("runtime") or {}).get("aot_loads") or []:
            why = loaded.get("reason") if isinstance(loaded, dict) else None
            if isinstance(why, str) and why not in out:
                out.append(why)
    return out


def _early_sentences(records: list[dict[str, Any]]) -> list[str]:
    """The first calls, call by call (median over processes), against the warm median: where
    TorchScript's profiling executor profiles and re-optimises."""
    from jitwarm._units import fmt_ns

    rows = [r.get("early_calls_ns") or [] for r in records if r.get("status") == "ok"]
    warm = sorted(r["warm_median_ns"] for r in records
                  if r.get("status") == "ok" and r.get("warm_median_ns"))
    n = min((len(x) for x in rows), default=0)
    if not n or not warm:
        return []
    med = [sorted(x[i] for x in rows)[len(rows) // 2] for i in range(n)]
    w = warm[len(warm) // 2]
    near = next((i + 1 for i, v in enumerate(med) if v <= 2 * w), None)
    return [f"calls 1–{n}: {', '.join(fmt_ns(v) for v in med)} (median of {len(rows)} "
            f"process(es); warm median {fmt_ns(w)}): "
            + (f"within 2× of the warm median from call {near}" if near else
               f"still above 2× the warm median after {n} calls")
            + "; the profiling executor profiles the first call(s) and re-optimises the graph "
            "on a later one, so those calls are slower than the warm ones"]


def _mega(sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from jitwarm.caches.megacache import native_builds

    sess.say("mega-cache", "compiling and saving the Mega-Cache blob in a fresh process")
    rec, target, _ = _prepared(sess, "mega-cache", "mega-prepare", "jitwarm.caches.megacache",
                               "saving the Mega-Cache")
    empty = sess.work / "mega-cache-empty"
    empty.mkdir(parents=True, exist_ok=True)
    records = sess.fresh_copies("mega-cache", target, empty)  # the blob is all they get
    builds = [native_builds(d) for d in sess.copies.get("mega-cache", []) if d.is_dir()]
    details = {"blob": rec.get("mega"), "native_builds": builds}
    if any(builds):
        details["explain"] = [
            f"torch: each process built {max(builds)} native librar"
            f"{'y' if max(builds) == 1 else 'ies'} with the C++ compiler (Inductor's CPU kernels "
            "and its vector-ISA probe): the Mega-Cache blob holds the FX-graph and AOTAutograd "
            "entries, not the compiled .so files they load; a bundle of the whole cache "
            "directory carries them"]
    return records, details


def _remote(sess: _Session) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Replicas sharing the remote cache at ``sess.options["remote_cache"]``: each a fresh
    process with an empty local cache. A first wave fills the remote cache (its numbers go
    to the details): one replica, or with ``sess.replicas`` > 1 that many started together,
    racing to fill it as a fleet's first scale-out does; the next ``sess.processes`` waves
    are the measured ones. After each replica its own check of the server (and Inductor's
    state) must be clean, else the strategy fails: a replica that silently compiled without
    the server is not a remote-cache result."""
    from jitwarm.adapters import adapter_named
    from jitwarm.adapters.remote import key_count, masked
    from jitwarm.caches.megacache import native_builds
    from jitwarm.measure.runner import RunInterrupted

    url = sess.options["remote_cache"]
    server = masked(url)
    env = {**sess.base_env, **remote_cache_env(url)}
    n = sess.replicas
    details: dict[str, Any] = {"server": server, "keys_before": key_count(url), "replicas": [],
                               "replicas_per_wave": n}
    records = sess.partial.setdefault(sess.label("remote-cache"), [])
    total = (sess.processes + 1) * n

    def say(first: int, fills: bool) -> None:
        what = (f"replica {first}/{total}" if n == 1 else
                f"replicas {first}–{first + n - 1}/{total}, started together")
        sess.say("remote-cache", what + (f": fill the remote cache at {server}" if fills
                                         else ""))

    for role, waves, offset in (("fills", 1, 0), ("measured", sess.processes, n)):
        try:
            res, dirs = sess.waves(f"remote-cache-{role}", sess.target, env, waves=waves,
                                   progress=lambda w, _n, o=offset, r=role:
                                   say(o + w * n + 1, r == "fills"))
        except RunInterrupted as exc:
            if role == "measured":
                records.extend(_records(exc.result, "cold"))
            raise
        if res.status == "error" and res.error:
            return [{"status": "case_error", "error": res.error.get("message")}], details
        for rec in _records(res, "cold"):
            idx = rec.get("index", 0)
            local = dirs[idx]
            number = offset + idx + 1  # replica number, 1-based, over every wave
            rec["index"] = number - 1
            if rec.get("status") != "ok":
                if role == "fills":
                    err = rec.get("error") or "no record"
                    raise _StrategyFailed(f"replica {number}, filling the remote cache, "
                                          f"failed: {err}")
                records.append(rec)
                continue
            framework = rec.get("framework")
            if not adapter_named(framework).remote_cache_env(url):
                raise _StrategySkipped(f"{framework or 'this case'} has no remote compile "
                                       "cache jitwarm can point at a server (torch.compile's "
                                       "Inductor has)")
            remote = (rec.get("runtime") or {}).get("remote_cache")
            if remote is None:
                raise _StrategyFailed(f"replica {number} did not use the remote cache (its "
                                      "Inductor config has every remote cache off: "
                                      "TORCHINDUCTOR_FORCE_DISABLE_CACHES?)")
            if not remote.get("answers") or remote.get("dropped_connection"):
                why = remote.get("problem") or "Inductor dropped its connection during the run"
                raise _StrategyFailed(
                    f"the remote cache {server} stopped answering during replica {number} "
                    f"({why}): torch carried on without it, silently, counting each lookup as "
                    "a miss; these replicas measured no remote cache")
            cache = rec.get("cache") or {}
            details["replicas"].append({
                "replica": number,
                "role": role,
                "wave": idx // n + (1 if role == "fills" else 2),  # 1: the filling wave
                "time_to_first_result_ns": rec.get("time_to_first_result_ns"),
                "first_call_ns": rec.get("first_call_ns"),
                "compile_ns": rec.get("compile_ns"),
                "cpu_to_first_result_ns": rec.get("cpu_to_first_result_ns"),
                "cpu_scope": rec.get("cpu_scope"),
                "wave_offset_ns": rec.get("wave_offset_ns"),
                "process_wall_ns": rec.get("process_wall_ns"),
                "remote": {k: cache.get(f"remote_{k}") for k in ("hits", "misses", "puts",
                                                                 "errors")},
                "remote_by_cache": remote.get("caches"),
                "local_native_builds": native_builds(local) if local.is_dir() else None,
            })
            if role == "measured":
                records.append(rec)
    del sess.partial[sess.label("remote-cache")]
    details["keys_after"] = key_count(url)
    fill = [r for r in details["replicas"] if r["role"] == "fills"]
    if fill:  # the first wave against the server as it was (empty: the herd filling it)
        details["fill_wave"] = _fleet_of([{**r, "status": "ok"} for r in fill])
    measured = [r for r in details["replicas"] if r["role"] == "measured"]
    builds = [r["local_native_builds"] or 0 for r in measured]
    explain = []
    if n > 1 and details["keys_before"]:
        explain.append(f"the server held {details['keys_before']} keys before the first wave: "
                       "its replicas found entries instead of racing to fill an empty cache")
    if builds and max(builds):
        explain.append(
            f"torch: each replica still built up to {max(builds)} native librar"
            f"{'y' if max(builds) == 1 else 'ies'} with the C++ compiler (Inductor's CPU "
            "kernels and its vector-ISA probe): the remote caches hold the FX-graph and "
            "AOTAutograd entries (the generated code), not the compiled .so files, which stay "
            "in each replica's local cache; a bundle of the whole cache directory carries them")
    if explain:
        details["explain"] = explain
    return records, details


def _remote_lines(details: dict[str, Any]) -> list[str]:
    """The filling replica(s) against the others, from the remote-cache strategy's details."""
    import statistics

    from jitwarm._units import fmt_ns

    reps = details.get("replicas") or []
    fill = [r for r in reps if r["role"] == "fills"]
    rest = [r for r in reps if r["role"] == "measured"]
    if not fill:
        return []

    def counts(rs: list[dict[str, Any]]) -> str:
        def med(key: str) -> str:
            vals = [r["remote"].get(key) for r in rs if r["remote"].get(key) is not None]
            return "?" if not vals else f"{statistics.median(vals):g}"

        return (f"remote {med('hits')} hit / {med('misses')} miss / {med('puts')} put / "
                f"{med('errors')} error")

    def who(rs: list[dict[str, Any]]) -> str:
        a, b = rs[0]["replica"], rs[-1]["replica"]
        return f"replica {a}" if a == b else f"replicas {a}–{b} (median)"

    def times(rs: list[dict[str, Any]]) -> str:
        ttfr = statistics.median(r["time_to_first_result_ns"] or 0 for r in rs)
        first = statistics.median(r["first_call_ns"] or 0 for r in rs)
        return f"time to first result {fmt_ns(int(ttfr))}, first call {fmt_ns(int(first))}"

    together = " started together" if len(fill) > 1 else ""
    out = [f"{who(fill)} (fill{'s' if len(fill) == 1 else ''} the remote cache at "
           f"{details.get('server')}{together}): {times(fill)}, {counts(fill)}"]
    if rest:
        out.append(f"{who(rest)}: {times(rest)}, {counts(rest)} (Inductor's counters, per "
                   "replica)")
        if not any(r["remote"].get("hits") for r in rest):
            out.append("warning: no measured replica hit the remote cache: its key differs "
                       "between processes, or nothing was written to it")
    hit = [r["remote"]["hits"] for r in fill if r["remote"].get("hits")]
    if hit and len(fill) == 1:
        out.append(f"replica 1 already hit {hit[0]} entr{'y' if hit[0] == 1 else 'ies'}: the "
                   f"server held them from an earlier run ({details.get('keys_before')} keys "
                   "before this one)")
    elif hit:
        out.append(f"{len(hit)} of the {len(fill)} filling replicas hit entries "
                   f"({details.get('keys_before')} keys on the server before them): one that "
                   "finished a compile first wrote what another then read, or the server held "
                   "them already")
    if details.get("keys_before") is not None and details.get("keys_after") is not None:
        out.append(f"the server holds {details['keys_after']} keys "
                   f"({details['keys_after'] - details['keys_before']:+d} during this run)")
    return out


def _percentile(values: list[int], q: float) -> int | None:
    """The ``q`` quantile (0–1) of ``values``, linearly interpolated (None: no values)."""
    if not values:
        return None
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return int(round(v[lo] + (v[hi] - v[lo]) * (pos - lo)))


def _fleet_of(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A fleet's view of processes started in waves: time to first result across every
    replica (p50, p95), the median wave's slowest replica (when the whole wave serves), and
    the CPU a wave burns to first result (summed over its replicas; median wave)."""
    ok = [r for r in records if r.get("status") == "ok"
          and r.get("time_to_first_result_ns") is not None]
    by_wave: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in ok:
        by_wave.setdefault((int(r.get("round") or 0), int(r.get("wave") or 0)), []).append(r)
    cpu = [sum(r["cpu_to_first_result_ns"] for r in rs) for rs in by_wave.values()
           if all(r.get("cpu_to_first_result_ns") is not None for r in rs)]
    ttfr = [int(r["time_to_first_result_ns"]) for r in ok]
    overlap = [_overlaps(rs) for rs in by_wave.values() if len(rs) > 1]
    return {
        "processes_ok": len(ok),
        "waves": len(by_wave),
        "ttfr_p50_ns": _percentile(ttfr, 0.5),
        "ttfr_p95_ns": _percentile(ttfr, 0.95),
        "wave_last_ttfr_ns": _median([max(int(r["time_to_first_result_ns"]) for r in rs)
                                      for rs in by_wave.values()]),
        "wave_cpu_ns": _median(cpu),
        "cpu_scope": next((r.get("cpu_scope") for r in ok if r.get("cpu_scope")), None),
        "waves_overlapping": sum(overlap) if overlap else None,
    }


def _overlaps(rs: list[dict[str, Any]]) -> bool:
    """Whether every process of a wave was running at one moment (the last started before
    the first ended)."""
    spans = [(r.get("wave_offset_ns"), r.get("process_wall_ns")) for r in rs]
    if any(a is None or b is None for a, b in spans):
        return False
    return max(a for a, _ in spans) < min(a + b for a, b in spans)


class StrategiesInterrupted(Exception):
    """Ctrl-C (or SIGTERM/SIGHUP) during the A/B: the worker processes are ended;
    ``result`` holds what finished (``status`` "interrupted")."""

    def __init__(self, result: StrategiesResult, cause: BaseException | None) -> None:
        from jitwarm.measure.spawn import exit_code, signal_name

        super().__init__("interrupted")
        self.result = result
        self.exit_code = exit_code(cause)
        self.signal = signal_name(cause)


class _StrategySkipped(Exception):
    pass


class _StrategyFailed(Exception):
    pass


def _add(results: dict[str, StrategyResult], new: StrategyResult) -> None:
    """Pool one round's result of a strategy into ``results`` (a skip or failure sticks)."""
    old = results.get(new.strategy)
    if old is None:
        results[new.strategy] = new
    elif old.status == "ok" and new.status != "ok":
        results[new.strategy] = new
    elif old.status == "ok":
        old.processes.extend(new.processes)
        old.details = new.details or old.details


def _one_round(sess: _Session, names: list[str], results: dict[str, StrategyResult]) -> str | None:
    """One pass over the strategies; their records are pooled into ``results``. Each
    strategy's variants (``aot+gc-freeze``) are measured right after it, in their own
    session."""
    sessions = {None: sess}
    for name in names:
        variant = split_name(name)[1]
        if variant and variant not in sessions:
            sessions[variant] = sess.with_variant(variant)
    framework: str | None = None
    for variant, vs in sessions.items():  # the cache states: one run per session
        wanted = {split_name(n)[0] for n in names if split_name(n)[1] == variant}
        framework = _state_run(vs, wanted, results) or framework
    for st in REGISTRY:
        for vs in sessions.values():
            if st.state is None and vs.label(st.name) in names:
                _measure_one(vs, st, results)
    return framework


def _state_run(sess: _Session, wanted: set[str],
               results: dict[str, StrategyResult]) -> str | None:
    """The strategies measured as runner cache states, in one run of fresh processes."""
    from jitwarm.caches.prewarm import prewarm_env
    from jitwarm.measure.runner import RunInterrupted, Runner

    framework: str | None = None
    processes, work = sess.processes, sess.work
    by_state = {st.state: sess.label(st.name) for st in REGISTRY if st.state and st.name in wanted}
    if by_state:
        # the baseline's cold state always runs: a cached state reuses its cache
        states = ("cold", *(s for s in by_state if s != "cold"))
        sess.say(by_state.get("cold", BASELINE),
                 (f"{processes} fresh process(es)" if sess.replicas == 1 else
                  f"{processes} wave(s) of {sess.replicas} fresh processes started together")
                 + f" per state: {', '.join(states)}")
        extra = {**sess.base_env, **{k: v for k, v in prewarm_env(work / "x").items()
                                     if not v.startswith(str(work))}}
        try:
            res = Runner(sess.target, processes=processes, states=states,
                         settings=sess.settings, timeout_s=sess.timeout_s,
                         extra_env=extra, replicas=sess.replicas).run()
        except RunInterrupted as exc:
            for state, name in by_state.items():
                sess.partial[name] = _records(exc.result, state)
            raise
        if res.status == "error" and res.error:
            raise UsageError(f"the case failed: {res.error.get('message')}")
        framework = res.framework
        for state, name in by_state.items():
            skipped = res.skipped_states.get(state)
            _add(results, StrategyResult(name, status="skipped", reason=skipped)
                 if skipped else StrategyResult(name, processes=_records(res, state)))
    return framework


def _measure_one(sess: _Session, st: Strategy, results: dict[str, StrategyResult]) -> None:
    """A strategy that prepares its own processes (:meth:`Strategy.measure`), in ``sess``."""
    name = sess.label(st.name)
    dep = (results.get(sess.label(st.needs)) or results.get(st.needs)) if st.needs else None
    if dep is not None and dep.status == "skipped":
        _add(results, StrategyResult(name, status="skipped", reason=dep.reason))
        return
    try:
        records, details = st.measure(sess)
        _add(results, StrategyResult(name, processes=records, details=details))
    except _StrategySkipped as exc:
        _add(results, StrategyResult(name, status="skipped", reason=str(exc)))
    except _StrategyFailed as exc:
        _add(results, StrategyResult(name, status="failed", reason=str(exc)))


def run_strategies(target: str, strategies: list[str], *, processes: int = 3,
                   settings: Settings | None = None, timeout_s: float = 600.0,
                   progress: ProgressFn | None = None, rounds: int = 1,
                   options: dict[str, Any] | None = None,
                   replicas: int = 1) -> StrategiesResult:
    """Measure the first call in fresh processes under each strategy (see module doc).

    With ``rounds`` > 1 the whole A/B (caches, bundle and AOT artifacts included) is
    repeated and the processes pooled, so the strategies interleave in time and a drift
    in the machine's load cannot favour the one measured last. ``options``: what the
    strategies that need one take (``{"remote_cache": "redis://HOST:PORT"}``), checked
    before any process runs. With ``replicas`` > 1 every measured process is a wave of
    that many started together on this machine, each measured as alone (a deployment
    scaling out), and each strategy gets a ``fleet`` view; what a strategy prepares (a
    prewarm, an AOT artifact) is still made once, by one process.
    """
    from jitwarm.results.environment import environment

    names = parse_strategies(strategies)
    if processes < 1:
        raise UsageError("--processes must be at least 1")
    if rounds < 1:
        raise UsageError("--rounds must be at least 1")
    if replicas < 1:
        raise UsageError("--replicas must be at least 1")
    from dataclasses import replace

    settings = replace(settings or Settings(max_calls=300, max_time_s=2.0),
                       record_packages=True)
    from jitwarm.measure.runner import RunInterrupted
    from jitwarm.measure.spawn import check_seconds

    check_seconds(timeout_s, "--timeout")
    tgt = resolve_target(target)
    opts = {k: v for k, v in (options or {}).items() if v is not None}
    for key in opts:
        owners = [st.name for st in REGISTRY if st.option == key]
        if not owners or not set(owners) & {split_name(n)[0] for n in names}:
            raise UsageError(f"--{key.replace('_', '-')} applies to --strategies "
                             f"{', '.join(owners) or '(none takes it)'}")
    for name in names:
        by_name(name).preflight(opts)
    work = Path(tempfile.mkdtemp(prefix="jitwarm-strategies-"))
    results: dict[str, StrategyResult] = {}
    floors: dict[str, list[int]] = {}
    breakdown: dict[str, dict[str, Any]] = {}
    case_floor: tuple[str, str] | None = None
    framework: str | None = None
    notes: list[str] = []
    stopped: BaseException | None = None
    try:
        for k in range(rounds):
            if rounds > 1 and progress:
                progress("all", f"round {k + 1}/{rounds}")
            sess = _Session(tgt, processes, settings, timeout_s, progress, work / f"round-{k}",
                            opts, replicas)
            sess.work.mkdir()
            try:
                fw = _one_round(sess, names, results)
                for r in results.values():
                    for p in r.processes:
                        p.setdefault("round", k)
                case_floor = _measure_floors(sess, results, framework or fw, floors,
                                             breakdown) or case_floor
            except (KeyboardInterrupt, RunInterrupted) as exc:  # Ctrl-C, SIGTERM, SIGHUP
                stopped = exc.cause if isinstance(exc, RunInterrupted) else exc
                for name, records in sess.partial.items():
                    if records:
                        _add(results, StrategyResult(name, processes=records))
                notes.append(f"interrupted in round {k + 1} of {rounds}: the strategies "
                             "below hold the processes that finished")
                break
            framework = framework or fw
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ordered = [results[n] for n in names if n in results]
    for r in ordered:
        if r.status == "ok":
            r.summary = _summarise(r.processes)
            if r.summary["processes_ok"] == 0:
                r.status = "failed"
                errs = [p.get("error") for p in r.processes if p.get("error")]
                r.reason = str(errs[0]) if errs else "no process succeeded"
            framework = framework or (r.details.get("artifact") or {}).get("framework") or next(
                (p.get("framework") for p in r.processes if p.get("framework")), None)
    _compare(ordered)
    _compare_variants(ordered)
    _headline(ordered, floors, framework, notes, case_floor)
    for r in ordered:
        if r.status == "ok":
            if replicas > 1:
                r.fleet = _fleet_of(r.processes)
            r.explanation = explain(r, framework) + by_name(r.strategy).describe(r)
            r.misses = _misses(r) + list(r.details.get("explain") or [])
    if BASELINE not in names:
        notes.append("`none` was not measured: savings are not computed")
    floor_breakdown = {k: _floor_breakdown(v) for k, v in breakdown.items()}
    _packages_vs_floor(ordered, floor_breakdown)
    result = StrategiesResult(target=target, framework=framework, strategies=ordered,
                              settings={**settings.to_dict(), "processes": processes,
                                        "rounds": rounds, "timeout_s": timeout_s,
                                        "replicas": replicas,
                                        "strategies": names, **_shown_options(opts)},
                              environment=environment(), notes=notes,
                              status="complete" if stopped is None else "interrupted",
                              floors=floors,
                              floor_breakdown=floor_breakdown)
    if stopped is not None:
        raise StrategiesInterrupted(result, stopped)
    return result


def _shown_options(opts: dict[str, Any]) -> dict[str, Any]:
    """The strategies' options as recorded (a server URL with its password masked)."""
    from jitwarm.adapters.remote import masked

    return {k: masked(v) if k == "remote_cache" else v for k, v in opts.items()}


_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}(\.[A-Za-z_][A-Za-z0-9_]{0,60}){0,4}")
_FLOOR_SCRIPT = (
    "import time, sys\nt0 = time.perf_counter_ns()\n{imports}"
    "t_imports = time.perf_counter_ns()\n{code}t = time.perf_counter_ns()\n"
    "import json, os\n"
    "{packages}"
    "with open(sys.argv[1] + '.tmp', 'w') as f:\n"
    "    json.dump({{'status': 'ok', 'floor_ns': t - int(sys.argv[2]),\n"
    "               'imports_ns': t_imports - int(sys.argv[2]),\n"
    "               'interpreter_ns': t0 - int(sys.argv[2]), 'modules': len(sys.modules),\n"
    "               'packages': PACKAGES}}, f)\n"
    "os.replace(sys.argv[1] + '.tmp', sys.argv[1])\n")
#: the floor's imports again, under ``-X importtime`` with the interpreter's report sent
#: to a file (its byte offsets mark the floor's part and then ``jitwarm.load``'s imports)
_BREAKDOWN_SCRIPT = (
    "import time, sys, os\n"
    "fd = os.open(sys.argv[1] + '.importtime', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)\n"
    "os.dup2(fd, 2)\n{imports}t = time.perf_counter_ns()\nend = os.lseek(2, 0, os.SEEK_CUR)\n"
    "import jitwarm.caches.aot\nt2 = time.perf_counter_ns()\n"
    "end2 = os.lseek(2, 0, os.SEEK_CUR)\n"
    "import json\n"
    "with open(sys.argv[1] + '.tmp', 'w') as f:\n"
    "    json.dump({{'status': 'ok', 'floor_end': end, 'load_end': end2,\n"
    "               'jitwarm_load_import_ns': t2 - t}}, f)\n"
    "os.replace(sys.argv[1] + '.tmp', sys.argv[1])\n")
#: one line of ``-X importtime``: self and cumulative microseconds, the indented module name
_IMPORTTIME = re.compile(r"import time:\s+(\d{1,12}) \|\s+(\d{1,12}) \| ( *)(\S{1,300})")
_MAX_IMPORTTIME = 16 << 20
#: how many packages and sub-imports a floor's breakdown keeps
_BREAKDOWN_TOP = 8


@dataclass(frozen=True)
class _Floor:
    """One floor: its key in ``floors``, its imports, and what it does after them (an
    adapter's :meth:`~jitwarm.adapters.base.Adapter.floor_code`; empty: only imports)."""

    key: str
    imports: tuple[str, ...]
    code: str = ""


def _floor_imports(r: StrategyResult, framework: str | None) -> tuple[str, ...]:
    """What a process running this strategy's result must import at the least: the
    artifact's needs (a pycc module: NumPy), else the framework."""
    from jitwarm.adapters import adapter_named

    art = r.details.get("artifact") or {}
    needs = (art.get("imports") or art.get("needs")) if not art.get("fallback") else None
    if isinstance(needs, list) and needs:
        return tuple(sorted(str(n) for n in needs))
    module = adapter_named(framework).module if framework else None
    return (module,) if module else ()


def _floor(r: StrategyResult, framework: str | None,
           case_floor: tuple[str, str] | None) -> _Floor:
    """This strategy's floor: its imports, and, where they are just the framework and its
    adapter states what the least user code does next (``case_floor``), that too."""
    from jitwarm.adapters import adapter_named

    imports = _floor_imports(r, framework)
    module = adapter_named(framework).module if framework else None
    if case_floor is not None and module and imports == (module,):
        return _Floor(case_floor[0], imports, case_floor[1])
    return _Floor("+".join(imports) or "python", imports)


def _case_floor(results: dict[str, StrategyResult],
                framework: str | None) -> tuple[str, str] | None:
    """The framework adapter's floor for this case (``(name, statements)``), from the first
    measured process that recorded a ``floor_spec``; None: importing is the floor."""
    from jitwarm.adapters import adapter_named

    if not framework:
        return None
    adapter = adapter_named(framework)
    for r in results.values():
        for p in r.processes:
            if p.get("floor_spec") is not None and p.get("framework") == framework:
                return adapter.floor_code(p["floor_spec"])
    return None


def _measure_floors(sess: _Session, results: dict[str, StrategyResult],
                    framework: str | None, floors: dict[str, list[int]],
                    breakdown: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    """``sess.processes`` fresh processes per floor the round's strategies need, timed from
    spawn to the end of their imports (and of the adapter's floor code, where it states
    one) on the same clock as the measured processes. A floor with code also gives its
    imports' own floor, from the same processes, unless that is measured by itself. In the
    first round as many again import the same under ``-X importtime``, for where the
    floor's time goes (pooled into ``breakdown``, see :func:`_floor_breakdown`). Returns
    the adapter's floor for this case (see :func:`_case_floor`)."""
    from jitwarm.measure.spawn import run_worker, worker_env

    case_floor = _case_floor(results, framework)
    wanted = sorted({_floor(r, framework, case_floor) for r in results.values()
                     if r.status == "ok"}, key=lambda f: f.key)
    plain = {f.key for f in wanted if not f.code}
    for fl in wanted:
        if not all(_MODULE.fullmatch(m) for m in fl.imports):
            continue
        name = "jitwarm_floor_" + re.sub(r"[^A-Za-z0-9_]", "_", fl.key)
        lines = "".join(f"import {m}\n" for m in fl.imports)
        (sess.work / f"{name}.py").write_text(
            _FLOOR_SCRIPT.format(imports=lines, code=fl.code, packages=PACKAGES_CODE),
            encoding="utf-8")
        env = worker_env()
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(sess.work),
                                                        env.get("PYTHONPATH", "")) if p)
        imports_key = "+".join(fl.imports) or "python"
        for i in range(sess.processes):
            sess.say("floor", f"{fl.key}: process {i + 1}/{sess.processes}")
            out = sess.work / f"{name}-{i}.json"
            run = run_worker(name, out, out, timeout_s=sess.timeout_s, env=env)
            rec = run.record or {}
            if isinstance(rec.get("floor_ns"), int):
                floors.setdefault(fl.key, []).append(rec["floor_ns"])
                _floor_record(breakdown.setdefault(fl.key, {}), rec)
                if fl.code and imports_key not in plain and isinstance(rec.get("imports_ns"),
                                                                       int):
                    floors.setdefault(imports_key, []).append(rec["imports_ns"])
        key = fl.key
        if breakdown.get(key, {}).get("importtime"):
            continue  # one set of breakdown processes per floor and run
        (sess.work / f"{name}_x.py").write_text(_BREAKDOWN_SCRIPT.format(imports=lines),
                                                encoding="utf-8")
        runs = []
        for i in range(sess.processes):
            sess.say("floor", f"{key}: where its time goes (-X importtime), process "
                              f"{i + 1}/{sess.processes}")
            out = sess.work / f"{name}_x-{i}.json"
            run = run_worker(f"{name}_x", out, out, timeout_s=sess.timeout_s, env=env,
                             flags=("-X", "importtime"))
            parsed = _read_importtime(out, run.record)
            if parsed is not None:
                runs.append(parsed)
        if runs:
            breakdown.setdefault(key, {})["importtime"] = runs
    return case_floor


def _floor_record(acc: dict[str, Any], rec: dict[str, Any]) -> None:
    """Pool one timed floor process's interpreter start-up, module count and packages."""
    for k in ("interpreter_ns", "imports_ns", "modules"):
        if isinstance(rec.get(k), int):
            acc.setdefault(k, []).append(rec[k])
    pk = rec.get("packages")
    if isinstance(pk, list) and "packages" not in acc:
        acc["packages"] = [str(p)[:100] for p in pk[:2000]]


def _read_importtime(out: Path, rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """One breakdown process's ``-X importtime`` report: the floor's part as
    ``[(module, self_us, cumulative_us, depth)]`` and ``jitwarm.load``'s import time."""
    path = Path(str(out) + ".importtime")
    if not rec or not isinstance(rec.get("floor_end"), int) or not path.is_file():
        return None
    with open(path, "rb") as f:
        text = f.read(min(rec["floor_end"], _MAX_IMPORTTIME)).decode("utf-8", "replace")
    rows = []
    for line in text.splitlines():
        m = _IMPORTTIME.match(line)
        if m:
            rows.append((m[4], int(m[1]), int(m[2]), len(m[3]) // 2))
    load = rec.get("jitwarm_load_import_ns")
    return {"rows": rows, "jitwarm_load_import_ns": load if isinstance(load, int) else None}


def _floor_breakdown(acc: dict[str, Any]) -> dict[str, Any]:
    """Where a floor's time goes, medians over its processes: interpreter start-up (timed
    processes), then from ``-X importtime`` (breakdown processes) each import of the floor
    (cumulative), the self time summed by top-level package (these add up to the imports),
    the largest imports those make directly (cumulative; siblings, so they do not overlap),
    and what importing ``jitwarm.load`` adds after them."""
    out: dict[str, Any] = {"interpreter_ns": _median(acc.get("interpreter_ns") or []),
                           "imports_end_ns": _median(acc.get("imports_ns") or []),
                           "modules": _median(acc.get("modules") or []),
                           "packages": acc.get("packages") or []}
    runs = acc.get("importtime") or []
    out["breakdown_processes"] = len(runs)
    if not runs:
        return out

    def med(per_run: list[dict[str, int]]) -> dict[str, int]:
        keys = {k for d in per_run for k in d}
        return {k: _median([d.get(k, 0) for d in per_run]) or 0 for k in keys}

    top, pkgs, subs = [], [], []
    for run in runs:
        t: dict[str, int] = {}
        p: dict[str, int] = {}
        u: dict[str, int] = {}
        for module, self_us, cum_us, depth in run["rows"]:
            if depth == 0:
                t[module] = t.get(module, 0) + cum_us * 1000
            elif depth == 1:
                u[module] = u.get(module, 0) + cum_us * 1000
            pkg = module.partition(".")[0]
            p[pkg] = p.get(pkg, 0) + self_us * 1000
        top.append(t)
        pkgs.append(p)
        subs.append(u)

    def ranked(d: dict[str, int], n: int | None = None) -> list[dict[str, Any]]:
        rows = sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"module": k, "ns": v} for k, v in rows[:n]]

    by_pkg = med(pkgs)
    out["imports"] = ranked(med(top))
    out["by_package"] = ranked(by_pkg, _BREAKDOWN_TOP)
    out["other_packages_ns"] = sum(v for _, v in sorted(
        by_pkg.items(), key=lambda kv: -kv[1])[_BREAKDOWN_TOP:])
    out["sub_imports"] = ranked(med(subs), _BREAKDOWN_TOP)
    out["jitwarm_load_import_ns"] = _median(
        [r["jitwarm_load_import_ns"] for r in runs if r["jitwarm_load_import_ns"] is not None])
    return out


def _median(values: list[int]) -> int | None:
    if not values:
        return None
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) // 2


def _headline(results: list[StrategyResult], floors: dict[str, list[int]],
              framework: str | None, notes: list[str],
              case_floor: tuple[str, str] | None = None) -> None:
    """Time to first result, against its floor (``case_floor``: the adapter's, see
    :func:`_floor`) and against ``none``; a note when no strategy is worth it."""
    base = next((r for r in results if r.strategy == BASELINE and r.status == "ok"), None)
    b_ttfr = base.summary.get("time_to_first_result_ns") if base else None
    for r in results:
        if r.status != "ok":
            continue
        r.ttfr_ns = r.summary.get("time_to_first_result_ns")
        fl = _floor(r, framework, case_floor)
        r.floor_imports, r.floor_name = list(fl.imports), fl.key
        r.floor_ns = _median(floors.get(fl.key) or [])
        if r.ttfr_ns and r.floor_ns:
            r.ttfr_over_floor = r.ttfr_ns / r.floor_ns
        if b_ttfr and r.ttfr_ns is not None and r is not base:
            r.ttfr_saved_ns = int(b_ttfr - r.ttfr_ns)
    others = [r for r in results if r is not base and r.ttfr_saved_ns is not None]
    if b_ttfr and others and all(r.ttfr_saved_ns < 0.05 * b_ttfr for r in others):
        from jitwarm._units import fmt_ns

        best = max(others, key=lambda r: r.ttfr_saved_ns or 0)
        notes.append(f"no strategy is worth it here: none cuts the time to first result "
                     f"({fmt_ns(b_ttfr)} with `none`) by 5 % or more (best: {best.strategy}, "
                     f"{fmt_ns(best.ttfr_saved_ns)})")


def _packages_vs_floor(results: list[StrategyResult],
                       breakdown: dict[str, dict[str, Any]]) -> None:
    """What each strategy's process imported beyond its floor, and what its floor imported
    that the process never did (top-level packages outside the standard library)."""
    for r in results:
        floor = breakdown.get(r.floor_name or "+".join(r.floor_imports or []) or "python") or {}
        mine = next((p.get("packages") for p in r.processes
                     if p.get("status") == "ok" and isinstance(p.get("packages"), list)), None)
        if r.status != "ok" or mine is None or not floor.get("packages"):
            continue
        mine = [m for m in mine if not m.startswith("_jitwarm_case_")]  # the case itself
        r.packages_beyond_floor = sorted(set(mine) - set(floor["packages"]))
        r.floor_packages_unused = sorted(set(floor["packages"]) - set(mine))


#: the strategies whose measured case loads its artifact through jitwarm (``jitwarm.load``)
_LOADED_BY_JITWARM = ("aot", "torchscript", "mega-cache")


def _names(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def floor_sentences(data: dict[str, Any]) -> list[str]:
    """Where each floor's time goes and what each strategy imports beyond it, in sentences,
    from a strategies result's JSON (``StrategiesResult.to_dict``)."""
    from jitwarm._units import fmt_ns

    out: list[str] = []
    floors = data.get("floors") or {}
    strategies = data.get("strategies") or {}
    for key, b in (data.get("floor_breakdown") or {}).items():
        if not isinstance(b, dict):
            continue
        total = _median([v for v in floors.get(key) or [] if isinstance(v, int)])
        interp = b.get("interpreter_ns")
        parts = [f"floor `{key}` {fmt_ns(total)} (median of {len(floors.get(key) or [])} "
                 f"fresh process(es)): interpreter start-up {fmt_ns(interp)}"]
        end = b.get("imports_end_ns")
        if total and interp is not None and end and end < total * 0.98:  # an adapter's code
            parts.append(f"imports {fmt_ns(max(0, end - interp))}, then what the framework "
                         f"does before any result {fmt_ns(max(0, total - end))}")
        elif total and interp is not None:
            parts.append(f"imports {fmt_ns(max(0, total - interp))}")
        line = ", ".join(parts)
        imports = b.get("imports") or []
        if imports:
            n = b.get("breakdown_processes")
            line += (f"; by -X importtime ({n} more process(es), medians): "
                     + ", ".join(f"{x['module']} {fmt_ns(x['ns'])}" for x in imports[:4]))
            pk = b.get("by_package") or []
            if pk:
                rest = b.get("other_packages_ns") or 0
                line += (" — by package (self time): "
                         + ", ".join(f"{x['module']} {fmt_ns(x['ns'])}" for x in pk[:6])
                         + (f", the rest {fmt_ns(rest)}" if rest else ""))
            sub = b.get("sub_imports") or []
            if sub:
                line += ("; the largest imports it makes directly: "
                         + ", ".join(f"{x['module']} {fmt_ns(x['ns'])}" for x in sub[:5]))
        out.append(line)
        for name, r in strategies.items():
            name_of = r.get("floor_name") or "+".join(r.get("floor_imports") or []) or "python"
            if r.get("status") != "ok" or name_of != key:
                continue
            beyond, unused = r.get("packages_beyond_floor"), r.get("floor_packages_unused")
            if beyond is None:
                continue
            says = [f"`{name}`'s process imported {len(beyond)} package(s) its floor does not"
                    + (f" ({_names(beyond)})" if beyond else "")]
            if unused:
                says.append(f"and never imported {len(unused)} its floor does "
                            f"({_names(unused)})")
            load = b.get("jitwarm_load_import_ns")
            if "jitwarm" in beyond and load and split_name(name)[0] in _LOADED_BY_JITWARM:
                says.append(f"importing jitwarm.load after the floor takes {fmt_ns(load)}; "
                            "the rest is the measuring worker's own")
            out.append(" ".join(says))
    return out


def _ok_values(r: StrategyResult, key: str) -> list[float]:
    """Every successful process's value of ``key`` (processes are the independent unit)."""
    return [float(p[key]) for p in r.processes
            if p.get("status") == "ok" and p.get(key) is not None]


def _compare(results: list[StrategyResult]) -> None:
    """Each strategy against ``none``, from every process: the ratios of the medians and
    their intervals; the warm median is flagged slower only when the interval clears the
    practical margin (:func:`jitwarm.results.stats.compare_values`)."""
    from jitwarm.results.stats import compare_values

    base = next((r for r in results if r.strategy == BASELINE and r.status == "ok"), None)
    if base is None:
        return
    b_first = base.summary.get("first_call_ns")
    b_warm = base.summary.get("warm_median_ns")
    for r in results:
        if r.status != "ok" or r is base:
            continue
        first = r.summary.get("first_call_ns")
        if b_first and first:
            r.saves_ns = int(b_first - first)
            r.speedup = b_first / first
            cmp = compare_values(_ok_values(base, "first_call_ns"),
                                 _ok_values(r, "first_call_ns"))
            r.first_call_verdict = cmp.verdict
            ci = cmp.ratio_ci  # this / none; the speedup is none / this
            r.speedup_ci = [1 / ci[1], 1 / ci[0]] if ci and ci[0] > 0 else None
        warm = r.summary.get("warm_median_ns")
        if b_warm and warm:
            r.warm_ratio = warm / b_warm
            cmp = compare_values(_ok_values(base, "warm_median_ns"),
                                 _ok_values(r, "warm_median_ns"))
            r.warm_verdict, r.warm_note = cmp.verdict, cmp.note
            r.warm_ratio_ci = list(cmp.ratio_ci) if cmp.ratio_ci else None
            r.warm_slower = cmp.verdict == "slower"


def _ttfr_values(r: StrategyResult) -> list[float]:
    """Every successful process's time to first result (interpreter + imports + setup +
    first call)."""
    return [float((p.get("import_ns") or 0) + (p.get("setup_ns") or 0) + p["first_call_ns"])
            for p in r.processes if p.get("status") == "ok" and p.get("first_call_ns")]


def _compare_variants(results: list[StrategyResult]) -> None:
    """Each variant (``aot+gc-freeze``) against its strategy without it, from every process:
    time to first result, first call and the garbage collection inside it
    (``StrategyResult.vs_plain``)."""
    from jitwarm.results.stats import compare_values

    by = {r.strategy: r for r in results if r.status == "ok"}
    for r in results:
        base_name, variant = split_name(r.strategy)
        if r.status != "ok" or variant is None:
            continue
        frozen = [p["gc_frozen"] for p in r.processes
                  if p.get("status") == "ok" and isinstance(p.get("gc_frozen"), int)]
        out: dict[str, Any] = {"strategy": base_name, "variant": variant,
                               "gc_frozen": _median(frozen)}
        base = by.get(base_name)
        if base is not None:
            for key, a, b in (("ttfr", _ttfr_values(base), _ttfr_values(r)),
                              ("first_call", _ok_values(base, "first_call_ns"),
                               _ok_values(r, "first_call_ns"))):
                cmp = compare_values(a, b)
                out[f"{key}_ns"] = [None if cmp.median_a is None else int(cmp.median_a),
                                    None if cmp.median_b is None else int(cmp.median_b)]
                out[f"{key}_verdict"] = cmp.verdict
                out[f"{key}_ratio_ci"] = list(cmp.ratio_ci) if cmp.ratio_ci else None
            out["first_call_gc_ns"] = [base.summary.get("first_call_gc_ns"),
                                       r.summary.get("first_call_gc_ns")]
        r.vs_plain = out


def _variant_sentences(r: StrategyResult) -> list[str]:
    """What a variant changed against its strategy without it, plainly."""
    from jitwarm._units import fmt_ns

    v = r.vs_plain
    if not v:
        return []
    base, variant = v["strategy"], v["variant"]
    frozen = v.get("gc_frozen")
    what = (f"gc.freeze() after setup moved {frozen:,} objects out of the collector's reach"
            if variant == "gc-freeze" and frozen is not None else f"the {variant} variant")
    if "ttfr_ns" not in v:
        return [f"{what}; `{base}` without it was not measured, so nothing compares it "
                f"(add `{base}` to --strategies)"]
    (ta, tb), (fa, fb) = v["ttfr_ns"], v["first_call_ns"]
    ga, gb = v.get("first_call_gc_ns") or [None, None]
    gc_part = (f"; garbage collection in the first call {fmt_ns(ga or 0)} → {fmt_ns(gb or 0)}"
               if ga is not None or gb is not None else "")
    line = (f"{what}: against `{base}` without it, time to first result {fmt_ns(ta)} → "
            f"{fmt_ns(tb)} ({v['ttfr_verdict']}), first call {fmt_ns(fa)} → {fmt_ns(fb)} "
            f"({v['first_call_verdict']}){gc_part}")
    helps = "faster" in (v["ttfr_verdict"], v["first_call_verdict"])
    hurts = "slower" in (v["ttfr_verdict"], v["first_call_verdict"])
    little = (" (there was no garbage collection in the first call to remove)"
              if variant == "gc-freeze" and not ga else "")
    if hurts:
        verdict = f"{variant} makes this case slower: leave it out"
    elif not helps and "too few processes" in (v["ttfr_verdict"], v["first_call_verdict"]):
        verdict = (f"whether {variant} helps cannot be told from these processes: measure "
                   f"more (--processes, --rounds){little}")
    elif helps:
        verdict = (f"{variant} helps this case: the interval of the change clears the "
                   "practical margin")
    else:
        verdict = (f"{variant} does not help this case: no change clears the practical "
                   f"margin{little}")
    return [line, verdict]


def _ratio_cell(ratio: float | None, ci: list[float] | None, verdict: str | None,
                n: tuple[int, int]) -> str:
    """``1.50× (1.41–1.60×)``, or the ratio with why there is no interval."""
    from jitwarm._units import NO_INTERVAL, fmt_ratio, fmt_ratio_range

    if ratio is None:
        return "–"
    text = fmt_ratio(ratio)
    if ci:
        return f"{text} ({fmt_ratio_range(*ci)})"
    if min(n) == 1:
        return f"{text} ({NO_INTERVAL})"
    if verdict in ("too few processes", "no significant change"):
        return f"{text} (no interval: {n[0]} vs {n[1]} processes)"
    return text


def explain(r: StrategyResult, framework: str | None) -> list[str]:
    """Where the remaining cold start of a strategy goes, in sentences."""
    from jitwarm._units import fmt_ns
    from jitwarm.results.findings import gc_sentences

    s = r.summary
    out: list[str] = []
    first = s.get("first_call_ns")
    if first is None:
        return out
    compile_ns = s.get("compile_ns") or 0
    warm = s.get("warm_median_ns") or 0
    rest = max(0, first - compile_ns - warm)
    out.append(
        f"first call {fmt_ns(first)} = compiling {fmt_ns(compile_ns)} "
        f"({s.get('compile_events') or 0} compile event(s), cache {s.get('cache_hits')} hit / "
        f"{s.get('cache_misses')} miss) + outside compile events {fmt_ns(rest)} + one warm "
        f"call {fmt_ns(warm)}")
    own, init = s.get("function_compile_ns"), s.get("runtime_init_ns")
    if own and compile_ns and init is not None and not s.get("cache_hits"):
        # (after a cache hit the first call loaded rather than compiled: no comparison)
        out.append(f"the function's own compile, timed on a fresh uncached copy in the same "
                   f"process, is {fmt_ns(own)}: {fmt_ns(init)} of the first call is one-time "
                   "initialisation (and cache loading) that a second function would not pay")
    phases = {k: v for k, v in (s.get("compile_phases_ns") or {}).items() if v}
    if phases:
        out.append("compiling by phase: " + ", ".join(
            f"{k.replace('_', ' ')} {fmt_ns(v)}" for k, v in phases.items())
            + (" (a cache hit's backend compile is loading the cached executable)"
               if framework == "jax" and (s.get("cache_hits") or 0) else ""))
    out.extend(gc_sentences(s))
    out.extend(r.details.get("warmup") or [])
    out.append(f"before it: interpreter and imports {fmt_ns(s.get('import_ns'))}, case setup "
               f"{fmt_ns(s.get('setup_ns'))} (time to first result "
               f"{fmt_ns(s.get('time_to_first_result_ns'))})")
    try:
        note = by_name(r.strategy).setup_note()
    except KeyError:
        note = None
    if note:
        out.append(note)
    out.extend(_variant_sentences(r))
    if r.warm_slower:
        from jitwarm._units import fmt_ratio, fmt_ratio_range

        ci = f" (95% CI {fmt_ratio_range(*r.warm_ratio_ci)})" if r.warm_ratio_ci else ""
        out.append(f"warning: the warm median is {fmt_ratio(r.warm_ratio)} that of `none`{ci}: "
                   "this strategy makes the code slower")
    return out


def _misses(r: StrategyResult) -> list[str]:
    """Why a cached strategy still compiled, from the compile events' reasons."""
    if r.strategy == BASELINE:
        return []
    reasons: dict[str, int] = {}
    for p in r.processes:
        for e in p.get("compile_events") or []:
            if e.get("depth") == 0 and e.get("cache") != "hit":
                text = f"{e.get('name')}: {e.get('reason') or 'compiled (no reason given)'}"
                reasons[text] = reasons.get(text, 0) + 1
    return [f"{k} (in {v} process(es))" for k, v in reasons.items()]


def _floor_label(result: StrategiesResult, key: str) -> str:
    """A floor's name with its median: ``onnxruntime + one session 412 ms``."""
    from jitwarm._units import fmt_ns

    return f"{key} {fmt_ns(_median(result.floors.get(key) or []))}"


def strategies_table(result: StrategiesResult) -> Any:
    """A rich table: per strategy, the time to first result (against its floor and ``none``),
    then the first call, its saving and ratio, where the rest goes, the warm median."""
    from rich.markup import escape
    from rich.table import Table

    from jitwarm._units import fmt_ns
    from jitwarm.results.stats import PRACTICAL_MARGIN

    floors = "; ".join(_floor_label(result, k) for k in sorted(result.floors))
    table = Table(title=f"warmup strategies: {result.target} ({result.framework or '?'}), "
                        "fresh processes", title_justify="left",
                  caption=f"to first result = interpreter + imports + setup + first call; "
                          f"÷ floor: over fresh processes that only import what the strategy "
                          f"needs and, where the framework has one, do the least user code's "
                          f"step before any result (floors: {floors or 'not measured'}); "
                          f"ratios of medians across processes (95% interval from every "
                          f"process); warm medians are flagged only when the interval "
                          f"clears ±{PRACTICAL_MARGIN:.0%}", caption_justify="left")
    replicas = int(result.settings.get("replicas") or 1)
    fleet_cols = ("p95 to first result", "CPU to first result / wave") if replicas > 1 else ()
    for col in ("strategy", "to first result", *fleet_cols, "÷ floor", "TTFR saved",
                "first call", "saves", "vs none", "compile", "init+load", "import+setup",
                "warm median", "warm vs none"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    if replicas > 1:
        table.caption = (f"waves of {replicas} replicas started together on this machine; "
                         "to first result: median and p95 over every replica; CPU: user + "
                         "system of each replica's process tree to its first result, summed "
                         "over a wave (median wave). " + str(table.caption))
    base = result.get(BASELINE)
    n_none = base.summary.get("processes_ok", 0) if base and base.status == "ok" else 0
    for r in result.strategies:
        if r.status != "ok":
            table.add_row(r.strategy, f"[yellow]{r.status}[/yellow]: {escape(str(r.reason))}",
                          *[""] * (10 + len(fleet_cols)))
            continue
        s = r.summary
        init = s.get("runtime_init_ns")
        warm = fmt_ns(s.get("warm_median_ns"))
        n = (n_none, s.get("processes_ok", 0))
        wr = escape(_ratio_cell(r.warm_ratio, r.warm_ratio_ci, r.warm_verdict, n))
        if r.warm_slower:
            wr = f"[red]{wr} slower[/red]"
        elif r.warm_verdict == "faster":
            wr = f"[green]{wr} faster[/green]"
        fleet = r.fleet or {}
        table.add_row(
            r.strategy, fmt_ns(r.ttfr_ns),
            *((fmt_ns(fleet.get("ttfr_p95_ns")), fmt_ns(fleet.get("wave_cpu_ns")))
              if fleet_cols else ()),
            "–" if r.ttfr_over_floor is None else f"{r.ttfr_over_floor:.2f}×",
            "–" if r.ttfr_saved_ns is None else fmt_ns(r.ttfr_saved_ns),
            fmt_ns(s.get("first_call_ns")),
            "–" if r.saves_ns is None else fmt_ns(r.saves_ns),
            escape(_ratio_cell(r.speedup, r.speedup_ci, r.first_call_verdict, n)),
            fmt_ns(s.get("compile_ns")), fmt_ns(init),
            fmt_ns((s.get("import_ns") or 0) + (s.get("setup_ns") or 0)), warm, wr)
    return table
