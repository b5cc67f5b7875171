"""What each framework's cache keys are made of: recorded with every bundle, compared by
``jitwarm cache diff``.

A cache copied to another machine misses when any input of the framework's key differs,
and no framework says which. Each adapter reads the inputs it can
(:meth:`jitwarm.adapters.base.Adapter.key_inputs`: Numba's CPU name and features, JAX's
XLA flags, config, backend and topology, Inductor's config, ``torch_key`` and system
info ...) in the process that compiles: ``jitwarm prewarm`` records them per case, and
``jitwarm bundle create`` copies them into the manifest's ``key_inputs``::

    "key_inputs": {
      "frameworks": {"numba": {"cpu_name": "znver3", ...}, "jax": {...}},
      "recorded":   {"numba": "prewarm"},      # or "bundle create" (see below)
      "errors":     {"torch": "why it could not be read"},
      "notes":      ["jax: the plan's cases recorded different config ..."],
      "sources":    {"kern.py": "<sha256>"}    # the files the caches were compiled from
    }

A cache directory that was not filled by ``jitwarm prewarm`` has no such record: its
inputs are read when the bundle is made, in a fresh process with the cache's settings,
and marked ``"bundle create"``. Together with what every manifest holds already (Python,
platform, CPU model and flags, GPUs and compute capability, framework versions) this is
what :func:`compare` puts side by side, naming each difference and what it costs.

:func:`snapshot` is the same record for any artifact made in a worker (an AOT artifact's
manifest can hold it, and :func:`compare` takes two of them).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jitwarm._errors import shown
from jitwarm.adapters.base import Adapter, KeyDifference, show_value

FIELD = "key_inputs"
#: the worker module that reads key inputs in a fresh process
WORKER = "jitwarm.caches.keys_worker"

# -- bounds on a hostile record (a manifest's ``key_inputs``) -------------------------------
_MAX_FRAMEWORKS = 64
_MAX_FIELDS = 256
_MAX_STR = 16384
_MAX_ITEMS = 4096
_MAX_ITEM = 1024
_MAX_SOURCES = 20000
_MAX_PATH = 1024
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _scalar_problem(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "not a finite number"
    if isinstance(value, str):
        return None if len(value) <= limit else f"longer than {limit} characters"
    return f"a {type(value).__name__}, not a string, number or null"


def value_problem(value: Any) -> str | None:
    """Why a recorded key input's value has the wrong shape: a scalar (strings at most
    16384 characters), a list of at most 4096 strings, or a map of at most 4096 names to
    scalars (names and strings at most 1024 characters)."""
    if isinstance(value, list):
        if len(value) > _MAX_ITEMS:
            return f"a list of more than {_MAX_ITEMS} items"
        if not all(isinstance(v, str) and len(v) <= _MAX_ITEM for v in value):
            return "a list of other things than short strings"
        return None
    if isinstance(value, dict):
        if len(value) > _MAX_ITEMS:
            return f"a map of more than {_MAX_ITEMS} entries"
        for k, v in value.items():
            if not isinstance(k, str) or not k or len(k) > _MAX_ITEM:
                return "a map with malformed names"
            if _scalar_problem(v, _MAX_ITEM):
                return f"a map whose {shown(k, 60)!r} is {_scalar_problem(v, _MAX_ITEM)}"
        return None
    return _scalar_problem(value, _MAX_STR)


def source_path_problem(rel: Any) -> str | None:
    """Why a recorded source path is not a plain relative POSIX path inside the sources."""
    if not isinstance(rel, str) or not rel:
        return "not a path"
    if len(rel) > _MAX_PATH or any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel):
        return "too long or control characters"
    if rel.startswith(("/", "~")) or "\\" in rel or (len(rel) > 1 and rel[1] == ":"):
        return "absolute path"
    if any(p in ("..", ".", "") for p in rel.split("/")):
        return "not a normalised path"
    return None


def problem(record: Any, what: str = "the manifest's 'key_inputs'") -> str | None:
    """Why a ``key_inputs`` record must be refused (None: its shape is right). Its strings
    may still hold anything printable or not: they are escaped and cut when shown."""
    if record is None:
        return None
    if not isinstance(record, dict):
        return f"{what} is not an object"
    fws = record.get("frameworks")
    if fws is not None:
        if not isinstance(fws, dict) or len(fws) > _MAX_FRAMEWORKS:
            return f"{what} has a malformed 'frameworks'"
        for name, values in fws.items():
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                return f"{what} names the framework {shown(name, 80)!r}"
            if not isinstance(values, dict) or len(values) > _MAX_FIELDS:
                return f"{what}: {name} is not an object of at most {_MAX_FIELDS} fields"
            for key, value in values.items():
                if not isinstance(key, str) or not _NAME.fullmatch(key):
                    return f"{what}: {name} has the malformed field {shown(key, 80)!r}"
                why = value_problem(value)
                if why:
                    return f"{what}: {name}.{key} is {why}"
    notes = record.get("notes")
    if notes is not None and (not isinstance(notes, list) or len(notes) > _MAX_FRAMEWORKS
                              or not all(isinstance(n, str) and len(n) <= 1000 for n in notes)):
        return f"{what} has malformed 'notes'"
    for part, limit in (("recorded", 64), ("errors", 1000)):
        entries = record.get(part)
        if entries is None:
            continue
        if not isinstance(entries, dict) or len(entries) > _MAX_FRAMEWORKS or not all(
                isinstance(k, str) and _NAME.fullmatch(k) and isinstance(v, str)
                and len(v) <= limit for k, v in entries.items()):
            return f"{what} has a malformed {part!r}"
    sources = record.get("sources")
    if sources is not None:
        if not isinstance(sources, dict) or len(sources) > _MAX_SOURCES:
            return f"{what} has a malformed 'sources'"
        for rel, digest in sources.items():
            why = source_path_problem(rel)
            if why is None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
                why = "malformed sha256"
            if why:
                return f"{what} lists the source {shown(rel, 120)!r}: {why}"
    return None


# -- reading (worker side: imports the frameworks) -----------------------------------------
def _adapter(name: str) -> Adapter | None:
    from jitwarm.adapters import ADAPTERS, FALLBACK

    return next((a for a in [*ADAPTERS, FALLBACK] if a.name == name), None)


def read_in_process(names: list[str]) -> dict[str, Any]:
    """``{"frameworks": {name: inputs}, "errors": {name: why}}`` for the named adapters,
    read in this process (each adapter imports its framework). A framework that is not
    installed, or whose reading fails, is named in ``errors``; nothing raises."""
    frameworks: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in names:
        adapter = _adapter(name)
        if adapter is None or not adapter.key_input_fields:
            continue
        if not adapter.installed():
            errors[name] = f"{name} is not installed"
            continue
        try:
            values = adapter.key_inputs()
        except Exception as exc:  # a framework's internals differ: say so, never fail
            errors[name] = shown(f"{type(exc).__name__}: {exc}", 300)
            continue
        why = problem({"frameworks": {name: values}}, "the key inputs read")
        if why:
            errors[name] = shown(why, 300)
        else:
            frameworks[name] = values
    return {"frameworks": frameworks, "errors": errors}


def snapshot(names: list[str]) -> dict[str, Any]:
    """This process's record (Python, machine, framework versions, key inputs of the named
    frameworks), in the shape :func:`compare` takes: for manifests of artifacts made in a
    worker (e.g. ahead-of-time artifacts), read right where they are compiled."""
    from jitwarm.caches.machine import framework_versions, machine_info, python_info

    versions = framework_versions()
    packages = {p for n in names if (a := _adapter(n)) is not None for p in a.packages}
    inputs = read_in_process(names)
    inputs["recorded"] = {n: "snapshot" for n in inputs["frameworks"]}
    return {"python": python_info(), "machine": machine_info(),
            "frameworks": {p: versions.get(p) for p in sorted(packages)}, FIELD: inputs}


def read_in_worker(names: list[str], env: dict[str, str], *, timeout_s: float = 300.0
                   ) -> dict[str, Any]:
    """:func:`read_in_process` in a fresh process (``python -m jitwarm.caches.keys_worker``)
    whose environment is this one plus ``env``: what a process started here would read.
    Its caches point into a throw-away folder (reading writes into no one's cache; no
    recorded input depends on where the caches are). A worker that fails is named in
    ``errors`` for every framework asked for."""
    from jitwarm.adapters import cache_env
    from jitwarm.measure.spawn import run_worker, worker_env

    names = [n for n in names if (a := _adapter(n)) is not None and a.key_input_fields]
    if not names:
        return {"frameworks": {}, "errors": {}}
    try:
        work = Path(tempfile.mkdtemp(prefix="jitwarm-keys-"))
    except OSError as exc:  # a full or read-only temporary folder
        return {"frameworks": {}, "errors": {n: f"no work folder: {exc.strerror or exc}"
                                             for n in names}}
    try:
        result = work / "result.json"
        spec = work / "spec.json"
        try:
            spec.write_text(json.dumps({"frameworks": names, "result_path": str(result)}),
                            encoding="utf-8")
        except OSError as exc:
            return {"frameworks": {}, "errors": {n: f"cannot write {shown(spec)}: "
                                                 f"{exc.strerror or exc}" for n in names}}
        folders = {k: v for k, v in cache_env(work / "caches").items()
                   if v.startswith(str(work))}
        run = run_worker(WORKER, spec, result, timeout_s=timeout_s,
                         env=worker_env({**env, **folders}))
        rec = run.record or {}
        out = {"frameworks": rec.get("frameworks"), "errors": rec.get("errors") or {}}
        if rec.get("status") != "ok" or problem(out, "the key inputs read"):
            last = (run.tail.strip().splitlines() or ["no output"])[-1]
            why = ("timed out" if run.timed_out else
                   f"the process failed ({shown(run.unreadable or last, 200)})")
            return {"frameworks": {}, "errors": {n: why for n in names}}
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- recording (bundle create) --------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _case_files(prewarm: dict[str, Any] | None, source_root: Path) -> dict[str, str]:
    """``{path relative to source_root: sha256}`` of the plan's case files."""
    from jitwarm.caches.prewarm import resolve_plan_target

    out: dict[str, str] = {}
    plan = (prewarm or {}).get("plan") or {}
    plan_path = plan.get("path") if isinstance(plan, dict) else None
    if not isinstance(plan_path, str):
        return out
    for case in (prewarm or {}).get("cases") or []:
        target = case.get("target") if isinstance(case, dict) else None
        if not isinstance(target, str):
            continue
        file = resolve_plan_target(target, Path(plan_path).parent).split("::", 1)[0]
        if not file.endswith(".py"):
            continue
        try:
            path = Path(file).resolve()
            rel = path.relative_to(source_root).as_posix()
            if path.is_file() and source_path_problem(rel) is None:
                out[rel] = _sha256_file(path)
        except (OSError, ValueError):
            continue
    return out


