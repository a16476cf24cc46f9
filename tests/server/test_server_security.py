"""Local-only by default: loopback bind, Host check (DNS rebinding), Origin check (cross-site writes), CLI guard."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import run

ROOT = Path(__file__).resolve().parents[2]


def test_foreign_host_header_is_refused(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            evil = await client.get("/api/settings", headers={"Host": "evil.example:8188"})
            local = await client.get("/api/settings", headers={"Host": "localhost:8188"})
        async with client_for(workdir, allow_remote=True) as client:
            remote = await client.get("/api/settings", headers={"Host": "192.168.1.20:8188"})
        return evil.status, local.status, remote.status

    assert run(go()) == (403, 200, 200)


def test_cross_origin_writes_are_refused(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            host = f"127.0.0.1:{client.port}"
            evil = await client.post("/api/settings", json={"x": 1}, headers={"Origin": "http://evil.example"})
            same = await client.post("/api/settings", json={"y": 2}, headers={"Origin": f"http://{host}"})
            ws_evil = await client.get("/ws", headers={"Origin": "http://evil.example"})
            read = await client.get("/api/settings", headers={"Origin": "http://evil.example"})
            return evil.status, same.status, ws_evil.status, await read.json()

    evil, same, ws_evil, settings = run(go())
    assert (evil, same, ws_evil) == (403, 200, 403)
    assert "x" not in settings and settings["y"] == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "dnne.server", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_http(url: str, proc: subprocess.Popen, seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError("server did not answer")


def test_cli_refuses_non_loopback_without_allow_remote(tmp_path):
    proc = _serve("--host", "0.0.0.0", "--port", str(_free_port()), "--workdir", str(tmp_path / "w"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "refusing to bind '0.0.0.0'" in err and "--allow-remote" in err


def test_real_server_on_loopback_and_remote_warning(tmp_path):
    port = _free_port()
    proc = _serve("--port", str(port), "--workdir", str(tmp_path / "w"))
    try:
        assert _wait_http(f"http://127.0.0.1:{port}/api/system_stats", proc) == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    port = _free_port()
    proc = _serve("--host", "0.0.0.0", "--allow-remote", "--port", str(port), "--workdir", str(tmp_path / "w"))
    try:
        assert _wait_http(f"http://127.0.0.1:{port}/api/users", proc) == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "WARNING" in err and "can run code" in err
