"""The adapter protocol: everything the measurement core needs from a framework.

One adapter per framework, one module each. An adapter module must import without its
framework installed: framework imports happen inside methods, which are only called in
the measured (worker) process once a callable of that framework exists.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jitwarm._errors import shown
from jitwarm.adapters.events import CompileEvent, Notice


@dataclass(frozen=True)
class Built:
    """What a case built: the callable and the arguments it is called with."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    #: several input sets (``jitwarm.inputs``): ``(label, args, kwargs)`` each; ``args`` and
    #: ``kwargs`` are the first's
    inputs: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...] | None = None


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass
class CacheLocation:
    """One cache directory of one framework, as resolved now."""

    framework: str
    name: str  # "numba", "inductor", "triton", "jax", "onnxruntime"
    path: Path | None  # None: no single directory (Numba in-tree) or the cache is off
    source: str  # how it was resolved ("NUMBA_CACHE_DIR", "default", ...)
    env_var: str | None = None  # the variable that redirects it
    exists: bool = False
    size_bytes: int = 0
    entries: int = 0
    entry_kind: str = "files"
    files: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: directories holding this cache's files when there is no single directory
    scanned: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["path"] = None if self.path is None else str(self.path)
        return d


def env_value(name: str) -> str | None:
    """An environment variable's value, ``None`` when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def env_flag(name: str) -> bool | None:
    """A boolean environment variable (1/true/yes/on, 0/false/no/off), else ``None``."""
    value = env_value(name)
    if value is None:
        return None
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


#: the most files :func:`scan_dir` looks at: a cache variable pointed at ``/`` or a home
#: directory must not make ``cache status`` walk the whole disk
SCAN_MAX_FILES = 500_000


def scan_dir(path: Path, pattern: str | None = None) -> tuple[int, int, int]:
    """(total bytes, files, entries matching ``pattern``) under ``path``; no symlinks
    followed. A folder next to the filesystem root (``/``, ``/usr``) is not walked (zeros:
    the caller's location check says why), and the walk stops after
    :data:`SCAN_MAX_FILES` files."""
    size = files = entries = 0
    if not path.is_dir():
        return 0, 0, 0
    try:
        if len(path.resolve().parts) < 3:
            return 0, 0, 0
    except OSError:
        return 0, 0, 0
    for dirpath, dirnames, filenames in os.walk(path):
        if files >= SCAN_MAX_FILES:
            break
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            files += 1
            size += st.st_size
            if pattern is None or re.fullmatch(pattern, name):
                entries += 1
    return size, files, entries


#: a hash as the frameworks spell file and folder names (base32/hex digests: >= 32
#: letters and digits, at least one digit)
_HASH = re.compile(r"(?=[A-Za-z]*[0-9])[A-Za-z0-9]{32,}")


def hashlike(name: str) -> bool:
    """Whether a file or folder name (before its first dot) is a digest."""
    return _HASH.fullmatch(name.split(".", 1)[0]) is not None


# -- helpers for the adapters' cache-miss explanations ------------------------------------
#: files whose presence marks a directory as created or verified by jitwarm
MARKERS = ("jitwarm-prewarm.json", "jitwarm-installed.json")


def trusted(cache_root: Path) -> bool:
    """Whether ``cache_root`` was created by ``jitwarm prewarm`` or a verified install."""
    return any((cache_root / m).is_file() for m in MARKERS)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # pragma: no cover - a bad log call in the framework
            pass


class capture_logs:  # noqa: N801 - used as a context manager
    """Collect the messages of some loggers at DEBUG, without printing them."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.handler = _Capture()
        self.saved: list[tuple[logging.Logger, int, bool]] = []

    def __enter__(self) -> list[str]:
        for n in self.names:
            lg = logging.getLogger(n)
            self.saved.append((lg, lg.level, lg.propagate))
            lg.addHandler(self.handler)
            lg.setLevel(logging.DEBUG)
            lg.propagate = False
        return self.handler.messages

    def __exit__(self, *exc: object) -> None:
        for lg, level, prop in self.saved:
            lg.removeHandler(self.handler)
            lg.setLevel(level)
            lg.propagate = prop


# -- cache-key inputs (recorded in bundles, compared by ``jitwarm cache diff``) -------------
@dataclass(frozen=True)
class KeyInput:
    """One input of a framework's cache keys that its adapter reads
    (:meth:`Adapter.key_inputs`), and what a different value costs, in words."""

    #: what the keys hold, as the start of a sentence ("Numba keys include the CPU name")
    label: str
    #: what a different value costs ("every function recompiles")
    cost: str
    #: how to avoid it, or None ("build with `NUMBA_CPU_NAME=generic`")
    fix: str | None = None
    #: how values compare: "value" (whole), "set" (a list, or a comma-separated string:
    #: the members on one side only are named) or "map" (``{name: value}``: the names whose
    #: values differ are named)
    kind: str = "value"
    #: False: shown as a note (context), not counted as a difference
    costly: bool = True


@dataclass
class KeyDifference:
    """One recorded cache-key input that differs between two records (``cache diff``)."""

    framework: str  # an adapter's name, or "python", "machine", "versions", "sources"
    input: str  # the field ("cpu_name", "xla_flags" ...)
    a: Any  # the values (of a set: the members on this side only; of a map: the
    b: Any  # entries that differ)
    message: str  # in plain words, user strings escaped and cut (:func:`shown`)
    costly: bool = True  # False: a note, not a difference

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def show_value(value: Any, limit: int = 80) -> str:
    """A recorded key input as it appears in a sentence (escaped, cut)."""
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return shown(", ".join(str(v) for v in value) or "none", limit)
    if isinstance(value, dict):
        return shown(f"{len(value)} settings", limit)
    text = str(value)
    if _HEX.fullmatch(text) and len(text) > 16:  # a digest: its start is enough
        return text[:12] + "…"
    return shown(text, limit)


_HEX = re.compile(r"[0-9a-f]+")


def _members(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v) for v in value}
    if isinstance(value, str):
        return {v for v in value.split(",") if v}
    return set() if value is None else {str(value)}


