"""The measured process: ``python -m jitwarm.measure.worker SPEC.json``.

It imports the case, builds it, measures, and writes one JSON record to the result path
named in the spec (never to stdout, which belongs to the user's code). The parent reads
that file; a missing file means the worker crashed or was killed.
"""

from __future__ import annotations

import time

T_MAIN = time.perf_counter_ns()  # first thing: interpreter start-up ends here

from jitwarm.measure.spawn import die_with_parent, end_worker  # noqa: E402

if __name__ == "__main__":
    die_with_parent()  # a parent killed by any means ends this process too

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402


def _write(path: str, record: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(tmp, path)


def _missing_framework(exc: ModuleNotFoundError) -> str | None:
    from jitwarm.adapters import adapter_of_module

    adapter = adapter_of_module((exc.name or "").split(".")[0])
    return adapter.missing_message() if adapter is not None else None


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Do one process's measurement as the spec says; always returns a record."""
    if spec.get("mode") == "program":
        from jitwarm.measure.program import run_program

        return run_program(spec, observe_process(), T_MAIN)
    from jitwarm._errors import CaseError, UsageError
    from jitwarm.adapters import adapter_for
    from jitwarm.cases.targets import Target, build, load_case
    from jitwarm.measure.process import Settings, _user_traceback, measure

    target = Target(**spec["target"])
    record: dict[str, Any] = {"pid": os.getpid(), "status": "ok"}
    phase = "import"
    settings = Settings(**spec["settings"])
    units = observe_process()
    try:
        case_fn = load_case(target)
        t_imported = time.perf_counter_ns()
        phase = "setup"
        if spec.get("mode") == "sweep":
            from jitwarm.measure.sweep import sweep_in_worker

            return sweep_in_worker(case_fn, target, spec, settings, t_imported)
        built = build(case_fn, target.name)
        t_built = time.perf_counter_ns()
        adapter = adapter_for(built.fn)
        if settings.threads:
            adapter.set_threads(settings.threads)
        record.update(
            framework=adapter.name,
            interpreter_ns=T_MAIN - spec["t_spawn_ns"],
            import_ns=t_imported - spec["t_spawn_ns"],
            setup_ns=t_built - t_imported,
        )
        phase = "first_call"
        record.update(measure(built, adapter, settings, units))
        record.update(observed_frameworks(adapter.name, record))
        record["runtime"] = adapter.runtime_info()
        record["framework_version"] = adapter.version()
        floor = adapter.floor_spec(built)
        if floor is not None:
            record["floor_spec"] = floor
        record["notes"] = [*record.get("notes", []), *adapter.cache_notes()]
        if built.inputs is not None and len(built.inputs) > 1:
            record["notes"].append(
                f"the case gives {len(built.inputs)} input sets; profile measured the first "
                f"({built.inputs[0][0]}); use `jitwarm sweep` for all of them"
            )
    except UsageError as exc:
        return {"status": "usage_error", "message": str(exc)}
    except CaseError as exc:
        return {
            "status": "case_error",
            "phase": exc.phase,
            "message": str(exc),
            "traceback": exc.traceback,
        }
    except ModuleNotFoundError as exc:
        msg = _missing_framework(exc)
        if msg:
            return {"status": "usage_error", "message": msg}
        return _case_error(phase, exc, _user_traceback(exc))
    except Exception as exc:
        return _case_error(phase, exc, _user_traceback(exc))
    except BaseException as exc:  # SystemExit from user code, etc.
        return _case_error(phase, exc, traceback.format_exc())
    return record


def observe_process() -> Any:
    """Observe every framework's compiles from now on, including frameworks imported later
    (the case, or a library it calls, may import them at any point)."""
    from jitwarm.adapters import hub
    from jitwarm.adapters.units import UnitRecorder

    hub.watch_imports()
    units = UnitRecorder()
    units.start()
    return units


def observed_frameworks(callable_framework: str, record: dict[str, Any]) -> dict[str, Any]:
    """``framework`` (the callable's, else the one that compiled most), the frameworks
    seen compiling, and the hooks that failed to install (each said once)."""
    from jitwarm.adapters import FALLBACK, hub

    by_fw = record.get("compile_ns_by_framework") or {}
    seen = sorted({u["framework"] for u in record.get("compiled", [])})
    out: dict[str, Any] = {"frameworks": seen}
    if callable_framework == FALLBACK.name and by_fw:
        out["framework"] = max(by_fw, key=lambda k: by_fw[k])
        out["callable_framework"] = callable_framework
    from jitwarm.adapters.units import library_cache_switches

    switches = library_cache_switches(record.get("compiled") or [])
    if switches:
        out["cache_switches"] = switches
    failures = hub.hook_failures()
    if failures:
        out["notes"] = [*record.get("notes", []), *(
            f"{fw}: its compile hooks could not be installed ({err}); its compiles are not "
            "observed" for fw, err in sorted(failures.items()))]
    return out


def _case_error(phase: str, exc: BaseException, tb: str) -> dict[str, Any]:
    where = {"import": "importing the case file", "setup": "case setup"}.get(phase, phase)
    return {
        "status": "case_error",
        "phase": phase,
        "message": f"{where} raised {type(exc).__name__}: {exc}",
        "traceback": tb,
    }


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    spec["t_spawn_ns"] = int(argv[2])
    record = run(spec)
    _write(spec["result_path"], record)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    end_worker(code)  # never wait for threads the case left running
