"""Runs started from the editor: their own folder outside the export, one at a time, interruptible, and never
outliving the server (a real exported MNIST run on tiny generated data; slow)."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import run
from test_server_prompt import _collect_until
from test_server_run_activity import EXAMPLE, _idx_data, _tiny_mnist_workflow
from test_server_security import ROOT, _free_port

pytestmark = pytest.mark.slow


def _long_run_body(workflow: dict, name: str) -> dict:
    body = {"prompt": {}, "extra_data": {"extra_pnginfo": {"workflow": workflow}}}
    body["extra_data"]["dnne"] = {"name": name, "run": True, "run_args": {"epochs": 1000, "threads": 1}}
    return body


def _gone(pid: int) -> bool:
    """No such process (a zombie left behind counts as still there: nobody reaped it)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def long_workflow(tmp_path, catalog):
    if not EXAMPLE.is_file():
        pytest.skip("examples/mnist_mlp.json is missing")
    return _tiny_mnist_workflow(_idx_data(tmp_path / "data"))


def test_runs_are_serialized_interruptible_and_kept_outside_the_export(workdir, client_for, long_workflow):
    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws")
            await ws.receive_json()
            body = _long_run_body(long_workflow, "long")
            # two run requests at the same moment: the slot is taken before the export's await, so one is refused
            first, second = await asyncio.gather(client.post("/api/prompt", json=body),
                                                 client.post("/api/prompt", json=body))  # fmt: skip
            statuses = sorted([first.status, second.status])
            refused = [await r.json() for r in (first, second) if r.status == 409]
            started = (await _collect_until(ws, kinds_done=("dnne.run_started",), timeout=120))[-1]["data"]
            via_export = await client.post("/dnne/export", json={"workflow": long_workflow, "name": "x", "run": True})
            rewrite = await client.post("/dnne/export", json={"workflow": long_workflow, "name": "long"})
            other = await client.post("/dnne/export", json={"workflow": long_workflow, "name": "other"})
            await _collect_until(ws, kinds_done=("dnne.metrics",), timeout=120)
            assert (await client.post("/api/interrupt", json={})).status == 200
            end = await _collect_until(ws, timeout=120)
            again = await client.post("/dnne/export", json={"workflow": long_workflow, "name": "long"})  # re-export
            return (statuses, refused, started, (await via_export.json())["run"], rewrite.status, other.status,
                    end[-1]["type"], again.status)  # fmt: skip

    statuses, refused, started, via_export_ran, rewrite, other, last, again = run(go())
    assert statuses == [200, 409] and refused[0]["error"]["extra_info"]["dnne_code"] == "E_RUN_IN_PROGRESS"
    assert via_export_ran is False  # Export and run while a run is active: exported, not run
    assert rewrite == 409 and other == 200  # the export a run uses is not rewritten under it
    assert last == "execution_interrupted" and again == 200
    run_dir = Path(started["run_dir"])
    assert run_dir.parent == workdir / "runs" / "long", run_dir  # runs/<export name>/<timestamp>-<job>/
    assert (workdir / "exports") not in run_dir.parents
    assert _gone(started["pid"])
    kept = sorted(p.name for p in run_dir.iterdir())
    assert {"config.json", "metrics.jsonl", "events.jsonl"} <= set(kept), kept  # still there after re-export
    assert str(run_dir) in started["argv"] and "--run-dir" in started["argv"]


def test_app_shutdown_stops_the_run(workdir, client_for, long_workflow):
    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws")
            await ws.receive_json()
            await client.post("/api/prompt", json=_long_run_body(long_workflow, "long"))
            started = (await _collect_until(ws, kinds_done=("dnne.run_started",), timeout=120))[-1]["data"]
            assert not _gone(started["pid"])
            t0 = time.monotonic()
        return started["pid"], time.monotonic() - t0  # the client is closed: the app has shut down

    pid, seconds = run(go())
    print(f"app shutdown with a run took {seconds:.1f} s")
    assert _gone(pid)


class RealServer:
    """`python -m dnne.server` on a free port, talked to like the editor page (own Origin + write token)."""

    def __init__(self, workdir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
        argv = [sys.executable, "-m", "dnne.server", "--port", str(self.port), "--workdir", str(workdir)]
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.session = self.call("GET", "/api/dnne/session")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"dnne serve did not start: {self.proc.communicate()[0]!r}") from None
                time.sleep(0.3)

    def call(self, method: str, path: str, body=None):
        headers = {"Content-Type": "application/json"}
        if method != "GET":
            headers |= {"Origin": self.url, self.session["header"]: self.session["token"]}
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_the_server_stops_its_run(workdir, long_workflow, stop_signal):
    server = RealServer(workdir)
    try:
        answer = server.call("POST", "/api/prompt", _long_run_body(long_workflow, "long"))
        deadline = time.monotonic() + 120
        while (pid := server.call("GET", f"/api/jobs/{answer['prompt_id']}")["run_pid"]) is None:
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.3)
        assert not _gone(pid)
        time.sleep(1)  # let the child get going (imports), so the stop meets a live run
        t0 = time.monotonic()
        server.proc.send_signal(stop_signal)
        server.proc.wait(timeout=60)
        seconds = time.monotonic() - t0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
    print(f"server stop ({stop_signal.name}) with a run took {seconds:.1f} s")
    assert _gone(pid), f"run {pid} outlived the server"
