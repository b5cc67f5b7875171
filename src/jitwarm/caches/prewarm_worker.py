"""A fresh process that compiles one case: ``python -m jitwarm.caches.prewarm_worker SPEC T_SPAWN``.

Modes (``spec["mode"]``):

* ``prewarm``: build the case, call it with its own arguments and then with each extra
  input of the plan (:mod:`jitwarm.caches.prewarm`), recording each call's duration, the
  framework's compile events and disk-cache hits/misses;
* ``aot-prepare``: build the case and write its ahead-of-time artifact
  (:func:`jitwarm.caches.aot.prepare`) into ``options["artifact_dir"]``;
* ``mega-prepare``: the same for torch's Mega-Cache blob (:func:`jitwarm.caches.megacache.prepare`);
* ``explain``: the first call with the framework's cache-miss explanations collected
  (:mod:`jitwarm.caches.explain`).

The record goes to ``spec["result_path"]`` (stdout belongs to the user's code).
"""

from __future__ import annotations

from jitwarm.measure.spawn import die_with_parent, end_worker

if __name__ == "__main__":
    die_with_parent()  # a parent killed by any means ends this process too

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402


def _write(path: str, record: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, default=str)
    os.replace(tmp, path)


def _array_kind(a: Any) -> Any:
    from jitwarm.adapters import array_adapter

    return array_adapter(a)


def _reshape(a: Any, table: dict[str, Any]) -> Any:
    """A new array like ``a`` with the table's shape/dtype/batch (values via numpy.resize)."""
    import numpy as np

    adapter = _array_kind(a)
    if adapter is None:
        return a
    shape = list(table.get("shape") or a.shape)
    if "batch" in table and shape:
        shape[0] = int(table["batch"])
    dtype = table.get("dtype") or str(a.dtype).replace("torch.", "")
    new = np.resize(adapter.to_numpy(a), shape).astype(getattr(np, dtype, dtype))
    return adapter.from_numpy(np.ascontiguousarray(new), like=a)


def apply_input(args: tuple[Any, ...], entry: Any) -> tuple[tuple[Any, ...], str]:
    """Arguments for one plan input entry, and a label for it."""
    out = list(args)
    if isinstance(entry, list):
        for i, table in enumerate(entry[: len(out)]):
            if table:
                out[i] = _apply_table(out[i], table, i)
        return tuple(out), json.dumps(entry, sort_keys=True)
    for i, a in enumerate(out):
        out[i] = _apply_table(a, entry, i, arrays_only=True)
    for k, v in (entry.get("args") or {}).items():
        idx = int(k)
        if idx >= len(out):
            raise IndexError(f"args: the case has {len(out)} positional arguments, not {idx + 1}")
        out[idx] = v
    return tuple(out), json.dumps(entry, sort_keys=True)


def _apply_table(a: Any, table: dict[str, Any], index: int, arrays_only: bool = False) -> Any:
    if any(k in table for k in ("shape", "dtype", "batch")) and _array_kind(a) is not None:
        return _reshape(a, table)
    if not arrays_only and "args" in table:
        return table["args"].get(str(index), a)
    return a


