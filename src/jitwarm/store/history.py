"""Run history in SQLite: every ``jitwarm profile`` run, its environment and git commit.

The database lives at ``--db PATH``, else ``$JITWARM_HOME/history.db``, else
``$XDG_DATA_HOME/jitwarm/history.db`` (default ``~/.local/share/jitwarm/history.db``).

- **Schema migrations** are versioned: ``PRAGMA user_version`` holds the number of
  migrations applied; :data:`MIGRATIONS` is the ordered list. Opening a database applies the
  missing ones in one ``BEGIN IMMEDIATE`` transaction (so two processes never migrate twice);
  a database from a newer jitwarm is refused.
- **Concurrency**: WAL journal and a busy timeout (``JITWARM_DB_TIMEOUT`` seconds, default
  30), so several jitwarm processes can store runs at once without losing any.
- **Faults** (a corrupted file, a lock held past the timeout) raise :class:`HistoryError`
  with one clear message; callers keep the run's JSON elsewhere.
- **Comparison** of two runs per metric uses the per-process values: the interval of the
  ratio B/A from the Mann-Whitney U test must lie beyond a practical margin (5 %) before a
  change is reported (:func:`jitwarm.results.stats.compare_values`), so noise alone is not
  reported as a change; ``--fail-on`` gates (:func:`parse_gates`, :func:`check_gates`) use
  that interval for wall time and the frameworks' counters for deterministic gates.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown
from jitwarm._units import fmt_ns
from jitwarm.results.profile import ProfileResult, write_atomic
from jitwarm.results.stats import (  # noqa: F401  (compare_values & co. are imported from here too)
    PRACTICAL_MARGIN,
    MetricComparison,
    compare_values,
    median,
    min_p_value,
)

DEFAULT_TIMEOUT_S = 30.0


class HistoryError(UsageError):
    """The history database cannot be used (corrupted, locked, newer schema, missing run)."""


class NoHistory(HistoryError):
    """Reading a history database that does not exist (nothing was stored yet)."""


# --------------------------------------------------------------------------- location


def default_db_path() -> Path:
    """``$JITWARM_HOME/history.db``, else the XDG data directory."""
    home = os.environ.get("JITWARM_HOME")
    if home:
        return Path(home).expanduser() / "history.db"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "jitwarm" / "history.db"


def _timeout_from_env() -> float:
    raw = os.environ.get("JITWARM_DB_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise UsageError(f"JITWARM_DB_TIMEOUT must be a number of seconds, not {raw!r}") from None


def git_info(cwd: str | Path | None = None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git work tree at ``cwd``, or None."""
    cwd = str(cwd or os.getcwd())
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git, or it hung: the run is stored without a commit
    return {
        "commit": head.stdout.strip(),
        "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
    }


# --------------------------------------------------------------------------- schema


