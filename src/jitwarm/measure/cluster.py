"""Reaching a Ray cluster: the one place that starts or connects to Ray, for every
command with ``--executor ray`` (``jitwarm prewarm``'s cases, ``jitwarm profile``'s
processes).

* :func:`connect`: a new local Ray (``num_cpus``) without an address, else the cluster at
  ``--ray-address``; an address nothing answers at is a :class:`UsageError` at once
  (:func:`probe`: ``ray.init`` would retry it for minutes); Ray not installed is one line
  naming the ``jitwarm[fleet]`` extra. ``ray.init`` replaces the process's SIGTERM handler
  with its own (it logs and dies): the handlers are put back, so SIGTERM keeps Ctrl-C's
  path (tasks cancelled, partial results kept).
* :func:`where`: in a task, the Ray node id and host name it runs on.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from jitwarm._errors import UsageError, shown

FLEET_HINT = "pip install 'jitwarm[fleet]'"


def probe(address: str, timeout_s: float = 5.0) -> None:
    """A ``HOST:PORT`` (or ``ray://HOST:PORT``) that accepts no TCP connection is a
    :class:`UsageError` now: ``ray.init`` would retry it for minutes."""
    import re

    m = re.fullmatch(r"(?:ray://)?\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})", address.strip())
    if m is None:
        return  # "auto", or a form Ray itself will judge
    host, port = m.group(1), int(m.group(2))
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except (OSError, ValueError) as exc:
        raise UsageError(f"--ray-address {shown(address)}: nothing answers at "
                         f"{shown(host)}:{port} ({shown(getattr(exc, 'strerror', None) or exc)}); "
                         "is the Ray head started (`ray start --head`)?") from None


def python_signal_handlers() -> dict[int, Any]:
    """The handlers of the signals that end a run, as Python sees them (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    return {getattr(signal, n): signal.getsignal(getattr(signal, n))
            for n in names if hasattr(signal, n)}


def restore_signal_handlers(handlers: dict[int, Any]) -> None:
    """Install ``handlers`` again (see the module docstring)."""
    import signal

    for signum, handler in handlers.items():
        if handler is not None:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, handler)


def import_ray(option: str = "--executor ray") -> Any:
    """The ``ray`` module, or a :class:`UsageError` naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"{option} needs Ray: {FLEET_HINT}") from None
    return ray


def connect(address: str | None, num_cpus: int) -> tuple[Any, bool]:
    """``(ray, started)``: Ray initialised in this process (already, at ``address``, or a
    new local Ray with ``num_cpus`` CPUs, ``started``: the caller shuts it down)."""
    ray = import_ray()
    import logging

    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": logging.WARNING, "configure_logging": True}
    started = False
    handlers = python_signal_handlers()
    try:
        if ray.is_initialized():
            pass
        elif address:
            probe(address)
            ray.init(address=address, **kwargs)
        else:
            # "local": a new local Ray even when RAY_ADDRESS names a cluster
            ray.init(address="local", num_cpus=max(1, num_cpus), **kwargs)
            started = True
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        whom = f"the Ray cluster at {shown(address)}" if address else "a local Ray"
        raise UsageError(f"cannot start or reach {whom}: {shown(exc, 300)}") from None
    finally:
        restore_signal_handlers(handlers)
    return ray, started


def as_signal(exc: BaseException) -> BaseException:
    """The interruption to raise for ``exc`` caught around a Ray call: Ray's ``wait`` turns
    the :class:`~jitwarm.measure.spawn.Terminated` that SIGTERM raised into a plain
    ``KeyboardInterrupt``, which would be reported as Ctrl-C with exit code 130."""
    from jitwarm.measure.spawn import Terminated, terminating_signal

    if type(exc) is KeyboardInterrupt and terminating_signal() is not None:
        return Terminated(terminating_signal())  # type: ignore[arg-type]
    return exc


def where() -> tuple[str, str]:
    """In a Ray task: ``(node id, host name)`` of the node it runs on."""
    import ray

    return str(ray.get_runtime_context().get_node_id()), socket.gethostname()


def alive_nodes(ray: Any) -> set[str] | None:
    """The ids of the cluster's nodes that are alive now (None if Ray cannot say)."""
    try:
        return {str(n["NodeID"]) for n in ray.nodes() if n.get("Alive")}
    except Exception:  # a GCS hiccup: the caller treats every node as alive
        return None


def shutdown(ray: Any) -> None:
    """Shut down a Ray this process started, never raising."""
    with contextlib.suppress(Exception):
        ray.shutdown()


class Whereabouts:
    """A Ray actor of a run, pinned to the driver's node (no CPU): each task says where it
    runs as it starts, so a task that never returns (its worker or node died) is still
    reported with its node. Pinned, not preferred: with a soft preference it was seen
    placed on a worker node, and died with it."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, str]] = {}

    def started(self, key: str, node: str, host: str) -> None:
        self.seen[key] = (node, host)

    def get(self, key: str) -> tuple[str, str] | None:
        return self.seen.get(key)


def start_whereabouts(ray: Any) -> Any:
    """The run's :class:`Whereabouts` actor on this (the driver's) node, up before any task;
    None where it cannot start (tasks that never return are then on node "unknown")."""
    try:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        actor = ray.remote(num_cpus=0, max_restarts=0)(Whereabouts).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)).remote()
        ray.get(actor.get.remote(""), timeout=60)
        return actor
    except Exception:
        return None


def say_started(actor: Any, key: str, node: str, host: str) -> None:
    """From inside a task: tell the run's actor where this task runs (before its work: a
    node may die any time after)."""
    if actor is None:
        return
    import ray

    with contextlib.suppress(Exception):  # the actor is gone: reported on node "unknown"
        ray.get(actor.started.remote(key, node, host), timeout=30)


def started_where(ray: Any, actor: Any, key: str) -> tuple[str, str] | None:
    """Where the task ``key`` said it started, or None."""
    if actor is None:
        return None
    try:
        got = ray.get(actor.get.remote(key), timeout=5)
    except Exception:  # the actor is gone
        return None
    return (shown(got[0], 80), shown(got[1], 80)) if isinstance(got, (list, tuple)) \
        and len(got) == 2 else None