def _call(adapter: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    from jitwarm.adapters.base import capture_logs
    from jitwarm.adapters.events import union_ns

    before = adapter.cache_stats(fn)
    loggers = adapter.key_loggers
    with capture_logs(loggers) as messages, adapter.recorder() as rec:
        t0 = time.perf_counter_ns()
        out = fn(*args, **kwargs)
        if adapter.needs_sync:
            adapter.sync(out)
        t1 = time.perf_counter_ns()
    after = adapter.cache_stats(fn)
    window = {"start_ns": t0, "end_ns": t1}
    cache = None
    if after is not None:
        b = before or {}
        cache = {k: int(v) - int(b.get(k, 0)) for k, v in after.items()}
    events = [e.to_dict() for e in sorted(rec.events, key=lambda e: e.start_ns)]
    top = [e for e in rec.events if e.depth == 0]
    record = {"duration_ns": t1 - t0, "compile_ns": union_ns(top, t0, t1) if top else 0,
              "compile_events": events, "cache": cache, "_window": window}
    if loggers:
        record.update(adapter.key_components(messages))
    return record


def _key_frameworks(adapter: Any) -> list[str]:
    """The frameworks whose cache-key inputs this prewarm records: the case's own, and every
    other one that is imported here and has files in its cache folder (a plain function of
    a library can compile with Numba inside)."""
    from pathlib import Path

    from jitwarm.adapters import ADAPTERS

    names = [adapter.name] if adapter.key_input_fields else []
    for other in ADAPTERS:
        if not other.key_input_fields or other.name in names or other.module not in sys.modules:
            continue
        for var in other.cache_folders():
            folder = os.environ.get(var)
            try:
                if folder and Path(folder).is_dir() and any(Path(folder).iterdir()):
                    names.append(other.name)
                    break
            except OSError:
                continue
    return names


def _compiled(units: Any, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The process's top-level compile units (``jitwarm.profile/1``'s ``compiled``), each
    with the index of the call it happened in (None: outside the calls, e.g. setup); times
    relative to the first call's start. Takes the calls' private windows out."""
    windows = [c.pop("_window") for c in calls]
    t0 = windows[0]["start_ns"] if windows else 0
    out = []
    for u in units.finished():
        call = next((i for i, w in enumerate(windows)
                     if w["start_ns"] <= u.start_ns <= w["end_ns"]), None)
        out.append(u.to_dict(t0, call))
    return out


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from jitwarm._errors import UsageError
    from jitwarm.adapters import adapter_for
    from jitwarm.cases.targets import Target, build, load_case

    target = Target(**spec["target"])
    record: dict[str, Any] = {"status": "ok", "pid": os.getpid()}
    phase = "import"
    # prewarm mode: every framework's compiles in the process (the other modes have theirs)
    if spec.get("mode", "prewarm") == "prewarm":
        from jitwarm.measure.worker import observe_process

        units = observe_process()
    else:
        units = None
    try:
        case_fn = load_case(target)
        t_imported = time.perf_counter_ns()
        record["import_ns"] = t_imported - spec["t_spawn_ns"]
        phase = "setup"
        built = build(case_fn, target.name)
        record["setup_ns"] = time.perf_counter_ns() - t_imported
        adapter = adapter_for(built.fn)
        record["framework"] = adapter.name
        record["framework_version"] = adapter.version()
        record["disk_cache"] = bool(adapter.supports_disk_cache(built.fn))
        if spec.get("mode") in ("aot-prepare", "mega-prepare"):
            if spec["mode"] == "aot-prepare":
                from jitwarm.caches.aot import prepare
            else:
                from jitwarm.caches.megacache import prepare
            phase = spec["mode"].split("-")[0]
            if phase == "aot":
                from jitwarm.caches.aot import describe

                record[phase] = describe(prepare(adapter.name, built,
                                                 spec["options"]["artifact_dir"],
                                                 target=target.spec,
                                                 kind=spec["options"].get("kind", "aot")))
            else:
                record[phase] = prepare(adapter.name, built, spec["options"]["artifact_dir"])
            return record
        if spec.get("mode") == "explain":
            from jitwarm.caches.explain import cache_root_from_env, explain_call

            phase = "first_call"
            fn, args, kwargs = built.fn, built.args, built.kwargs
            root = cache_root_from_env()
            holder: dict[str, Any] = {}

            def first() -> Any:
                holder.update(_call(adapter, fn, args, kwargs))
                holder.pop("_window", None)
                return None

            _, notes = explain_call(adapter.name, fn, args, kwargs, root, first)
            record["calls"] = [{"label": "case arguments", **holder}]
            record["explanations"] = notes
            return record
        phase = "call"
        calls = [{"label": "case arguments", **_call(adapter, built.fn, built.args, built.kwargs)}]
        for entry in spec.get("inputs") or []:
            args, label = apply_input(built.args, entry)
            calls.append({"label": label, **_call(adapter, built.fn, args, built.kwargs)})
        record["calls"] = calls
        names = _key_frameworks(adapter)
        if names:  # what their cache keys hold here (jitwarm cache diff)
            from jitwarm.caches.keys import FIELD, read_in_process

            record[FIELD] = read_in_process(names)
        if units is not None:
            record["compiled"] = _compiled(units, calls)
        record["specializations"] = adapter.specializations(built.fn)
        record["notes"] = adapter.cache_notes()
        if not record["disk_cache"] and adapter.name != "python":
            record["notes"].append(
                f"{target.name} saves nothing {adapter.name} compiles to disk (its compile "
                "cache is off for this function): nothing was written to the cache directory")
    except UsageError as exc:
        return {"status": "usage_error", "message": str(exc)}
    except BaseException as exc:  # the user's code: record, never crash the worker
        return {"status": "case_error", "phase": phase,
                "message": f"{phase} raised {type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()}
    return record


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    spec["t_spawn_ns"] = int(argv[2])
    _write(spec["result_path"], run(spec))
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    end_worker(code)  # never wait for threads the case left running