def _listed(items: list[str], limit: int = 8) -> str:
    head = ", ".join(shown(i, 60) for i in items[:limit])
    return head + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def describe_key_difference(framework: str, name: str, spec: KeyInput, a: Any, b: Any,
                            sides: tuple[str, str]) -> KeyDifference | None:
    """The sentence for one differing key input (None when the values are the same):
    ``"<label>: <side a> is <a>, <side b> <b> → <cost>; <fix>"``."""
    sa, sb = sides
    if spec.kind == "set":
        ma, mb = _members(a), _members(b)
        if ma == mb:
            return None
        parts = []
        if ma - mb:
            parts.append(f"only {sa} has {_listed(sorted(ma - mb))}")
        if mb - ma:
            parts.append(f"only {sb} has {_listed(sorted(mb - ma))}")
        what = "; ".join(parts)
        a, b = sorted(ma - mb), sorted(mb - ma)  # what differs, not the whole sets
    elif spec.kind == "map":
        da = a if isinstance(a, dict) else {}
        db = b if isinstance(b, dict) else {}
        names = sorted(k for k in set(da) | set(db) if da.get(k, _MISSING) != db.get(k, _MISSING))
        if not names:
            return None
        shown_ = [f"{shown(k, 60)} is {_map_value(da, k)} in {sa}, {_map_value(db, k)} in {sb}"
                  for k in names[:6]]
        what = "; ".join(shown_) + (f" (and {len(names) - 6} more)" if len(names) > 6 else "")
        a = {k: da[k] for k in names if k in da}  # the entries that differ, not all of them
        b = {k: db[k] for k in names if k in db}
    else:
        if a == b:
            return None
        what = f"{sa} is {show_value(a)}, {sb} {show_value(b)}"
    text = f"{spec.label}: {what} → {spec.cost}"
    if spec.fix:
        text += f"; {spec.fix}"
    return KeyDifference(framework, name, a, b, text, spec.costly)


_MISSING = object()


def _map_value(d: dict[str, Any], key: str) -> str:
    return "absent" if key not in d else show_value(d[key], 40)


class Recorder:
    """Collects compile events while active. Subclasses hook the framework's events."""

    def __init__(self) -> None:
        self.events: list[CompileEvent] = []

    def start(self) -> None:  # pragma: no cover - trivial
        """Begin listening."""

    def stop(self) -> None:  # pragma: no cover - trivial
        """Stop listening; ``events`` stays readable."""

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FunctionCompileUnverified(RuntimeError):
    """:meth:`Adapter.function_compile_ns` could not show that its fresh copy compiled
    (a framework counter saw a cache hit, or no compile event came): no figure is better
    than a cache load reported as the function's compile."""


