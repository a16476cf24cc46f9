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


# ---- every write and websocket must come from the editor page itself (Origin + write token) ----

SAMPLE_PARAMS = {"setting_id": "Comfy.Evil", "file": "workflows%2Fevil.json", "dest": "workflows%2Fevil2.json",
                 "job_id": "deadbeef"}  # fmt: skip


def write_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the app that is not a read, path parameters filled in."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("formatter") or info.get("path")
        if route.method in ("GET", "HEAD", "OPTIONS", "*") or template is None:
            continue
        found.append((route.method, template.format(**SAMPLE_PARAMS)))
    return sorted(set(found))


def _state_of(workdir: Path) -> dict:
    """What a write could change: every file under the work directory and its content."""
    return {str(p.relative_to(workdir)): p.read_bytes() for p in sorted(workdir.rglob("*")) if p.is_file()}


def test_every_write_route_needs_own_origin_and_token(workdir, client_for):
    from dnne.server.app import TOKEN_HEADER

    async def go():
        async with client_for(workdir, as_editor=False) as client:
            app, port = client.server.app, client.port
            from dnne.server.state import STATE_KEY

            token = app[STATE_KEY].token
            own = f"http://127.0.0.1:{port}"
            attempts = {
                "no origin, no token": {},
                "no origin, token": {TOKEN_HEADER: token},  # a missing Origin is no exemption
                "null origin, token": {"Origin": "null", TOKEN_HEADER: token},
                "other port (same site)": {"Origin": f"http://127.0.0.1:{port + 1}", TOKEN_HEADER: token},
                "other site": {"Origin": "http://evil.example", TOKEN_HEADER: token},
                "own origin, no token": {"Origin": own},
                "own origin, wrong token": {"Origin": own, TOKEN_HEADER: "x" * len(token)},
            }
            routes = write_routes(app)
            before = _state_of(workdir)
            refused = {}
            for method, path in routes:
                for label, headers in attempts.items():
                    response = await client.request(method, path, data=b'{"run": true}', headers=headers)
                    body = await response.json()
                    refused[(method, path, label)] = (response.status, body["error"]["extra_info"]["dnne_code"])
            after = _state_of(workdir)
            jobs = await (await client.get("/api/jobs")).json()
            allowed = await client.post(
                "/api/settings/Comfy.Ok", data=b"1", headers={"Origin": own, TOKEN_HEADER: token}
            )
            return routes, refused, before, after, jobs, allowed.status

    routes, refused, before, after, jobs, allowed = run(go())
    assert len(routes) >= 12, routes  # every write route of the editor server, found from its route table
    assert {"/api/prompt", "/dnne/export", "/api/interrupt", "/api/settings"} <= {p for _, p in routes}
    wrong = {k: v for k, v in refused.items() if v[0] != 403 or v[1] not in ("E_ORIGIN_REFUSED", "E_TOKEN_REQUIRED")}
    assert not wrong, wrong
    assert refused[("POST", "/api/prompt", "own origin, no token")] == (403, "E_TOKEN_REQUIRED")
    assert refused[("POST", "/api/prompt", "null origin, token")] == (403, "E_ORIGIN_REFUSED")
    assert after == before and jobs["pagination"]["total"] == 0
    assert allowed == 200  # the same request with the editor's Origin and token goes through


def test_websocket_needs_own_origin(workdir, client_for):
    import aiohttp

    async def go():
        async with client_for(workdir, as_editor=False) as client:
            own = f"http://127.0.0.1:{client.port}"
            statuses = {}
            for label, headers in {
                "missing": {},
                "null": {"Origin": "null"},
                "other port": {"Origin": f"http://127.0.0.1:{client.port + 1}"},
                "other site": {"Origin": "http://evil.example"},
            }.items():
                try:
                    ws = await client.ws_connect("/ws", headers=headers)
                    statuses[label] = 101
                    await ws.close()
                except aiohttp.WSServerHandshakeError as exc:
                    statuses[label] = exc.status
            ws = await client.ws_connect("/ws", headers={"Origin": own})
            first = await ws.receive_json()
            await ws.close()
            return statuses, first["type"]

    statuses, first = run(go())
    assert statuses == {"missing": 403, "null": 403, "other port": 403, "other site": 403}
    assert first == "status"


def test_session_token_only_for_the_editor_page(workdir, client_for):
    async def go():
        async with client_for(workdir, as_editor=False) as client:
            own = f"http://127.0.0.1:{client.port}"
            plain = await client.get("/api/dnne/session", headers={"Sec-Fetch-Site": "same-origin"})
            cross = await client.get("/api/dnne/session", headers={"Sec-Fetch-Site": "same-site"})
            other = await client.get("/dnne/session", headers={"Origin": f"http://127.0.0.1:{client.port + 1}"})
            own_ok = await client.get("/dnne/session", headers={"Origin": own})
            body = await plain.json()
            return plain, cross.status, other.status, own_ok.status, body, client.server.app

    from dnne.server.state import STATE_KEY

    plain, cross, other, own_ok, body, app = run(go())
    assert (plain.status, cross, other, own_ok) == (200, 403, 403, 200)
    assert body["token"] == app[STATE_KEY].token and body["header"] == "X-DNNE-Token"
    assert len(body["token"]) >= 32 and plain.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in plain.headers
    fresh = create_app_token(workdir)
    assert fresh != body["token"]  # a new secret per server start


def create_app_token(workdir: Path) -> str:
    from dnne.server.app import create_app
    from dnne.server.state import STATE_KEY

    return create_app(workdir)[STATE_KEY].token
