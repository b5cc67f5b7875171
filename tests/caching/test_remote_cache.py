"""torch's Redis remote caches: the ``remote-cache`` strategy and ``cache status``, against a
real ``redis-server`` started here (Debian's package; ``.ci/run`` installs it)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from _craft import cli, write

from jitwarm.adapters.remote import check_url, masked, ping
from jitwarm.adapters.torch import remote_cache_env

TORCH_CASE = """
import jitwarm

@jitwarm.case
def mlp():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    model.requires_grad_(False)  # inference: AOTAutograd writes its cache entry
    return torch.compile(model), (torch.randn(8, 16),)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private ``redis-server`` on a free port, no persistence; stopped by the fixture."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while ping(self.url, 0.5) is not None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; "
                    ".ci/run installs it)")
    pytest.importorskip("redis", reason="the redis client is not installed: "
                                        "pip install 'jitwarm[fleet]'")
    server = RedisServer(tmp_path)
    yield server
    server.stop()


# -- parent side: no server, no torch ----------------------------------------------------

@pytest.mark.parametrize("url, why", [
    ("http://127.0.0.1:6379", "scheme must be redis://"),
    ("redis://:6379", "names no host"),
    ("redis://h:99999", "port must be a number"),
    ("redis://h:0", "port must be a number"),
    ("redis://h:", "port must be a number"),
    ("redis://h:1/abc", "database number"),
    ("redis://h:1?db=2", "no query"),
    ("redis://h\n:1", "is not a Redis URL"),
    ("", "is not a Redis URL"),
])
def test_bad_urls_are_refused_in_one_line(url, why):
    from jitwarm._errors import UsageError

    with pytest.raises(UsageError) as err:
        check_url(url)
    assert why in str(err.value) and "\n" not in str(err.value)


def test_urls_accepted_and_passwords_masked():
    for url in ("redis://127.0.0.1:6379", "redis://cache.internal", "rediss://h:6380/2",
                "redis://user:pw@[::1]:7000/0"):
        assert check_url(url) == url
    assert masked("redis://user:s3cret@h:7000/1") == "redis://user:***@h:7000/1"
    assert "s3cret" not in masked("redis://:s3cret@h")


def test_torch_remote_env_turns_caches_on_and_off():
    on = remote_cache_env("redis://h:1")
    assert on["TORCHINDUCTOR_REDIS_URL"] == "redis://h:1"
    assert on["TORCHINDUCTOR_FX_GRAPH_REMOTE_CACHE"] == "1"
    assert on["TORCHINDUCTOR_AUTOGRAD_REMOTE_CACHE"] == "1"
    off = remote_cache_env(None)
    assert set(on) - {"TORCHINDUCTOR_REDIS_URL"} <= set(off)
    assert set(off.values()) == {"0"}


def test_unreachable_server_is_refused_before_anything_runs(tmp_path):
    write(tmp_path / "model.py", TORCH_CASE)
    url = f"redis://127.0.0.1:{_free_port()}"  # nothing listens there
    proc = cli("profile", f"{tmp_path}/model.py::mlp", "--strategies", "none,remote-cache",
               "--remote-cache", url, "-n", "1")
    text = " ".join(proc.stderr.split())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "does not answer" in text and url in text and "silently" in text, text
    assert "Traceback" not in proc.stderr and "replica" not in proc.stderr


def test_remote_cache_option_needs_its_strategy_and_the_strategy_its_option(tmp_path):
    write(tmp_path / "model.py", TORCH_CASE)
    target = f"{tmp_path}/model.py::mlp"
    for args, why in ((["--strategies", "none", "--remote-cache", "redis://h:1"],
                       "applies to --strategies remote-cache"),
                      (["--remote-cache", "redis://h:1"], "applies to --strategies remote-cache"),
                      (["--strategies", "remote-cache"], "needs a server")):
        proc = cli("profile", target, *args, "-n", "1")
        assert proc.returncode == 2 and why in " ".join(proc.stderr.split()), proc.stderr


# -- cache status --------------------------------------------------------------------------