def _m1_runs(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            stored_at TEXT NOT NULL,
            created TEXT,
            case_name TEXT,
            target TEXT,
            framework TEXT,
            status TEXT,
            jitwarm_version TEXT,
            git_commit TEXT,
            git_dirty INTEGER,
            cwd TEXT,
            environment TEXT NOT NULL,
            result TEXT NOT NULL
        )"""
    )


def _m2_host_summary(conn: sqlite3.Connection) -> None:
    """Host name and per-state summaries (for fast listing), backfilled from the JSON."""
    conn.execute("ALTER TABLE runs ADD COLUMN host TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN summary TEXT")
    conn.execute("CREATE INDEX runs_case ON runs (case_name, id)")
    rows = conn.execute("SELECT id, result FROM runs").fetchall()
    for run_id, text in rows:
        try:
            data = json.loads(text)
            summ = json.dumps(_summaries(data))
        except (ValueError, TypeError, AttributeError):
            summ = None
        conn.execute("UPDATE runs SET summary = ? WHERE id = ?", (summ, run_id))


#: ordered migrations; ``PRAGMA user_version`` = how many have been applied
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1_runs, _m2_host_summary]
SCHEMA_VERSION = len(MIGRATIONS)


def _summaries(data: dict[str, Any]) -> dict[str, Any]:
    return {name: st.get("summary", {}) for name, st in (data.get("states") or {}).items()}


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> int:
    """Apply the missing migrations (up to ``upto``) atomically; returns the version."""
    target = SCHEMA_VERSION if upto is None else upto
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"history database schema v{version} is newer than this jitwarm reads "
            f"(v{SCHEMA_VERSION}): upgrade jitwarm or use another --db"
        )
    if version >= target:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process won?
        for i in range(version, target):
            MIGRATIONS[i](conn)
        conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return max(version, target)


# --------------------------------------------------------------------------- records


@dataclass
class StoredRun:
    """One row of the history: its id, provenance and the full result."""

    id: int
    stored_at: str
    case_name: str | None
    target: str | None
    framework: str | None
    status: str | None
    git_commit: str | None
    git_dirty: bool | None
    cwd: str | None
    host: str | None
    summary: dict[str, Any]
    data: dict[str, Any] | None = None

    def result(self) -> ProfileResult:
        if self.data is None:
            raise HistoryError(f"run {self.id} was listed without its result")
        return ProfileResult.from_dict(self.data)

    def git_label(self) -> str:
        if not self.git_commit:
            return "–"
        return self.git_commit[:10] + ("+dirty" if self.git_dirty else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "stored_at": self.stored_at, "case": self.case_name,
            "target": self.target, "framework": self.framework, "status": self.status,
            "git_commit": self.git_commit, "git_dirty": self.git_dirty, "cwd": self.cwd,
            "host": self.host, "summary": self.summary,
        }


_COLUMNS = ("id, stored_at, case_name, target, framework, status, git_commit, git_dirty, "
            "cwd, host, summary")


def _row(row: Sequence[Any], data: str | None = None) -> StoredRun:
    try:
        summary = json.loads(row[10]) if row[10] else {}
    except (ValueError, RecursionError):
        summary = {}
    if not isinstance(summary, dict) or not all(isinstance(v, dict) for v in summary.values()):
        summary = {}
    parsed = None
    if data is not None:
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            raise HistoryError(f"run {row[0]}'s stored result is not a readable JSON object")
    return StoredRun(
        id=row[0], stored_at=row[1], case_name=row[2], target=row[3], framework=row[4],
        status=row[5], git_commit=row[6], git_dirty=None if row[7] is None else bool(row[7]),
        cwd=row[8], host=row[9], summary=summary, data=parsed,
    )


class History:
    """A connection to the history database; use as a context manager."""

    def __init__(self, path: str | Path | None = None, timeout: float | None = None, *,
                 create: bool = True) -> None:
        self.path = Path(path).expanduser() if path else default_db_path()
        self.timeout = _timeout_from_env() if timeout is None else timeout
        self.conn: sqlite3.Connection | None = None
        self.read_only = False
        if self.path.is_dir():
            raise HistoryError(f"the history database {shown(self.path)} is a folder; give a "
                               "file name")
        if not create and not self.path.exists():
            raise NoHistory(f"no history at {shown(self.path)} yet: `jitwarm profile` stores "
                            "its runs there (or pass --db PATH)")
        if path is None:  # the default location is ours to create
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(f"cannot create the history directory "
                                   f"{shown(self.path.parent)}: {exc.strerror or exc}") from None
        elif not self.path.parent.is_dir():  # --db: never create folders silently
            raise HistoryError(f"--db: the folder {shown(self.path.parent)} does not exist "
                               "(create it first)")
        folder_writable = os.access(self.path.parent, os.W_OK | os.X_OK)
        if not create and not (folder_writable and os.access(self.path, os.W_OK)):
            # reading a history in a read-only place: SQLite cannot create its WAL files
            self.read_only = True
            self._open_read_only()
            return
        if not folder_writable:
            raise HistoryError(f"cannot store runs in {shown(self.path)}: its folder is "
                               "read-only (use --db PATH, or --no-history)")
        with self._errors("open"):
            self.conn = sqlite3.connect(
                str(self.path), timeout=self.timeout, isolation_level=None
            )
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._wal()
            # WAL + NORMAL: a crash cannot corrupt the file; commits skip one fsync each
            self.conn.execute("PRAGMA synchronous = NORMAL")
            migrate(self.conn)

    def _open_read_only(self) -> None:
        """Open for reading only (``mode=ro``); a WAL database whose ``-shm`` file cannot
        be created there is read as ``immutable`` (what is in its main file: runs still in
        an un-checkpointed ``-wal`` of a live writer are not seen)."""
        from urllib.parse import quote

        uri = "file:" + quote(str(self.path.resolve()))
        with self._errors("open"):
            for flags in ("?mode=ro", "?mode=ro&immutable=1"):
                if self.conn is not None:
                    self.conn.close()
                self.conn = sqlite3.connect(uri + flags, uri=True, timeout=self.timeout,
                                            isolation_level=None)
                try:
                    version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                    break
                except sqlite3.OperationalError:
                    if "immutable" in flags:
                        raise
        if version > SCHEMA_VERSION:
            migrate(self.conn)  # raises: newer than this jitwarm reads
        if version < SCHEMA_VERSION:
            raise HistoryError(f"the history database {shown(self.path)} is read-only and from "
                               "an older jitwarm: open it once where it can be written to "
                               "upgrade it")

    def _wal(self) -> None:
        assert self.conn is not None
        deadline = time.monotonic() + self.timeout
        while True:  # switching a new file to WAL can report BUSY without the busy handler
            try:
                self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _errors(self, action: str):
        return _ErrorMap(self, action)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writing

    def add(self, result: ProfileResult | dict[str, Any], *, git: dict[str, Any] | None = None,
            cwd: str | None = None) -> int:
        """Store one run (full JSON, environment, git commit); returns its integer id."""
        data = result.to_dict() if isinstance(result, ProfileResult) else result
        text = json.dumps(data, default=_json_default)
        env = json.dumps(data.get("environment") or {})
        case = data.get("case") or {}
        git = git or {}
        assert self.conn is not None
        with self._errors("store the run in"):
            cur = self.conn.execute(
                "INSERT INTO runs (stored_at, created, case_name, target, framework, status, "
                "jitwarm_version, git_commit, git_dirty, cwd, environment, result, host, summary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                    data.get("created"), case.get("name"), case.get("target"),
                    data.get("framework"), data.get("status"), data.get("jitwarm_version"),
                    git.get("commit"),
                    None if git.get("dirty") is None else int(bool(git["dirty"])),
                    cwd or os.getcwd(), env, text, socket.gethostname(),
                    json.dumps(_summaries(data), default=_json_default),
                ),
            )
            return int(cur.lastrowid)

    # -- reading

    def list(self, *, case: str | None = None, limit: int | None = 20) -> list[StoredRun]:
        """The newest ``limit`` runs (optionally of one case), oldest first."""
        assert self.conn is not None
        sql = f"SELECT {_COLUMNS} FROM runs"
        args: list[Any] = []
        if case:
            sql += " WHERE case_name = ?"
            args.append(case)
        sql += " ORDER BY id DESC"
        if limit:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._errors("read"):
            rows = self.conn.execute(sql, args).fetchall()
        return [_row(r) for r in reversed(rows)]

    def count(self) -> int:
        assert self.conn is not None
        with self._errors("read"):
            return int(self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def get(self, run_id: int | str) -> StoredRun:
        """The run with this id (``latest`` or a negative number counts from the end)."""
        assert self.conn is not None
        with self._errors("read"):
            n = parse_run_ref(run_id)
            if n < 0:
                row = self.conn.execute(
                    f"SELECT {_COLUMNS}, result FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (-n - 1,),
                ).fetchone()
            else:
                row = self.conn.execute(
                    f"SELECT {_COLUMNS}, result FROM runs WHERE id = ?", (n,)
                ).fetchone()
        if row is None:
            raise HistoryError(f"no run {shown(run_id)} in {shown(self.path)}")
        return _row(row[:-1], row[-1])


#: SQLite's integer range (a run id beyond it cannot exist)
INT64_MAX = 2**63 - 1
_RUN_REF = re.compile(r"(latest)(?:~([0-9]+))?|(-?[0-9]+)")


def parse_run_ref(run_id: int | str) -> int:
    """A run id (``n >= 0``) or a position from the end (``-1`` = latest) from ``7``,
    ``-2``, ``latest`` or ``latest~N`` (N >= 0: the Nth run before the latest). Anything
    else (``latest~-2``, ``1e3``, an id beyond SQLite's 64-bit range) is a HistoryError."""
    ref = str(run_id).strip()
    m = _RUN_REF.fullmatch(ref)
    if m is not None:
        digits = m.group(2) or m.group(3) or "0"
        n = 0 if len(digits) > 20 else int(digits.lstrip("-") or 0)
        if len(digits) <= 20 and n <= INT64_MAX - (1 if m.group(1) else 0):
            return (-1 - n) if m.group(1) else int(digits)
        raise HistoryError(f"run id {shown(ref)} is out of range (SQLite ids end at "
                           f"{INT64_MAX})")
    raise HistoryError("run id must be an integer, 'latest' or 'latest~N' (N >= 0), not "
                       f"{shown(repr(str(run_id)))}")


def is_run_ref(ref: str) -> bool:
    """Whether ``ref`` looks like a run reference rather than a file name."""
    return _RUN_REF.fullmatch(ref.strip()) is not None or ref.startswith("latest")


class _ErrorMap:
    """Turn sqlite errors into one clear :class:`HistoryError`."""

    def __init__(self, hist: History, action: str) -> None:
        self.hist, self.action = hist, action

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, sqlite3.Error):
            return False
        path = shown(self.hist.path)
        msg = shown(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg):
            raise HistoryError(
                f"the history database {path} is locked by another process "
                f"(waited {self.hist.timeout:g} s); try again, or set JITWARM_DB_TIMEOUT"
            ) from None
        if isinstance(exc, sqlite3.DatabaseError) and (
            "not a database" in msg or "malformed" in msg or "corrupt" in msg
        ):
            raise HistoryError(
                f"the history database {path} is corrupted ({msg}); move it away to start a "
                "new history, or use --db PATH"
            ) from None
        if "readonly" in msg or "read-only" in msg:
            raise HistoryError(f"cannot {self.action} the history database {path}: it is "
                               "read-only (use --db PATH, or --no-history)") from None
        raise HistoryError(f"cannot {self.action} the history database {path}: {msg}") from None


