"""The real editor in headless Chromium against `dnne serve`: start-up, node library, load/save, export, errors, run.

Skips when Playwright or a system Chromium is missing (`apt-get install chromium`, `pip install playwright`; never
`playwright install`). Screenshots go to test-artifacts/; DNNE_DOCS_SCREENSHOT=1 also refreshes docs/images/editor.png.
"""

from __future__ import annotations

import json
import os
import py_compile
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("DNNE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXAMPLE = "mnist_mlp"
LISTEN = """() => {
  window.__dnne = [];
  const kinds = ['execution_start', 'executing', 'progress', 'executed', 'execution_success', 'execution_error',
                 'execution_interrupted', 'dnne.exported', 'dnne.run_started', 'dnne.metrics'];
  for (const kind of kinds) app.api.addEventListener(kind, (e) => window.__dnne.push([kind, e.detail]));
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Editor:
    def __init__(self, page, url: str, workdir: Path, log: Path):
        self.page, self.url, self.workdir, self.log = page, url, workdir, log

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"editor-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def command(self, command_id: str) -> None:
        """Run a frontend command without waiting for it (some open dialogs)."""
        self.page.evaluate(f"() => {{ app.extensionManager.command.execute({json.dumps(command_id)}); }}")

    def menu(self, *path: str) -> None:
        """Click through the editor's main menu, e.g. `menu("dnne", "Export only (no run)")`."""
        self.page.get_by_role("button", name="Menu").first.click()
        for label in path[:-1]:
            self.page.get_by_text(label, exact=True).first.hover()
        self.page.get_by_text(path[-1], exact=True).first.click()

    def messages(self) -> list:
        return self.page.evaluate("() => window.__dnne")

    def wait_message(self, kind: str, after: int = 0, timeout_ms: int = 60_000) -> list:
        self.page.wait_for_function(
            f"() => window.__dnne.slice({after}).some(m => m[0] === {json.dumps(kind)} || m[0] === 'execution_error')",
            timeout=timeout_ms,
        )
        new = self.messages()[after:]
        errors = [m for m in new if m[0] == "execution_error"]
        assert not errors, errors
        return new

    def open_workflow(self, label: str) -> None:
        panel = self.page.get_by_role("button", name="Workflows (w)")
        if not self.page.get_by_text(label, exact=True).first.is_visible():
            panel.click()
        self.page.get_by_text(label, exact=True).first.click()
        self.page.wait_for_function(
            f"() => app.extensionManager.workflow.activeWorkflow?.filename === {json.dumps(label)}"
            " && app.graph.nodes.length > 3",
            timeout=20_000,
        )

    def set_server_setting(self, key: str, value) -> None:
        """A write as the editor page makes it: its own Origin and the server's write token."""
        with urllib.request.urlopen(f"{self.url}api/dnne/session", timeout=10) as response:
            session = json.loads(response.read())
        headers = {"Origin": self.url.rstrip("/"), session["header"]: session["token"]}
        request = urllib.request.Request(
            f"{self.url}api/settings/{key}", data=json.dumps(value).encode(), method="POST", headers=headers
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


@pytest.fixture(scope="module")
def editor(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("comfyui_frontend_package", reason="the editor frontend (dnne[editor]) is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not (ROOT / "examples" / f"{EXAMPLE}.json").is_file():
        pytest.skip(f"examples/{EXAMPLE}.json is missing")
    base = tmp_path_factory.mktemp("editor")
    workdir, log = base / "work", base / "server.log"
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "dnne.server", "--port", str(port), "--workdir", str(workdir), "--verbose"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "api/users", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dnne serve did not start:\n{log.read_text()}")
                time.sleep(0.3)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url)
            page.wait_for_function(
                "() => window.app && app.graph && app.extensionManager?.command && document.querySelector('canvas')",
                timeout=120_000,
            )
            page.evaluate(LISTEN)
            yield Editor(page, url, workdir, log)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_editor_starts_with_dnne_extension(editor):
    page = editor.page
    page.wait_for_timeout(1000)
    commands = page.evaluate("() => app.extensionManager.command.commands.map(c => c.id)")
    assert {"dnne.ExportPython", "dnne.DownloadRunner", "dnne.ExportAndRun"} <= set(commands)
    assert page.evaluate("() => app.graph.nodes.length") == 0  # not the image-generation default graph
    editor.shot("01-start")


def test_node_library_lists_dnne_nodes(editor):
    page = editor.page
    page.get_by_role("button", name="Node Library (n)").click()
    search = page.get_by_placeholder("Search Nodes...")
    search.fill("MNIST")
    page.get_by_text("MNIST Dataset").first.wait_for(timeout=10_000)
    editor.shot("02-node-library")
    search.fill("")
    page.get_by_role("button", name="Node Library (n)").click()


def test_load_and_save_the_mnist_example(editor):
    editor.open_workflow(EXAMPLE)
    page = editor.page
    page.wait_for_timeout(500)
    page.evaluate("() => app.canvas.ds && app.graph && app.canvas.setDirty(true, true)")
    editor.command("Comfy.SaveWorkflowAs")
    name_box = page.locator("[role=dialog] input").first
    name_box.wait_for(timeout=10_000)
    name_box.fill("mnist copy")
    name_box.press("Enter")
    saved = editor.workdir / "workflows" / "mnist copy.json"
    page.wait_for_function("() => app.extensionManager.workflow.activeWorkflow?.filename === 'mnist copy'")
    deadline = time.monotonic() + 10
    while not saved.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    workflow = json.loads(saved.read_text())
    original = json.loads((ROOT / "examples" / f"{EXAMPLE}.json").read_text())
    assert sorted(n["type"] for n in workflow["nodes"]) == sorted(n["type"] for n in original["nodes"])
    page.get_by_role("button", name="Workflows (w)").click()  # close the panel for the screenshot
    page.evaluate("() => app.extensionManager.command.execute('Comfy.Canvas.FitView')")
    page.evaluate("() => { app.canvas.min_font_size_for_lod = 0; app.canvas.setDirty(true, true); }")  # full detail
    page.wait_for_timeout(800)
    shot = editor.shot("03-mnist")
    if os.environ.get("DNNE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "images" / "editor.png")


def test_export_to_python_from_the_editor(editor):
    before = len(editor.messages())
    editor.menu("dnne", "Export only (no run)")
    new = editor.wait_message("execution_success", after=before)
    exported = [m[1] for m in new if m[0] == "dnne.exported"]
    assert exported and exported[0]["name"] == "mnist_copy"
    runner = editor.workdir / "exports" / "mnist_copy" / "runner.py"
    py_compile.compile(str(runner), doraise=True)
    assert (runner.parent / "config.json").is_file()
    editor.page.get_by_text("dnne: exported").first.wait_for(timeout=10_000)
    editor.shot("04-exported")


def test_download_runner(editor):
    with editor.page.expect_download(timeout=60_000) as download:
        editor.menu("dnne", "Download runner")
    assert download.value.suggested_filename == "runner.py"
    source = Path(download.value.path()).read_text()
    assert source == (editor.workdir / "exports" / "mnist_copy" / "runner.py").read_text()
    compile(source, "runner.py", "exec")


def test_validation_error_is_highlighted(editor):
    page = editor.page
    broken = page.evaluate(
        """() => {
          const node = app.graph.nodes.find(n => (n.inputs || []).some(i => i.link != null && !i.widget));
          const slot = node.inputs.findIndex(i => i.link != null && !i.widget);
          node.disconnectInput(slot);
          return [String(node.id), node.inputs[slot].name];
        }"""
    )
    editor.menu("dnne", "Export only (no run)")
    page.wait_for_function("() => app.lastNodeErrors && Object.keys(app.lastNodeErrors).length > 0", timeout=30_000)
    errors = page.evaluate("() => app.lastNodeErrors")
    assert broken[0] in errors, errors
    assert any(e["extra_info"].get("input_name") == broken[1] for e in errors[broken[0]]["errors"])
    page.wait_for_timeout(800)
    editor.shot("05-validation-error")


def test_run_after_export_streams_progress(editor):
    editor.set_server_setting("dnne.RunAfterExport", True)
    editor.set_server_setting("dnne.RunArgs", "--epochs 1 --threads 1")
    try:
        editor.open_workflow(EXAMPLE)  # the unmodified example
        before = len(editor.messages())
        editor.page.get_by_role("button", name="Run", exact=True).click()
        new = editor.wait_message("execution_success", after=before, timeout_ms=240_000)
    finally:
        editor.set_server_setting("dnne.RunAfterExport", False)
    kinds = [m[0] for m in new]
    assert "dnne.run_started" in kinds
    during_run = new[kinds.index("dnne.run_started") :]
    progress = [m[1] for m in during_run if m[0] == "progress"]  # training steps, from the activity stream
    values = [p["value"] for p in progress]
    assert len(progress) > 1 and values == sorted(values) and values[-1] == progress[-1]["max"], progress
    shown = {m[1] for m in during_run if m[0] == "executing"} - {None}  # the frontend passes the node id on
    assert len(shown) >= 2, shown  # the node the run reports on, then the node busy training
    epochs = [m[1]["record"] for m in during_run if m[0] == "dnne.metrics" and m[1]["record"].get("event") == "epoch"]
    assert epochs and epochs[0]["epoch"] == 1 and 0.0 <= epochs[0]["train_accuracy"] <= 1.0
    editor.shot("06-run-finished")


def test_server_log_has_no_404_or_500(editor):
    lines = editor.log.read_text().splitlines()
    requests = [line for line in lines if re.match(r"^(GET|POST|DELETE|PUT) \S+ \d{3}$", line)]
    assert len(requests) > 20
    bad = [line for line in requests if line.endswith(" 404") or re.search(r" 5\d\d$", line)]
    assert not bad, bad
