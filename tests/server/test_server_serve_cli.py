"""`dnne serve` refuses what it cannot do in one line with the fix: a busy port, a non-loopback host."""

import os
import socket
import subprocess
import sys


def _serve(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "dnne", "serve", "--workdir", str(tmp_path / "wd"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_busy_port_exits_2_with_one_line_and_a_port_suggestion(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = _serve("--port", str(busy), tmp_path=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {busy} on 127.0.0.1 is already in use" in lines[0]
    assert "--port " in lines[0] and "Traceback" not in result.stderr
    suggested = int(lines[0].split("Try --port ")[1].split()[0])
    assert suggested != busy and 0 < suggested < 65536


def test_non_loopback_host_is_refused_without_allow_remote(tmp_path):
    result = _serve("--host", "0.0.0.0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr and "Traceback" not in result.stderr
