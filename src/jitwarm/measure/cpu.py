"""CPU time a measured process (and every process it started) has used so far.

A replica's cost to a fleet is not only its wall time to first result but the CPU it
burns getting there: N replicas compiling at once on one host share its cores. torch's
Inductor compiles in a pool of worker processes and runs the C++ compiler as a child,
so the process's own ``os.times()`` misses most of it. :func:`tree_cpu` adds the
processes below this one that are still running (or not yet reaped) from ``/proc``
(Linux); elsewhere it falls back to this process and the children it has waited for.
"""

from __future__ import annotations

import os
from typing import Any

#: how the figure was taken (the record's ``cpu_scope``)
TREE = "process tree"
OWN = "process and waited-for children"


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """``(ppid, utime + stime + cutime + cstime in clock ticks)`` of ``pid``, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return int(fields[1]), sum(int(fields[i]) for i in (11, 12, 13, 14))
    except (IndexError, ValueError):
        return None


def tree_cpu() -> dict[str, Any]:
    """``{"cpu_ns": user + system CPU so far, "cpu_scope": TREE or OWN}`` of this process,
    the children it has reaped, and (Linux) every live or unreaped descendant with the
    children each of them has reaped. Never raises."""
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return {"cpu_ns": int(own * 1e9), "cpu_scope": OWN}
    stats = {p: s for p in pids if p != me and (s := _proc_stat(p)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    ticks, todo = 0, list(children.get(me, []))
    while todo:
        pid = todo.pop()
        ticks += stats[pid][1]
        todo.extend(children.get(pid, []))
    return {"cpu_ns": int(own * 1e9) + ticks * 1_000_000_000 // tick, "cpu_scope": TREE}
