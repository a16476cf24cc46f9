"""A real Chromium: a page of another origin (another port of 127.0.0.1: same site, other origin) and a sandboxed
iframe (Origin null) try every write route of `dnne serve` (fetch with form-encoded and JSON bodies, sendBeacon,
a form submit) and its websocket. Every attempt is refused: nothing changes on the server, no export is written.
The editor page itself, by contrast, still writes (its extension attaches the write token)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_server_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, _free_port
from test_server_security import _state_of, write_routes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ATTACK = """
const target = %(target)s;
const routes = %(routes)s;
const payload = JSON.stringify({prompt: {}, workflow: {nodes: []}, name: "pwned", run: true, "Comfy.Pwned": 1,
                                 extra_data: {dnne: {name: "pwned", run: true}}, clear: true});
const report = [];
async function attempt(label, fn) {
  try { report.push([label, String(await fn())]); } catch (e) { report.push([label, "error: " + e]); }
}
async function attack() {
  for (const [method, path] of routes) {
    const url = target + path;
    await attempt(`${method} ${path} fetch form`, async () => (await fetch(url, {method, mode: "no-cors",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "a=" + encodeURIComponent(payload)})).type);
    await attempt(`${method} ${path} fetch json no-cors`, async () => (await fetch(url, {method, mode: "no-cors",
      headers: {"Content-Type": "application/json"}, body: payload})).type);
    await attempt(`${method} ${path} fetch json cors`, async () => (await fetch(url, {method,
      headers: {"Content-Type": "application/json", "X-DNNE-Token": "guess"}, body: payload})).status);
    await attempt(`${method} ${path} beacon`, () => navigator.sendBeacon(url, payload));
    await attempt(`${method} ${path} form`, () => new Promise((resolve) => {
      const frame = document.createElement("iframe");
      frame.name = "sink" + Math.random().toString(36).slice(2);
      document.body.appendChild(frame);
      const form = document.createElement("form");
      form.method = "POST"; form.action = url; form.target = frame.name; form.enctype = "text/plain";
      const field = document.createElement("input");
      field.name = payload.slice(0, -1) + ', "x": "'; field.value = '"}';
      form.appendChild(field); document.body.appendChild(form);
      frame.onload = () => resolve("submitted"); form.submit();
      setTimeout(() => resolve("submitted (no load event)"), 3000);
    }));
  }
  await attempt("websocket", () => new Promise((resolve) => {
    const ws = new WebSocket(target.replace("http", "ws") + "/ws");
    ws.onopen = () => { resolve("OPEN"); ws.close(); };
    ws.onerror = () => resolve("refused");
    setTimeout(() => resolve("timeout"), 5000);
  }));
  return report;
}
"""

PAGE = """<!doctype html><html><body><script>%(attack)s
window.__results = {};
attack().then((r) => { window.__results.page = r; });
window.addEventListener("message", (e) => { window.__results.sandboxed = e.data; });
</script>
<iframe sandbox="allow-scripts allow-forms" srcdoc="%(srcdoc)s"></iframe>
</body></html>"""

SANDBOXED = """<!doctype html><html><body><script>%(attack)s
attack().then((r) => parent.postMessage(r, "*"));
</script></body></html>"""


def _escape_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.fixture
def servers(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("comfyui_frontend_package", reason="the editor frontend (dnne[editor]) is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from dnne.server.app import create_app

    workdir, log = tmp_path / "work", tmp_path / "server.log"
    routes = write_routes(create_app(tmp_path / "scratch"))
    port = _free_port()
    target = f"http://127.0.0.1:{port}"
    attack = ATTACK % {"target": json.dumps(target), "routes": json.dumps(routes)}
    page = PAGE % {"attack": attack, "srcdoc": _escape_attr(SANDBOXED % {"attack": attack})}

    class AttackPage(BaseHTTPRequestHandler):
        def do_GET(self):
            data = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    evil = ThreadingHTTPServer(("127.0.0.1", 0), AttackPage)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "dnne.server", "--port", str(port), "--workdir", str(workdir), "--verbose"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(target + "/api/users", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dnne serve did not start:\n{log.read_text()}")
                time.sleep(0.3)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser, target, f"http://127.0.0.1:{evil.server_address[1]}/", workdir, log, routes
            browser.close()
    finally:
        evil.shutdown()
        server.terminate()
        server.wait(timeout=30)


def test_other_origins_cannot_write_or_listen(servers):
    browser, target, evil_url, workdir, log, routes = servers
    before = _state_of(workdir)
    page = browser.new_page()
    page.goto(evil_url)
    page.wait_for_function("() => window.__results.page && window.__results.sandboxed", timeout=240_000)
    results = page.evaluate("() => window.__results")
    page.close()
    time.sleep(1)  # beacons are sent after the page's own work; give the last ones time to arrive
    after = _state_of(workdir)
    jobs = json.loads(urllib.request.urlopen(target + "/api/jobs").read())

    for where in ("page", "sandboxed"):
        outcome = dict(results[where])
        assert len(outcome) == 5 * len(routes) + 1, outcome
        assert outcome["websocket"] == "refused", (where, outcome["websocket"])
    assert after == before, "a cross-origin request changed the work directory"
    assert not any((workdir / "exports").iterdir()) and not any((workdir / "runs").iterdir())
    assert jobs["pagination"]["total"] == 0
    lines = [line.split() for line in log.read_text().splitlines() if line.count(" ") == 2]
    writes = [(m, p, s) for m, p, s in lines if m not in ("GET", "HEAD", "OPTIONS")]
    ws = [s for m, p, s in lines if m == "GET" and p.startswith("/ws")]
    print(f"{len(writes)} cross-origin writes reached the server, all refused; websocket attempts: {ws}")
    assert len(writes) >= 2 * len(routes)  # forms, beacons and no-cors fetches do arrive …
    assert {s for _, _, s in writes} == {"403"}, [w for w in writes if w[2] != "403"]  # … and are refused
    assert ws == ["403", "403"]

    # the editor page itself still writes: its extension fetched the token and attaches it
    editor = browser.new_page()
    editor.goto(target + "/")
    editor.wait_for_function("() => window.app && app.graph && app.extensionManager?.setting", timeout=120_000)
    editor.evaluate("async () => { await app.extensionManager.setting.set('Comfy.FromEditor', 7); }")
    settings = json.loads((workdir / "comfy.settings.json").read_text())
    assert settings.get("Comfy.FromEditor") == 7
    editor.close()