def test_cache_status_shows_configured_remote_caches_and_whether_they_answer(redis_server):
    env = {"TORCHINDUCTOR_FX_GRAPH_REMOTE_CACHE": "1", "TORCHINDUCTOR_AUTOGRAD_REMOTE_CACHE": "1",
           "TORCHINDUCTOR_AUTOTUNE_REMOTE_CACHE": "yes",
           "TORCHINDUCTOR_REDIS_HOST": "127.0.0.1",
           "TORCHINDUCTOR_REDIS_PORT": str(redis_server.port)}
    proc = cli("cache", "status", "torch", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    (remote,) = rows[0]["remote"]
    assert remote["answers"] is True and remote["url"] == redis_server.url, remote
    assert len(remote["caches"]) == 2 and "TORCHINDUCTOR_REDIS_PORT" in remote["source"]
    assert any("torch reads only 1 or 0" in n for n in remote["notes"]), remote

    proc = cli("cache", "status", "torch", env=env)
    assert proc.returncode == 0 and "remote compile caches" in proc.stdout, proc.stdout

    redis_server.stop()
    proc = cli("cache", "status", "torch", "--json", env=env)
    (remote,) = json.loads(proc.stdout)[0]["remote"]
    assert remote["answers"] is False and "Connection" in remote["problem"], remote
    proc = cli("cache", "status", "torch", env=env)
    text = " ".join(proc.stdout.split())
    assert "does not answer" in text and "silently compile without it" in text, text


def test_cache_status_without_remote_caches_lists_none(monkeypatch):
    for var in ("TORCHINDUCTOR_FX_GRAPH_REMOTE_CACHE", "TORCHINDUCTOR_AUTOGRAD_REMOTE_CACHE",
                "TORCHINDUCTOR_AUTOTUNE_REMOTE_CACHE"):
        monkeypatch.delenv(var, raising=False)
    from jitwarm.caches.locations import remote_caches

    assert remote_caches("torch") == []


# -- the strategy, with torch.compile ----------------------------------------------------------

@pytest.mark.slow
def test_replicas_hit_the_shared_remote_cache(redis_server, tmp_path, monkeypatch):
    """Replica 1 fills the Redis cache, replica 2 (an empty local cache) hits it: read from
    Inductor's counters. The baseline ignores a remote cache named in the environment."""
    pytest.importorskip("torch")
    from jitwarm.caches.strategies import run_strategies
    from jitwarm.measure.process import Settings

    # a shell that already points torch at the server must not warm the `none` baseline
    monkeypatch.setenv("TORCHINDUCTOR_FX_GRAPH_REMOTE_CACHE", "1")
    monkeypatch.setenv("TORCHINDUCTOR_REDIS_URL", redis_server.url)
    write(tmp_path / "model.py", TORCH_CASE)
    res = run_strategies(f"{tmp_path}/model.py::mlp", ["none", "remote-cache"], processes=1,
                         settings=Settings(max_calls=30, max_time_s=0.5, min_calls=10),
                         timeout_s=600, options={"remote_cache": redis_server.url})
    none, remote = res.strategies
    assert none.status == "ok" and remote.status == "ok", (none.reason, remote.reason)
    (base,) = none.processes
    assert "remote_cache" not in (base.get("runtime") or {}), base.get("runtime")
    assert base["cache"]["fxgraph_misses"] >= 1 and not base["cache"].get("remote_hits")

    fill, measured = remote.details["replicas"]
    assert fill["role"] == "fills" and measured["role"] == "measured"
    assert fill["remote"]["misses"] >= 1 and fill["remote"]["puts"] >= 1, fill
    assert fill["remote"]["hits"] == 0 and fill["remote"]["errors"] == 0, fill
    assert measured["remote"]["hits"] >= 1 and measured["remote"]["misses"] == 0, measured
    assert measured["remote_by_cache"]["FX graph"]["hit"] >= 1, measured
    (proc,) = remote.processes
    assert proc["cache"]["remote_hits"] == measured["remote"]["hits"]
    assert proc["runtime"]["remote_cache"]["answers"] is True
    assert remote.details["keys_before"] == 0 and remote.details["keys_after"] >= 1
    assert res.settings["remote_cache"] == redis_server.url
    text = " ".join(remote.explanation)
    assert "replica 1 (fills the remote cache" in text and "replica 2:" in text, text
    assert "time to first result" in text


@pytest.mark.slow
def test_a_server_that_stops_during_the_run_fails_the_strategy_loudly(redis_server, tmp_path):
    """Inductor counts lookups against a dead server as misses and carries on: the replica's
    own check after its call must turn that into a failure, not a slow 'result'."""
    pytest.importorskip("torch")
    from jitwarm.caches.strategies import run_strategies
    from jitwarm.measure.process import Settings

    def progress(strategy: str, message: str) -> None:
        if strategy == "remote-cache" and message.startswith("replica 1/"):
            redis_server.stop()  # after the check before the run, before replica 1 starts

    write(tmp_path / "model.py", TORCH_CASE)
    res = run_strategies(f"{tmp_path}/model.py::mlp", ["remote-cache"], processes=1,
                         settings=Settings(max_calls=20, max_time_s=0.3, min_calls=10),
                         timeout_s=600, options={"remote_cache": redis_server.url},
                         progress=progress)
    (remote,) = res.strategies
    assert remote.status == "failed", remote.status
    assert "stopped answering during replica 1" in remote.reason, remote.reason
    assert "silently" in remote.reason and not res.ok


def test_a_framework_without_remote_caches_is_skipped_with_the_reason(redis_server, tmp_path):
    from jitwarm.caches.strategies import run_strategies

    write(tmp_path / "plain.py", "import jitwarm\n\n@jitwarm.case\ndef add():\n"
                                 "    return (lambda x: x + 1), (1,)\n")
    res = run_strategies(f"{tmp_path}/plain.py::add", ["remote-cache"], processes=1,
                         options={"remote_cache": redis_server.url})
    (remote,) = res.strategies
    assert remote.status == "skipped" and "no remote compile cache" in remote.reason, remote
