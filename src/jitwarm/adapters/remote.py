"""Remote compile-cache servers (Redis): URL checks and a short ping.

torch's Inductor reads and writes its FX-graph, AOTAutograd and autotuning caches in a
Redis server when told to, and on a connection error it silently carries on without it
(the lookups then count as misses). jitwarm therefore checks a server itself: the
``remote-cache`` strategy before any process runs (and each replica after its call),
``jitwarm cache status`` for the servers the environment names. Framework-free: the
adapters say which variables point their framework at a server
(:meth:`jitwarm.adapters.base.Adapter.remote_cache_env` / ``remote_caches``); this module
only speaks to the server, through the ``redis`` client (``pip install 'jitwarm[fleet]'``),
the one torch itself uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from jitwarm._errors import UsageError, shown

#: URL schemes of a Redis server (``rediss``: over TLS)
SCHEMES = ("redis", "rediss")
#: seconds a check waits for the server: a server that takes longer is reported, not waited on
PING_TIMEOUT_S = 2.0
_FORM = "redis://[user:password@]HOST[:PORT][/DB]"


@dataclass
class RemoteCache:
    """A remote compile cache the environment turns on, and the server it points at."""

    framework: str
    #: which caches, each with the variable that turns it on (``"FX graph (VAR=1)"``)
    caches: list[str]
    #: the server's URL as the framework will use it (may hold a password: see :func:`masked`)
    url: str
    #: the variables the URL comes from, or the framework's default
    source: str
    #: after :func:`check`: None when it answered, else why not
    problem: str | None = None
    checked: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["url"] = masked(self.url)
        d["answers"] = (self.problem is None) if self.checked else None
        return d


def masked(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and records)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return shown(url)
    if parts.password is None:
        return shown(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if _port(parts) else "")
    return shown(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def _port(parts: Any) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def check_url(text: str, option: str = "--remote-cache") -> str:
    """``text`` when it is a Redis URL jitwarm can hand to a framework, else
    :class:`UsageError` (one line, the URL shown with its password masked)."""
    what = f"{option} {masked(text)!r}"
    if not text or len(text) > 2048 or any(c.isspace() or ord(c) < 0x20 for c in text):
        raise UsageError(f"{what} is not a Redis URL: expected {_FORM}")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UsageError(f"{what} is not a Redis URL ({shown(exc)}): expected {_FORM}") from None
    if parts.scheme not in SCHEMES:
        raise UsageError(f"{what}: the scheme must be redis:// (or rediss:// for TLS), "
                         f"not {shown(parts.scheme or 'none')!r}: expected {_FORM}")
    if not parts.hostname:
        raise UsageError(f"{what} names no host: expected {_FORM}")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"{what}: the port must be a number from 1 to 65535") from None
    if port == 0 or (parts.netloc.endswith(":") and port is None):
        raise UsageError(f"{what}: the port must be a number from 1 to 65535")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise UsageError(f"{what}: the path must be a database number (/0, /1 ...), "
                         f"not {shown(parts.path)!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"{what}: no query or fragment is accepted: expected {_FORM}")
    return text


def _client(url: str, timeout_s: float) -> Any:
    try:
        import redis
    except ImportError:
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=timeout_s,
                                socket_timeout=timeout_s)


_NO_CLIENT = ("the redis client is not installed (pip install 'jitwarm[fleet]'); torch "
              "cannot use a Redis cache without it either")


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {shown(text, 160)}"


def ping(url: str, timeout_s: float = PING_TIMEOUT_S) -> str | None:
    """None when the server at ``url`` answers PING within ``timeout_s``, else why not
    (refused, unknown host, a timeout, authentication required ...)."""
    client = _client(url, timeout_s)
    if client is None:
        return _NO_CLIENT
    try:
        return None if client.ping() else "PING was not answered with PONG"
    except Exception as exc:  # the client's errors (connection, timeout, auth) and OSError
        return _why(exc)
    finally:
        client.close()


def probe_write(url: str, timeout_s: float = PING_TIMEOUT_S) -> str | None:
    """None when the server at ``url`` accepts a write (a short-lived key of jitwarm's,
    deleted at once), else why not (read-only replica, out of memory, no permission)."""
    import os
    import uuid

    client = _client(url, timeout_s)
    if client is None:
        return _NO_CLIENT
    key = f"jitwarm:probe:{os.getpid()}:{uuid.uuid4().hex}"
    try:
        client.set(key, b"1", px=10_000)
        client.delete(key)
        return None
    except Exception as exc:
        return _why(exc)
    finally:
        client.close()


def key_count(url: str, timeout_s: float = PING_TIMEOUT_S) -> int | None:
    """How many keys the server's database holds now (None: it cannot say)."""
    client = _client(url, timeout_s)
    if client is None:
        return None
    try:
        return int(client.dbsize())
    except Exception:
        return None
    finally:
        client.close()


def check(remote: RemoteCache, timeout_s: float = PING_TIMEOUT_S) -> RemoteCache:
    """Ping ``remote``'s server; fills ``problem`` (None: it answers) and ``checked``."""
    try:
        check_url(remote.url, remote.source)
    except UsageError as exc:
        remote.problem = str(exc)
    else:
        remote.problem = ping(remote.url, timeout_s)
    remote.checked = True
    return remote