def from_prewarm(prewarm: dict[str, Any] | None) -> dict[str, Any]:
    """The key inputs ``jitwarm prewarm`` recorded per case, one set per framework (the
    first case that has one; the cases of a prewarm share its environment)."""
    frameworks: dict[str, Any] = {}
    errors: dict[str, str] = {}
    varies: dict[str, set[str]] = {}
    for case in (prewarm or {}).get("cases") or []:
        rec = case.get(FIELD) if isinstance(case, dict) else None
        if problem(rec, "a prewarm record") is not None or not rec:
            continue
        for name, values in (rec.get("frameworks") or {}).items():
            first = frameworks.setdefault(name, values)
            varies.setdefault(name, set()).update(
                k for k in set(first) | set(values) if first.get(k) != values.get(k))
        for name, why in (rec.get("errors") or {}).items():
            errors.setdefault(name, why)
    errors = {k: v for k, v in errors.items() if k not in frameworks}
    # a case that changes a setting in its code (jax.config.update ...) compiled under
    # another value than the others: say so rather than keep one value silently
    notes = [shown(f"{name}: the plan's cases recorded different {', '.join(sorted(keys_))} "
                   "(the first case's values are kept; the cache holds entries compiled "
                   "under each)", 1000)
             for name, keys_ in sorted(varies.items()) if keys_][:_MAX_FRAMEWORKS]
    return {"frameworks": frameworks, "recorded": {n: "prewarm" for n in frameworks},
            "errors": errors, "notes": notes}