# --------------------------------------------------------------------------- comparison

#: (key, label, state preference, field) — lower is better for all of them
METRICS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("cold_first_call", "cold first call", ("cold", "in-process"), "first_call_ns"),
    ("compile", "compile (cold first call)", ("cold", "in-process"), "compile_ns"),
    ("cached_first_call", "cached first call", ("cached",), "first_call_ns"),
    ("time_to_first_result", "cold import+setup+first call", ("cold",), "_ttfr"),
    ("warm_median", "warm median", ("*",), "warm_median_ns"),
    ("steady_state_call", "steady state from call", ("*",), "steady_state_call"),
]


def process_values(data: dict[str, Any], states: Sequence[str], field: str) -> list[float]:
    """Per-process values of ``field`` in the first of ``states`` present (``*``: all)."""
    all_states = data.get("states") or {}
    if states == ("*",):
        chosen = list(all_states.values())
    else:
        chosen = next(([all_states[s]] for s in states if s in all_states), [])
    out: list[float] = []
    for st in chosen:
        for p in st.get("processes", []):
            if p.get("status") != "ok":
                continue
            if field == "_ttfr":
                parts = [p.get("import_ns"), p.get("setup_ns"), p.get("first_call_ns")]
                v = None if any(x is None for x in parts) else sum(parts)
            else:
                v = p.get(field)
            if v is not None:
                out.append(float(v))
    return out


