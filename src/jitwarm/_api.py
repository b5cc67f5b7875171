"""The Python API: :func:`profile` in this process, :func:`profile_target` in fresh ones."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from jitwarm._version import __version__
from jitwarm.adapters import Adapter, adapter_for
from jitwarm.cases.targets import Built, resolve_target, validate_built
from jitwarm.measure.process import Settings, measure
from jitwarm.measure.runner import STATES, Runner, parse_states
from jitwarm.results.environment import environment
from jitwarm.results.profile import ProfileResult

IN_PROCESS_NOTE = (
    "measured in this process: the first call is only cold if nothing compiled this "
    "function (or initialised its framework) before; use profile_target for fresh processes"
)


def profile(
    fn: Callable[..., Any],
    *args: Any,
    kwargs: dict[str, Any] | None = None,
    max_calls: int = 2000,
    max_time_s: float = 10.0,
) -> ProfileResult:
    """Profile ``fn(*args, **kwargs)`` in this process (for notebooks and quick checks).

    The first call, its compile part (from the framework's own events), the warm series
    and its steady-state verdict are measured here; the result has a single state,
    ``"in-process"``, with the same fields as the fresh-process JSON.
    """
    built = validate_built((fn, args, kwargs or {}), getattr(fn, "__name__", "fn"))
    case = {"target": None, "name": getattr(fn, "__name__", repr(fn)), "file": None,
            "module": getattr(fn, "__module__", None)}
    settings = Settings(max_calls=max_calls, max_time_s=max_time_s)
    return measure_in_process(built, adapter_for(built.fn), settings, case)


def measure_in_process(built: Built, adapter: Adapter, settings: Settings,
                       case: dict[str, Any]) -> ProfileResult:
    """Measure ``built`` here and wrap the record as a one-state ``in-process`` result."""
    record = measure(built, adapter, settings)
    record.update(
        state="in-process",
        index=0,
        framework=adapter.name,
        framework_version=adapter.version(),
        runtime=adapter.runtime_info(),
    )
    result = ProfileResult(
        case=case,
        framework=adapter.name,
        environment=environment(),
        settings={**settings.to_dict(), "processes": 1, "states": ["in-process"]},
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        jitwarm_version=__version__,
        notes=[IN_PROCESS_NOTE],
    )
    result.add_state("in-process", [record])
    return result


def profile_target(
    target: str,
    *,
    processes: int = 5,
    states: str | tuple[str, ...] = STATES,
    max_calls: int = 2000,
    max_time_s: float = 10.0,
    timeout_s: float = 300.0,
    threads: int | None = None,
    gc_freeze: bool = False,
) -> ProfileResult:
    """Profile a case target (``file.py::case``) in fresh processes, as the CLI does.

    ``gc_freeze``: call ``gc.freeze()`` in each worker after setup (``--gc-freeze``).
    """
    if isinstance(states, str):
        states = parse_states(states)
    runner = Runner(
        resolve_target(target),
        processes=processes,
        states=tuple(states),
        settings=Settings(max_calls=max_calls, max_time_s=max_time_s, threads=threads,
                          gc_freeze=gc_freeze),
        timeout_s=timeout_s,
    )
    return runner.run()


__all__ = ["profile", "profile_target"]