def without_key_inputs(prewarm: dict[str, Any] | None) -> dict[str, Any] | None:
    """A prewarm record without its cases' key inputs (a bundle holds them once, in its
    ``key_inputs``: Inductor's config alone is hundreds of settings per case)."""
    if not isinstance(prewarm, dict) or not isinstance(prewarm.get("cases"), list):
        return prewarm
    cases = [{k: v for k, v in c.items() if k != FIELD} if isinstance(c, dict) else c
             for c in prewarm["cases"]]
    return {**prewarm, "cases": cases}


def bundle_record(prewarm: dict[str, Any] | None, owners: list[Adapter],
                  fields: dict[str, Any], source_root: Path | None,
                  settings: dict[str, str]) -> dict[str, Any]:
    """The manifest's ``key_inputs`` for a bundle whose caches belong to
    ``owners``: the prewarm's records, else read now in a fresh process with the cache
    ``settings`` prewarm uses, marked ``"bundle create"``; and the hashes of the source
    files the caches were compiled from."""
    record = from_prewarm(prewarm)
    missing = [a.name for a in owners
               if a.key_input_fields and a.name not in record["frameworks"]]
    if missing:  # with the settings prewarm gives its processes
        now = read_in_worker(missing, dict(settings))
        record["frameworks"].update(now["frameworks"])
        record["recorded"].update({n: "bundle create" for n in now["frameworks"]})
        record["errors"].update(now["errors"])
    names = set(record["frameworks"]) | {a.name for a in owners}
    record["frameworks"] = {k: v for k, v in record["frameworks"].items() if k in names}
    record["recorded"] = {k: v for k, v in record["recorded"].items() if k in names}
    record["errors"] = {k: shown(v, 1000) for k, v in record["errors"].items() if k in names}
    record["notes"] = [n for n in record["notes"] if n.split(":", 1)[0] in names]
    sources: dict[str, str] = {}
    if source_root is not None:
        for adapter in owners:
            sources.update({k: v for k, v in adapter.key_sources(fields).items()
                            if source_path_problem(k) is None and _SHA256.fullmatch(str(v))})
        sources.update(_case_files(prewarm, source_root))
    record["sources"] = dict(sorted(sources.items())[:_MAX_SOURCES])
    return record