def compare_runs(a: dict[str, Any], b: dict[str, Any], *, alpha: float = 0.05,
                 min_effect: float = PRACTICAL_MARGIN) -> list[MetricComparison]:
    """Side-by-side comparison of two result dicts, one entry per metric."""
    out = []
    for key, label, states, field in METRICS:
        out.append(compare_values(
            process_values(a, states, field), process_values(b, states, field),
            alpha=alpha, min_effect=min_effect, key=key, label=label,
        ))
    return out


def environment_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Environment fields that differ between two results (a comparison caveat)."""
    ea, eb = a.get("environment") or {}, b.get("environment") or {}
    diffs = []
    for k in ("python", "implementation", "machine", "cpu_model", "cpu_count", "cpu_affinity"):
        if ea.get(k) != eb.get(k):
            diffs.append(f"{k}: {ea.get(k)} → {eb.get(k)}")
    va, vb = ea.get("versions") or {}, eb.get("versions") or {}
    for k in sorted(set(va) | set(vb)):
        if va.get(k) != vb.get(k):
            diffs.append(f"{k}: {va.get(k, '–')} → {vb.get(k, '–')}")
    return diffs


# --------------------------------------------------------------------------- gates

#: wall-time (and call-count) metrics a gate may name: the keys of :data:`METRICS` and
#: these short names
GATE_ALIASES = {"first_call": "cold_first_call", "warm": "warm_median",
                "ttfr": "time_to_first_result"}
_GATE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)(?:@([A-Za-z-]+))?\s*:?\s*([>+])\s*(.*?)\s*")
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%")
_GATE_HELP = ("write METRIC>VALUE (B's value) or METRIC+VALUE / METRIC+N% (B against A), "
              "e.g. 'compiles@cached>0', 'cache_misses+0', 'first_call:+10%', "
              "'warm_median>2ms'")


@dataclass(frozen=True)
class Gate:
    """One ``--fail-on`` expression, parsed.

    ``relative``: ``+`` (B against A) rather than ``>`` (B alone). ``limit``: a count, a
    duration in ns, or a fraction when ``percent``. ``state``: for counters, the cache
    state (None: every state measured).
    """

    text: str
    metric: str
    relative: bool
    limit: float
    percent: bool = False
    state: str | None = None

    @property
    def counter(self) -> bool:
        from jitwarm.results.stats import COUNTERS

        return self.metric in COUNTERS

    @property
    def duration(self) -> bool:
        return not self.counter and self.metric != "steady_state_call"

    def fmt(self, v: float | None) -> str:
        if v is None:
            return "–"
        return fmt_ns(v) if self.duration else f"{v:,.0f}"


def parse_gate(text: str) -> Gate:
    """Parse one ``--fail-on`` expression (see docs/reports.md); UsageError if bad."""
    from jitwarm._units import parse_duration
    from jitwarm.results.stats import COUNTERS

    raw = str(text)
    m = _GATE.fullmatch(raw)
    if m is None:
        raise UsageError(f"--fail-on {shown(repr(raw))}: {_GATE_HELP}")
    name, state, op, value = m.group(1).lower(), m.group(2), m.group(3), m.group(4)
    metric = GATE_ALIASES.get(name, name)
    walls = [k for k, *_ in METRICS]
    if metric not in COUNTERS and metric not in walls:
        raise UsageError(f"--fail-on {shown(repr(raw))}: unknown metric {shown(repr(name))}; "
                         f"counters: {', '.join(COUNTERS)}; wall time: "
                         f"{', '.join(walls)} (or first_call, warm, ttfr)")
    if state is not None:
        if metric not in COUNTERS:
            raise UsageError(f"--fail-on {shown(repr(raw))}: @STATE applies to counters; "
                             f"{metric} has its state in its name (e.g. cached_first_call)")
        if state not in ("cold", "cached", "in-process"):
            raise UsageError(f"--fail-on {shown(repr(raw))}: unknown state "
                             f"{shown(repr(state))}; choose cold, cached or in-process")
    relative = op == "+"
    if not value:
        raise UsageError(f"--fail-on {shown(repr(raw))}: no value after {op!r}; {_GATE_HELP}")
    pct = _PERCENT.fullmatch(value)
    if pct is not None:
        if not relative:
            raise UsageError(f"--fail-on {shown(repr(raw))}: a percentage compares B with A: "
                             f"write {name}+{value}")
        return Gate(raw.strip(), metric, True, float(pct.group(1)) / 100, True, state)
    from jitwarm._units import parse_big_count

    try:
        if metric in COUNTERS or metric == "steady_state_call":
            limit: float = parse_big_count(value, "value")
        else:
            limit = parse_duration(value, "value")
    except UsageError as exc:
        raise UsageError(f"--fail-on {shown(repr(raw.strip()))}: {exc}") from None
    return Gate(raw.strip(), metric, relative, float(limit), False, state)


def parse_gates(texts: Sequence[str]) -> list[Gate]:
    """Every ``--fail-on`` (each may hold several, separated by commas)."""
    gates = []
    for text in texts:
        parts = str(text).split(",")
        if not any(p.strip() for p in parts):
            raise UsageError(f"--fail-on {shown(repr(str(text)))} is empty; {_GATE_HELP}")
        gates.extend(parse_gate(p) for p in parts if p.strip())
    return gates


@dataclass
class GateCheck:
    """One gate against one cache state (counters) or one metric (wall time).

    ``status``: ``ok``; ``failed`` (exit 1); ``undecided`` (too few processes for an
    interval: it passes, with the reason, as the pytest plugin's ``--jitwarm-compare``
    does); ``not measured`` (fails: a gate that measured nothing never passes).
    """

    gate: Gate
    state: str | None
    a: float | None
    b: float | None
    decisive: float | None
    status: str
    basis: str

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "not measured")

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate.text, "metric": self.gate.metric, "state": self.state,
                "a": self.a, "b": self.b, "decisive": self.decisive, "status": self.status,
                "basis": self.basis}


def _state_counter(data: dict[str, Any], state: str, name: str) -> tuple[int | None, int]:
    """(worst process's counter, processes) of one state; None when any did not measure it
    (the pytest budgets' rule)."""
    from jitwarm.results.stats import process_counter
    from jitwarm.results.stats import worst_process as _worst

    st = (data.get("states") or {}).get(state) or {}
    ok = [p for p in st.get("processes", []) if p.get("status") == "ok"]
    return _worst([process_counter(name, p) for p in ok]), len(ok)


def _measured_states(data: dict[str, Any]) -> list[str]:
    return [name for name, st in (data.get("states") or {}).items()
            if any(p.get("status") == "ok" for p in st.get("processes", []))]


def _check_counter(g: Gate, a: dict[str, Any], b: dict[str, Any]) -> list[GateCheck]:
    states_b = _measured_states(b)
    if g.state is not None:
        states = [g.state]
    elif g.relative:
        states = [s for s in states_b if s in _measured_states(a)]
    else:
        states = states_b
    if not states:
        where = "in both runs" if g.relative else "in run B"
        return [GateCheck(g, g.state, None, None, None, "not measured",
                          f"no cache state measured {where}")]
    out = []
    for state in states:
        vb, nb = _state_counter(b, state, g.metric)
        va, na = _state_counter(a, state, g.metric) if g.relative else (None, 0)
        if vb is None or (g.relative and va is None):
            which = "B" if vb is None else "A"
            out.append(GateCheck(g, state, va, vb, None, "not measured",
                                 f"{g.metric} not recorded in run {which}'s {state} state"))
            continue
        basis = f"worst of {nb} process{'es' if nb != 1 else ''}"
        if not g.relative:
            bad = vb > g.limit
        elif g.percent:
            bad = vb > va * (1 + g.limit) if va else vb > va
            basis += f" vs worst of {na}"
        else:
            bad = vb - va > g.limit
            basis += f" vs worst of {na}"
        out.append(GateCheck(g, state, va, vb, vb if not g.relative else vb - va,
                             "failed" if bad else "ok", basis))
    return out


def _check_wall(g: Gate, a: dict[str, Any], b: dict[str, Any], *,
                confidence: float) -> GateCheck:
    from jitwarm.results.stats import median_ci, ratio_interval

    _, _, states, field = next(m for m in METRICS if m[0] == g.metric)
    vb = process_values(b, states, field)
    va = process_values(a, states, field) if g.relative else []
    mb = median(vb) if vb else None
    ma = median(va) if va else None
    if not vb or (g.relative and not va):
        which = "B" if not vb else "A"
        return GateCheck(g, None, ma, mb, None, "not measured",
                         f"{g.metric} not measured in run {which}")
    if not g.relative:  # B alone: the lower bound of its median's interval (pytest budgets)
        lo, hi = median_ci(vb, confidence) if len(vb) > 1 else (vb[0], vb[0])
        basis = ("B's value (1 process: no interval)" if len(vb) == 1 else
                 f"lower bound of the {confidence:.0%} CI of B's median of {len(vb)} "
                 f"processes: {g.fmt(lo)}–{g.fmt(hi)}")
        return GateCheck(g, None, None, mb, lo, "failed" if lo > g.limit else "ok", basis)
    iv = ratio_interval(va, vb, confidence, kind="auto" if g.percent else "shift")
    pair = f"{len(va)} vs {len(vb)} processes"
    if iv is None or not iv.reached or (g.percent and iv.kind != "ratio"):
        why = ("1 process: no interval" if iv is None else
               "A has values ≤ 0: no ratio" if iv.reached else
               f"no {confidence:.0%} interval with {pair}")
        return GateCheck(g, None, ma, mb, None, "undecided",
                         f"{why}; use more processes (--processes, --rounds) to decide")
    if g.percent:
        decisive = iv.low - 1.0
        basis = (f"lower bound of the {iv.wanted:.0%} CI of B/A ({pair}): "
                 f"{decisive:+.1%}")
    else:
        decisive = iv.low
        basis = (f"lower bound of the {iv.wanted:.0%} CI of B - A ({pair}): "
                 f"{'+' if decisive >= 0 else '-'}{fmt_ns(abs(decisive))}")
    return GateCheck(g, None, ma, mb, decisive, "failed" if decisive > g.limit else "ok",
                     basis)


def check_gates(gates: Sequence[Gate], a: dict[str, Any], b: dict[str, Any], *,
                confidence: float = 0.95) -> list[GateCheck]:
    """Every gate against runs A and B. Counters (deterministic: the frameworks' own
    bookkeeping) compare the worst process per cache state, as the pytest budgets do;
    wall time fails only when the lower bound of its interval exceeds the limit."""
    out: list[GateCheck] = []
    for g in gates:
        if g.counter:
            out.extend(_check_counter(g, a, b))
        else:
            out.append(_check_wall(g, a, b, confidence=confidence))
    return out


# --------------------------------------------------------------------------- export


def _element_calls(batch_sizes: Sequence[Sequence[int]] | None, n: int) -> list[int]:
    """Calls averaged by each of the ``n`` series elements."""
    sizes = [list(x) for x in (batch_sizes or [[0, 1]])]
    out = []
    for i, (start, size) in enumerate(sizes):
        end = sizes[i + 1][0] if i + 1 < len(sizes) else n
        out.extend([int(size)] * max(0, min(end, n) - start))
    out.extend([1] * (n - len(out)))
    return out[:n]


def export_csv(data: dict[str, Any], dest: io.TextIOBase | Any) -> int:
    """Per-call series as CSV: state, process, index, calls, ns. Returns rows written."""
    w = csv.writer(dest, lineterminator="\n")
    w.writerow(["state", "process", "index", "calls", "ns"])
    rows = 0
    for state, st in (data.get("states") or {}).items():
        for p in st.get("processes", []):
            t = p.get("timings_ns") or []
            calls = _element_calls(p.get("batch_sizes"), len(t))
            for i, (ns, c) in enumerate(zip(t, calls, strict=True)):
                w.writerow([state, p.get("index", 0), i, c, ns])
                rows += 1
    return rows


def pyperf_suite(data: dict[str, Any]) -> tuple[Any, list[str]]:
    """The warm series as a ``pyperf.BenchmarkSuite``: one benchmark per cache state, one run
    per process; values in seconds are the steady part (the series' second half when there is
    no steady state), warmups the part before it. Returns the suite and caveats."""
    try:
        import pyperf
    except ImportError:
        raise UsageError("pyperf is not installed: pip install pyperf") from None
    case = (data.get("case") or {}).get("name") or "case"
    notes: list[str] = []
    benches = []
    for state, st in (data.get("states") or {}).items():
        runs = []
        for p in st.get("processes", []):
            t = p.get("timings_ns") or []
            if p.get("status") != "ok" or len(t) < 2:
                continue
            start = p.get("steady_state_start")
            if start is None:
                start = 1 + (len(t) - 1) // 2
            start = max(1, int(start))
            calls = _element_calls(p.get("batch_sizes"), len(t))
            values = [ns / 1e9 for ns in t[start:] if ns > 0]
            dropped = sum(1 for ns in t[start:] if ns <= 0)
            if dropped:
                notes.append(f"{state} process {p.get('index', 0)}: {dropped} value(s) ≤ 0 ns "
                             "(below timer resolution) left out; pyperf needs values > 0")
            warm = [(calls[i], t[i] / 1e9) for i in range(1, start) if t[i] >= 0]
            if not values:
                continue
            meta = {"name": f"{case}/{state}", "unit": "second",
                    "description": f"jitwarm warm series, cache state {state}"}
            if len(set(calls[start:])) == 1:
                meta["loops"] = calls[start]
            runs.append(pyperf.Run(values, warmups=warm or None, metadata=meta,
                                   collect_metadata=False))
        if runs:
            benches.append(pyperf.Benchmark(runs))
    if not benches:
        raise UsageError("the run has no warm series to export (no process finished)")
    return pyperf.BenchmarkSuite(benches), notes


def export_pyperf(data: dict[str, Any], path: str | Path) -> list[str]:
    """Write the pyperf JSON file (see :func:`pyperf_suite`); returns caveats."""
    suite, notes = pyperf_suite(data)

    def dump(f: Any) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        suite.dump(text)
        text.detach()

    write_atomic(path, dump)
    return notes


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def store_result(result: ProfileResult, db: str | Path | None = None, *,
                 timeout: float | None = None, cwd: str | None = None) -> tuple[int, Path]:
    """Store a run with the cwd's git commit; returns (id, database path)."""
    git = git_info(cwd)
    with History(db, timeout=timeout) as h:
        return h.add(result, git=git, cwd=cwd), h.path