class Adapter:
    """Base class of framework adapters; the defaults describe a plain Python callable."""

    name: str = "python"
    #: pip extra that installs the framework (``jitwarm[extra]``)
    extra: str | None = None
    #: top-level module of the framework, checked without importing it
    module: str | None = None
    #: whether results must be synchronised before reading the clock
    needs_sync: bool = False
    #: what triggers compilation, for tables ("first call with new types", ...)
    trigger: str = "none (not a JIT)"
    #: distributions whose versions matter to this framework's warmup and caches (their
    #: top-level modules missing means "install the extra"; bundles record their versions)
    packages: tuple[str, ...] = ()
    #: other top-level modules whose absence means "install this adapter's extra"
    helper_modules: tuple[str, ...] = ()
    #: how to avoid recompiles (findings), how to turn the disk cache on, and what to check
    #: when a cached run still compiled
    recompile_hint: str | None = None
    cache_hint: str | None = None
    cache_miss_hint: str | None = None

    #: False when this adapter's disk cache is another adapter's (``@cuda.jit`` kernels use
    #: Numba's cache): that adapter describes it, its versions and its bundle sub-folder
    owns_cache: bool = True

    # -- parent side: framework-free ------------------------------------------------
    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        """Environment variables that redirect this framework's disk cache into cache_dir."""
        return {}

    #: other names users give this framework's caches (``jitwarm cache status ALIAS``)
    cache_aliases: tuple[str, ...] = ()

    def cache_locations(self, sources: Path | None = None,
                        with_config: bool = False) -> list[CacheLocation]:
        """Where this framework's compile caches live right now, what is in them, what
        turns them off (``jitwarm cache status``). Read from the environment without
        importing the framework; ``with_config`` may import its config module. ``sources``:
        the tree to scan for caches kept beside the sources (Numba's ``__pycache__``)."""
        return []

    #: the cache location names this adapter's entries live in, and how each looks, for
    #: refusals (``{"numba": "a Numba cache (no *.nbi / *.nbc files)"}``)
    cache_entry_kinds: dict[str, str] = {}

    def is_cache_entry(self, kind: str, parts: tuple[str, ...]) -> bool:
        """Whether the file at ``parts`` (relative to a ``kind`` cache directory) is one the
        framework writes there: ``cache clear`` deletes those and nothing else."""
        return False

    def cache_folders(self) -> dict[str, str]:
        """``{env var: sub-folder}``: the folders :meth:`cache_env` puts under a cache root
        (its other values are settings, e.g. JAX's minimum compile time)."""
        root = Path("/jitwarm-cache-root")
        return {var: Path(value).name for var, value in self.cache_env(root).items()
                if Path(value).parent == root}

    def install_destinations(self, home: Path) -> dict[str, tuple[Path | None, str]]:
        """Where a bundle's caches go without ``--target``: ``{env var: (folder, how)}``,
        the variable's value when set, else a folder under ``home`` (to be exported)."""
        out: dict[str, tuple[Path | None, str]] = {}
        for var, sub in self.cache_folders().items():
            set_to = env_value(var)
            out[var] = ((Path(os.path.abspath(set_to)), var) if set_to
                        else (home / sub, f"~/.cache/jitwarm/{sub} (export {var})"))
        return out

    def remote_cache_env(self, url: str | None) -> dict[str, str]:
        """Environment variables that turn this framework's remote compile caches on and
        point them at the server ``url`` (already checked by
        :func:`jitwarm.adapters.remote.check_url`); with ``None``, the variables that turn
        them off (a measured baseline must not be warmed by a server the shell names).
        ``{}``: the framework has no remote cache."""
        return {}

    def remote_caches(self) -> list[Any]:
        """The remote compile caches the environment turns on now, as
        :class:`jitwarm.adapters.remote.RemoteCache` (``jitwarm cache status``), read
        without importing the framework."""
        return []

    def missing_message(self) -> str:
        """One line for a case that needs this framework where it cannot be imported."""
        return f"{self.module} is not installed: pip install 'jitwarm[{self.extra}]'"

    def installed(self) -> bool:
        """Whether the framework can be imported here (without importing it)."""
        return self.module is None or importlib.util.find_spec(self.module) is not None

    def version(self) -> str | None:
        """The framework's installed version, read from package metadata."""
        if self.module is None:
            return None
        import importlib.metadata  # tens of milliseconds: only when a version is asked for

        try:
            return importlib.metadata.version(self.module)
        except importlib.metadata.PackageNotFoundError:
            return None

    # -- worker side ------------------------------------------------------------------
    def detect(self, fn: Callable[..., Any]) -> bool:
        """Whether ``fn`` belongs to this framework. Never imports the framework."""
        return False

    def _loaded(self) -> bool:
        return self.module is not None and self.module in sys.modules

    def sync(self, result: Any) -> None:
        """Block until the computation that produced ``result`` has finished."""

    def recorder(self) -> Recorder:
        """A recorder of this framework's compile events.

        By default, the hub's notices of this framework (adapters with ``install_hooks``)
        become the events; adapters that read richer data (phases, cache hits) override it.
        """
        if self.hook_module is None:
            return Recorder()
        from jitwarm.adapters.hub import HubRecorder

        return HubRecorder(framework=self.name)  # type: ignore[return-value]

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        """Disk-cache hits and misses so far for ``fn`` (``None``: the framework can't say)."""
        return None

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        """Whether ``fn`` will read/write the framework's on-disk compile cache."""
        return False

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        """How many compiled specialisations ``fn`` holds now."""
        return None

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        """The function's own compile time in an already-initialised runtime.

        Measured by compiling a fresh copy of ``fn`` after the measured calls, through the
        framework's compile events; the first call less this figure (and a warm call) is
        reported as one-time runtime initialisation, so the copy must really compile: every
        cache the first call filled or read (on disk and in memory) is out of its reach.
        Adapters that can prove it from the framework's own cache counters record the
        proof in :attr:`function_compile_check`, and raise
        :class:`FunctionCompileUnverified` (the caller notes it and reports no split) when
        the counters show a copy was served from a cache. The user's settings and cache
        locations are restored afterwards. ``None`` when not supported.
        """
        return None

    #: the evidence behind the last :meth:`function_compile_ns`, from the framework's own
    #: counters, or ``None`` (not measured, or the adapter cannot tell): ``verified``
    #: (every copy compiled: no cache hit, a compile event each), ``copies``,
    #: ``cache_hits``, ``cache_misses`` (lookups the copies made), ``how`` (what kept the
    #: caches out of reach) and framework-specific counts. Adapters that set it report it
    #: under ``runtime["function_compile_check"]``.
    function_compile_check: dict[str, Any] | None = None

    #: the module whose presence in ``sys.modules`` lets the hub install this framework's
    #: compile hooks (``None``: this framework has no process-wide compile hook)
    hook_module: str | None = None

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        """Register this framework's own compile hooks, once per process, reporting to ``emit``.

        Called only by :func:`jitwarm.adapters.hub.install` when ``hook_module`` is imported;
        every other part of jitwarm subscribes to the hub instead of hooking the framework.
        Example: Numba's adapter registers a ``numba.core.event`` listener on
        ``"numba:compile"`` that emits a start and an end :class:`Notice` per compile.
        """

    #: a subscriber raising at this framework's *start* notice aborts the compile cleanly
    #: (``no_recompile`` raises there); otherwise the guard raises when its block ends
    hook_can_abort: bool = False

    def guard_acquire(self) -> bool:
        """``no_recompile`` entering a raising block: switch on the framework's own
        refusal to compile, if it has one (True: switched on; the hub's notices of this
        framework are then left to it)."""
        return False

    def guard_release(self) -> None:
        """Undo :meth:`guard_acquire` (reference-counted by the adapter)."""

    def guard_error(self, exc: BaseException) -> tuple[str | None, str] | None:
        """``(function, reason)`` when ``exc`` is the framework's own refusal to compile
        inside a guarded block, else None."""
        return None

    # -- bundles (jitwarm bundle create / verify / install) --------------------------------
    #: manifest fields this adapter adds, with their value when its cache is absent
    bundle_field_defaults: dict[str, Any] = {}

    def bundle_fields(self, cache: Path, source_root: Path | None,
                      prewarm: dict[str, Any] | None) -> dict[str, Any]:
        """Manifest fields that installing this framework's cache ``cache`` elsewhere needs
        (Numba: how to re-key entries for moved sources)."""
        return {}

    def bundle_field_problem(self, manifest: dict[str, Any]) -> str | None:
        """Why this adapter's manifest fields must be refused (the manifest is hostile until
        checked: every path and name in them against an allow-list), or None."""
        return None

    def bundle_file_problem(self, parts: tuple[str, ...]) -> str | None:
        """Why a bundled file (``parts``: its path below this adapter's cache folder) is not
        one this framework writes there, or None (default: any normalised path)."""
        return None

    def bundle_place(self, staged: Path, manifest: dict[str, Any], sources: Path | None,
                     dest: Path | None) -> tuple[dict[str, Path], list[str]] | None:
        """Where each staged entry of this framework's cache goes, ``({name: path}, notes)``
        (relative paths are under ``dest``); None: the whole folder goes to ``dest``."""
        return None

    def bundle_installed(self, manifest: dict[str, Any], destinations: dict[str, str],
                         settings: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """After an install: ``(warnings, exports)`` (e.g. settings the cache must be used
        with: already checked against the allow-list)."""
        return [], {}

    def explain_first_call(self, fn: Callable[..., Any], args: tuple[Any, ...],
                           kwargs: dict[str, Any], cache_root: Path | None,
                           call: Callable[[], Any]) -> tuple[Any, list[str]]:
        """Run ``call()`` (the first call, against a cache jitwarm filled) and say why the
        framework's cache missed, in its own words: ``(result, notes)``. Runs in a fresh
        process (``jitwarm cache explain``); index files are only unpickled under
        ``cache_root`` when :func:`trusted` says jitwarm made it."""
        return call(), [f"{self.name}: no cache-miss explanations available"]

    #: loggers through which the framework states its cache keys while compiling; what they
    #: log during a prewarm is kept (``key_components``) so a later miss can name what changed
    key_loggers: tuple[str, ...] = ()

    def key_components(self, messages: list[str]) -> dict[str, Any]:
        """Record fields made of the key messages logged during a prewarm's call."""
        return {}

    #: the inputs of this framework's cache keys :meth:`key_inputs` reads, by field name,
    #: with what a different value costs (``jitwarm cache diff``)
    key_input_fields: dict[str, KeyInput] = {}

    def key_inputs(self) -> dict[str, Any]:
        """The inputs of this framework's cache keys as this process sees them (CPU name
        and features, flags, config, toolkit versions ...): ``{field: value}`` over
        :attr:`key_input_fields`, each value JSON (a scalar, a list of strings or a
        ``{str: scalar}`` map). Imports the framework: it runs in a worker (the prewarm of
        a case, ``cache diff --here``), and bundles record it so that a cache that misses
        on another machine can be traced to the input that changed. Package versions and
        the Python version are recorded for every bundle already; leave them out."""
        return {}

    def key_differences(self, a: dict[str, Any], b: dict[str, Any],
                        sides: tuple[str, str]) -> list[KeyDifference]:
        """Each input of :attr:`key_input_fields` whose value differs between two
        :meth:`key_inputs` records (hostile: read from bundles, shapes already checked),
        in plain words; ``sides`` names them ("the bundle", "this host"). Framework-free.
        Override to fold inputs that differ for one reason into one sentence."""
        out = []
        for name, spec in self.key_input_fields.items():
            if name in a and name in b:
                diff = describe_key_difference(self.name, name, spec, a[name], b[name], sides)
                if diff is not None:
                    out.append(diff)
        return out

    #: what a changed source file costs this framework's cache, or None (the start of a
    #: sentence: "Numba keys include the source file's hash: its functions recompile")
    key_source_effect: str | None = None

    def key_sources(self, fields: dict[str, Any]) -> dict[str, str]:
        """``{source path relative to the sources root: sha256}`` of the files this
        framework's cache entries were compiled from, as its bundle fields
        (:meth:`bundle_fields`, already checked) know them."""
        return {}

    #: whether :meth:`aot_prepare` / :meth:`aot_load` exist (the ``aot`` strategy,
    #: ``jitwarm aot build`` and ``jitwarm.load``)
    supports_aot: bool = False
    #: whether :meth:`aot_load` needs the case's saved arguments (JAX lowers for them)
    aot_needs_inputs: bool = False
    #: other artifact kinds :meth:`aot_prepare` writes (``kind=``), each measured by the
    #: strategy of that name (torch: ``torchscript``)
    aot_kinds: tuple[str, ...] = ()

    def aot_prepare(self, built: Built, out: Path, kind: str = "aot") -> dict[str, Any]:
        """Write this framework's ahead-of-time artifact of a built case into ``out``
        (``kind``: ``"aot"``, the fastest load path, or one of :attr:`aot_kinds`).

        Runs in a fresh process; returns a JSON-able description that :meth:`aot_load` gets
        back (file names in it relative to ``out``), with ``needs``: the distributions the
        *loading* process imports (their versions are checked before loading). Where the
        function cannot be compiled ahead of time but a weaker path exists, the description
        holds ``fallback`` (one line: which construct and why) and :meth:`aot_load` gets the
        rebuilt case. Raise :class:`jitwarm.UsageError` with one line when there is nothing.
        """
        raise NotImplementedError(f"no ahead-of-time compilation for {self.name}")

    def aot_load(self, info: dict[str, Any], root: Path, args: tuple[Any, ...],
                 kwargs: dict[str, Any], built: Built | None = None) -> Any:
        """The callable that runs the artifact in ``root`` (already verified: hashes and
        compatibility). ``args``/``kwargs`` are the saved arguments when
        :attr:`aot_needs_inputs`; ``built`` is the rebuilt case for a ``fallback``."""
        raise NotImplementedError(f"no ahead-of-time compilation for {self.name}")

    # -- arrays of this framework (warmup specs, shape pinning, plan inputs) -------------
    #: the ``kind`` users name this framework's arrays by (``spec(..., kind="torch")``)
    array_kind: str | None = None

    def is_array(self, x: Any) -> bool:
        """Whether ``x`` is an array of this framework. Never imports the framework."""
        return False

    def from_numpy(self, arr: Any, device: str | None = None, like: Any = None) -> Any:
        """This framework's array holding NumPy ``arr`` (on ``device``, or where ``like`` is)."""
        raise NotImplementedError(self.name)

    def to_numpy(self, x: Any) -> Any:
        """A NumPy copy (or view) of this framework's array ``x``."""
        import numpy as np

        return np.asarray(x)

    def pad_array(self, x: Any, dim: int, to: int, value: Any) -> Any:
        """``x`` padded with ``value`` along ``dim`` to size ``to``, kept where it lives."""
        import numpy as np

        host = self.to_numpy(x)
        widths = [(0, 0)] * host.ndim
        widths[dim] = (0, to - x.shape[dim])
        return self.from_numpy(np.pad(host, widths, mode="constant", constant_values=value),
                               like=x)

    def slice_array(self, x: Any, dim: int, n: int) -> Any:
        """The first ``n`` elements of ``x`` along ``dim``."""
        index = [slice(None)] * len(x.shape)
        index[dim] = slice(0, n)
        return x[tuple(index)]

    def wrap(self, obj: Any, args: Any, kwargs: Any) -> Any:
        """Turn a non-callable case target of this framework into a ``Built``, or ``None``.

        Consulted by :func:`jitwarm.cases.targets.validate_built` before it rejects a case whose
        first item is not callable (e.g. an ONNX model path and its input feed).
        """
        return None

    # -- the floor of a strategy's time to first result (jitwarm.caches.strategies) -----
    def floor_spec(self, built: Built) -> dict[str, Any] | None:
        """What the least user code of this case does after importing the framework, as
        JSON for :meth:`floor_code` (the measured worker records it as ``floor_spec``);
        None when importing the framework is the floor (a JIT compiles on the first call,
        which the floor must not include)."""
        return None

    def floor_code(self, spec: Any) -> tuple[str, str] | None:
        """``(name, statements)`` of this framework's floor for a :meth:`floor_spec` read back
        from a worker record (check it: None when malformed): the statements run after
        ``import <module>`` inside the floor's timed span; ``name`` keys it in ``floors``."""
        return None

    def set_threads(self, n: int) -> None:
        """Apply a thread count inside the worker (after the case is built)."""

    def runtime_info(self) -> dict[str, Any]:
        """Framework settings worth recording (thread counts, backends ...)."""
        return {}

    def cache_notes(self) -> list[str]:
        """Caveats about this framework's cache behaviour, shown in reports."""
        return []