# -- this machine (cache diff with one bundle) ---------------------------------------------
def hash_sources(rels: list[str], sources_dir: Path) -> tuple[dict[str, str], list[str]]:
    """``({rel: sha256}, [rels not found])`` for files under ``sources_dir`` (paths already
    checked by :func:`problem`; a path that resolves outside ``sources_dir`` is not read)."""
    found: dict[str, str] = {}
    missing: list[str] = []
    base = sources_dir.resolve()
    for rel in rels:
        try:
            path = (base / rel).resolve()
            if base in path.parents and path.is_file():
                found[rel] = _sha256_file(path)
                continue
        except (OSError, ValueError):
            pass
        missing.append(rel)
    return found, missing


def here(manifest: dict[str, Any], sources_dir: Path, *, timeout_s: float = 300.0
         ) -> tuple[dict[str, Any], list[str]]:
    """This machine's record for comparing with a bundle's (checked) ``manifest``: Python,
    platform, CPU, GPUs and versions read here; each framework's key inputs read in a fresh
    process with this environment plus the bundle's settings (as its install prints them);
    the bundle's source files hashed under ``sources_dir``. Returns ``(record, notes)``."""
    from jitwarm.caches.bundle import _owners, cache_settings
    from jitwarm.caches.machine import framework_versions, machine_info, python_info

    theirs = manifest.get(FIELD) or {}
    owners = _owners()
    names = sorted(set(theirs.get("frameworks") or {}) | {
        owners[c].name for c in manifest.get("contents") or [] if c in owners})
    allowed = cache_settings()
    settings = {k: v for k, v in (manifest.get("settings") or {}).items() if k in allowed}
    inputs = read_in_worker(names, settings, timeout_s=timeout_s)
    inputs["recorded"] = {n: "this host" for n in inputs["frameworks"]}
    notes = ["this host's key inputs were read in a fresh process with this environment "
             "(and the bundle's settings): settings a program makes in its code "
             "(jax.config.update, torch._inductor.config) are not seen"]
    rels = sorted(theirs.get("sources") or {})
    if rels:
        found, missing = hash_sources(rels, sources_dir)
        inputs["sources"] = found
        if missing:
            notes.append(f"{len(missing)} of the bundle's {len(rels)} source file(s) are not "
                         f"under {shown(sources_dir)} (first: {shown(missing[0], 120)}): "
                         "run from the checkout, or pass --sources DIR")
    versions = framework_versions()
    record = {"python": python_info(), "machine": machine_info(),
              "frameworks": {fw: versions.get(fw) for fw in manifest.get("frameworks") or {}},
              FIELD: inputs}
    return record, notes


# -- comparing --------------------------------------------------------------------------------
@dataclass
class Comparison:
    """What :func:`compare` found: the differences that cost a cache hit, and notes."""

    sides: tuple[str, str]
    differences: list[KeyDifference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """Whether every recorded input that matters is the same on both sides."""
        return not any(d.costly for d in self.differences)

    def to_dict(self) -> dict[str, Any]:
        return {"sides": list(self.sides), "same": self.same,
                "differences": [d.to_dict() for d in self.differences if d.costly],
                "notes": [*(d.message for d in self.differences if not d.costly),
                          *self.notes]}


def _python(a: dict[str, Any], b: dict[str, Any], sides: tuple[str, str]
            ) -> list[KeyDifference]:
    pa, pb = a.get("python") or {}, b.get("python") or {}
    ka = (pa.get("implementation"), pa.get("major_minor"))
    kb = (pb.get("implementation"), pb.get("major_minor"))
    if not pa or not pb or ka == kb:
        return []
    va, vb = " ".join(str(x) for x in ka), " ".join(str(x) for x in kb)
    return [KeyDifference("python", "major_minor", va, vb, (
        f"caches are per Python version: {sides[0]} is {shown(va, 60)}, {sides[1]} "
        f"{shown(vb, 60)} → nothing hits (Numba's cache files carry the version; "
        "`bundle verify` refuses the bundle)"))]


def _machine(a: dict[str, Any], b: dict[str, Any], sides: tuple[str, str]
             ) -> list[KeyDifference]:
    sa, sb = sides
    ma, mb = a.get("machine") or {}, b.get("machine") or {}
    if not ma or not mb:
        return []
    out: list[KeyDifference] = []
    for key, label in (("system", "operating system"), ("machine", "architecture")):
        if ma.get(key) != mb.get(key):
            out.append(KeyDifference("machine", key, ma.get(key), mb.get(key), (
                f"native code is built for one {label}: {sa} is {show_value(ma.get(key))}, "
                f"{sb} {show_value(mb.get(key))} → nothing hits (`bundle verify` refuses "
                "the bundle)")))
    if out:
        return out
    fa, fb = set(ma.get("cpu_flags") or []), set(mb.get("cpu_flags") or [])
    for x, y, sx, sy in ((fa, fb, sa, sb), (fb, fa, sb, sa)):
        only = sorted(x - y)
        if only and x and y:
            listed = ", ".join(shown(f, 40) for f in only[:12]) + (
                f" (and {len(only) - 12} more)" if len(only) > 12 else "")
            costly = sx == sa  # code built where the features were, run where they are not
            out.append(KeyDifference("machine", "cpu_flags", sorted(fa - fb), sorted(fb - fa), (
                f"only {sx}'s CPU has {listed} → "
                + (f"native code built on {sx} could use instructions {sy}'s CPU lacks "
                   "(`bundle verify` refuses the bundle)" if costly else
                   f"{sx} can run what {sy} built; keys that include the CPU differ (see "
                   "the frameworks' lines)")), costly))
    if ma.get("cpu_model") != mb.get("cpu_model"):
        out.append(KeyDifference("machine", "cpu_model", ma.get("cpu_model"),
                                 mb.get("cpu_model"), (
            f"the CPU: {sa} is {show_value(ma.get('cpu_model'))}, {sb} "
            f"{show_value(mb.get('cpu_model'))} (what it costs is in the frameworks' "
            "lines: the CPU name and features in their keys)"), costly=False))
    ga = sorted({str(g.get("compute_capability")) for g in ma.get("gpus") or []})
    gb = sorted({str(g.get("compute_capability")) for g in mb.get("gpus") or []})
    if ga != gb and (ga or gb):
        def said(caps: list[str]) -> str:
            return ("compute capability " + ", ".join(shown(c, 20) for c in caps)
                    if caps else "no NVIDIA GPU")

        out.append(KeyDifference("machine", "compute_capability", ga, gb, (
            f"GPU kernels are compiled per compute capability: {sa} has {said(ga)}, {sb} "
            f"{said(gb)} → GPU kernels (Triton, XLA, CUDA) compile again (a bundle holding "
            "Triton kernels for none of this machine's GPUs is refused)")))
    return out


def _versions(a: dict[str, Any], b: dict[str, Any], sides: tuple[str, str]
              ) -> list[KeyDifference]:
    fa, fb = a.get("frameworks") or {}, b.get("frameworks") or {}
    out = []
    for fw in sorted(set(fa) & set(fb)) if fa and fb else []:
        va, vb = fa.get(fw), fb.get(fw)
        if va == vb:
            continue
        name = shown(fw, 60)
        if va is None or vb is None:
            lacking = sides[0] if va is None else sides[1]
            msg = f"{lacking} has no {name} → its caches cannot be used there"
        else:
            msg = (f"{name} keeps caches per version: {sides[0]} is {show_value(va)}, "
                   f"{sides[1]} {show_value(vb)} → {name} ignores the other's entries: "
                   "everything compiles again (`bundle verify` refuses the bundle)")
        out.append(KeyDifference("versions", fw, va, vb, msg))
    return out


def _sources(a: dict[str, Any], b: dict[str, Any], sides: tuple[str, str],
             names: list[str]) -> list[KeyDifference]:
    sa_, sb_ = ((a.get(FIELD) or {}).get("sources") or {}, (b.get(FIELD) or {}).get("sources")
                or {})
    effects = [e for n in names if (ad := _adapter(n)) is not None
               and (e := ad.key_source_effect)]
    cost = "; ".join(effects) or "what was compiled from it may compile again"
    out = []
    for rel in sorted(set(sa_) & set(sb_)):
        if sa_[rel] != sb_[rel]:
            out.append(KeyDifference("sources", rel, sa_[rel], sb_[rel], (
                f"the source {shown(rel, 120)} differs ({sides[0]} sha256 "
                f"{sa_[rel][:12]}…, {sides[1]} {sb_[rel][:12]}…) → {cost}")))
    return out


def _names(rec: dict[str, Any]) -> set[str]:
    from jitwarm.caches.bundle import _owners

    owners = _owners()
    return set((rec.get(FIELD) or {}).get("frameworks") or {}) | {
        owners[c].name for c in rec.get("contents") or [] if c in owners}


def compare(a: dict[str, Any], b: dict[str, Any],
            sides: tuple[str, str] = ("A", "B")) -> Comparison:
    """Every recorded input of the caches' keys that differs between ``a`` and ``b`` (bundle
    manifests, :func:`here` or :func:`snapshot` records: shapes checked by
    :func:`jitwarm.caches.bundle.check_manifest`), each with what it costs in plain words;
    ``sides`` names them in the sentences."""
    result = Comparison(sides)
    diffs = result.differences
    diffs += _python(a, b, sides)
    diffs += _machine(a, b, sides)
    diffs += _versions(a, b, sides)
    ka, kb = a.get(FIELD) or {}, b.get(FIELD) or {}
    fa, fb = ka.get("frameworks") or {}, kb.get("frameworks") or {}
    names = sorted(_names(a) | _names(b))
    for name in names:
        shown_name = shown(name, 60)
        if name in fa and name in fb:
            adapter = _adapter(name)
            if adapter is None:
                result.notes.append(f"{shown_name}: this jitwarm has no adapter for it; its "
                                    "recorded key inputs are not compared")
                continue
            diffs += adapter.key_differences(fa[name], fb[name], sides)
            unknown = sorted(k for k in set(fa[name]) | set(fb[name])
                             if k not in adapter.key_input_fields
                             and fa[name].get(k) != fb[name].get(k))
            if unknown:
                result.notes.append(
                    f"{shown_name}: recorded inputs this jitwarm cannot describe differ: "
                    + ", ".join(shown(k, 40) for k in unknown[:8]))
            continue
        for side, rec, other in ((sides[0], ka, fb), (sides[1], kb, fa)):
            if name in (rec.get("frameworks") or {}):
                continue
            why = (rec.get("errors") or {}).get(name)
            if why:
                result.notes.append(f"{side}: {shown_name}'s key inputs could not be read "
                                    f"({shown(why, 200)})")
            elif name in other:
                result.notes.append(f"{side} records no key inputs for {shown_name} (made "
                                    "by an older jitwarm?): only versions, Python and the "
                                    "machine are compared for it")
    for side, rec in ((sides[0], ka), (sides[1], kb)):
        result.notes.extend(f"{side}: {shown(n, 1000)}" for n in rec.get("notes") or [])
        late = sorted(n for n, how in (rec.get("recorded") or {}).items()
                      if how == "bundle create")
        if late:
            result.notes.append(
                f"{side}: the key inputs of {', '.join(shown(n, 40) for n in late)} were "
                "read when the bundle was made, not while its caches were compiled (the "
                "cache folder was not filled by `jitwarm prewarm`)")
    diffs += _sources(a, b, sides, names)
    return result
