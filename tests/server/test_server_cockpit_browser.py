"""The editor as a training cockpit, in real headless Chromium against `dnne serve`: what the user sees.

One browser session (load, templates, an example, errors, a widget edit, export, real runs) in which every request
is routed through Playwright: any request to a host other than the dnne server fails the last test.
Skips without Playwright or a system Chromium. DNNE_DOCS_SCREENSHOT=1 refreshes docs/images/training-*.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.server.test_server_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, Editor, _free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LISTEN = """() => {
  window.__dnne = [];
  const kinds = ['execution_start', 'executing', 'progress', 'progress_state', 'executed', 'execution_success',
                 'execution_error', 'execution_interrupted', 'dnne.exported', 'dnne.run_started', 'dnne.metrics'];
  for (const kind of kinds) app.api.addEventListener(kind, (e) => window.__dnne.push([kind, e.detail]));
}"""
TRAINING_TAB = "Workspace.ToggleSidebarTab.dnne-training"


class Cockpit(Editor):
    foreign: list[str]

    def screenshot_for_docs(self, name: str) -> None:
        shot = self.shot(name)
        if os.environ.get("DNNE_DOCS_SCREENSHOT") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "images" / f"{name}.png")

    def open_example(self, label: str) -> None:
        self.open_workflow(label)
        self.page.get_by_role("button", name="Workflows (w)").click()  # close the panel
        self.page.wait_for_timeout(800)  # the extension fits the view one frame after the graph is configured

    def open_copy(self, example: str, name: str) -> None:
        """A new tab with a copy of examples/<example>.json (the saved example stays as it is)."""
        workflow = json.loads((ROOT / "examples" / f"{example}.json").read_text())
        self.page.evaluate("([wf, name]) => app.loadGraphData(wf, true, true, name)", [workflow, name])
        self.page.wait_for_function(
            f"() => app.extensionManager.workflow.activeWorkflow?.filename === {json.dumps(name)}"
            " && app.graph.nodes.length > 3",
            timeout=20_000,
        )
        self.page.wait_for_timeout(800)

    def training_tab(self, visible: bool = True) -> None:
        shown = self.page.locator("[data-testid=dnne-training-panel]").is_visible()
        if shown != visible:
            self.command(TRAINING_TAB)
        if visible:
            self.page.locator("[data-testid=dnne-training-panel]").wait_for(timeout=10_000)

    def run_to_end(self, timeout_ms: int = 240_000) -> list:
        before = len(self.messages())
        self.page.get_by_role("button", name="Run", exact=True).click()
        return self.wait_message("execution_success", after=before, timeout_ms=timeout_ms)


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("comfyui_frontend_package", reason="the editor frontend (dnne[editor]) is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    base = tmp_path_factory.mktemp("cockpit")
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
    foreign: list[str] = []

    def route(route):
        # the server itself, and what the page makes in memory, are local; everything else is recorded and refused
        request_url = route.request.url
        if urlsplit(request_url).scheme in ("data", "blob") or request_url.startswith(url):
            route.continue_()
        else:
            foreign.append(request_url)
            route.abort()

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
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.route("**/*", route)
            page = context.new_page()
            page.goto(url)
            page.wait_for_function(
                "() => window.app && app.graph && app.extensionManager?.command && document.querySelector('canvas')",
                timeout=120_000,
            )
            page.evaluate(LISTEN)
            cockpit = Cockpit(page, url, workdir, log)
            cockpit.foreign = foreign
            yield cockpit
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_templates_panel_lists_the_examples(cockpit):
    page = cockpit.page
    page.get_by_role("button", name="Templates").first.click()
    page.get_by_text("MNIST: MLP classifier").first.wait_for(timeout=20_000)
    for title in ("MNIST: CNN classifier", "Fashion-MNIST: CNN", "Cartpole: PPO", "Ant: PPO (Isaac Gym)"):
        assert page.get_by_text(title).first.is_visible(), title
    cockpit.shot("cockpit-01-templates")
    # this frontend shows a plain template's description only to its search: a word of it finds the example
    page.get_by_placeholder("Search").first.fill("balances")
    page.wait_for_function("() => !document.body.innerText.includes('MNIST: MLP classifier')", timeout=10_000)
    assert page.get_by_text("Cartpole: PPO").first.is_visible()
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    bad = [line for line in cockpit.log.read_text().splitlines() if line.endswith((" 404", " 405"))]
    assert not bad, bad


def test_an_example_opens_fitted_without_overlapping_nodes(cockpit):
    cockpit.open_example("mnist_mlp")
    view = cockpit.page.evaluate(
        """() => {
          const title = LiteGraph.NODE_TITLE_HEIGHT;
          const boxes = app.graph.nodes.map(n => [n.pos[0], n.pos[1] - title, n.size[0], n.size[1] + title]);
          const hits = [];
          boxes.forEach((a, i) => boxes.forEach((b, j) => {
            if (i < j && a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3])
              hits.push([app.graph.nodes[i].title, app.graph.nodes[j].title]);
          }));
          const ds = app.canvas.ds, canvas = app.canvas.canvas;
          const onScreen = app.graph.nodes.filter(n => {
            const x = (n.pos[0] + ds.offset[0]) * ds.scale, y = (n.pos[1] + ds.offset[1]) * ds.scale;
            return x >= 0 && y >= 0 && x < canvas.clientWidth && y < canvas.clientHeight;
          }).length;
          return {hits, scale: ds.scale, onScreen, nodes: app.graph.nodes.length};
        }"""
    )
    print(view)
    assert view["hits"] == [], view
    assert view["scale"] >= 0.5 and view["onScreen"] >= view["nodes"] // 2, view
    cockpit.shot("cockpit-02-example")


def _shown_hints(cockpit) -> dict[str, str]:
    """Export (dnne ▸ Export only), open the error panel, expand every entry; {code: hint} for the hints on screen."""
    page = cockpit.page
    page.evaluate("() => { app.lastNodeErrors = null; }")
    cockpit.command("dnne.ExportPython")
    page.wait_for_function("() => app.lastNodeErrors && Object.keys(app.lastNodeErrors).length > 0", timeout=30_000)
    errors = page.evaluate("() => app.lastNodeErrors")
    page.get_by_text("View details").first.click()
    info = page.locator("[aria-label^='Info for']")
    info.first.wait_for(timeout=10_000)
    for i in range(info.count()):
        info.nth(i).click()
    page.wait_for_timeout(500)
    shown = {}
    for entry in errors.values():
        for error in entry["errors"]:
            hint = error["details"].partition("Hint: ")[2]
            if hint and page.get_by_text(hint[:60], exact=False).first.is_visible():
                shown[error["extra_info"]["dnne_code"]] = hint
    return shown


def test_errors_show_dnne_message_and_hint(cockpit):
    page = cockpit.page
    cockpit.open_copy("mnist_mlp", "broken mlp")
    page.evaluate(
        """() => {
          const node = (id) => app.graph.getNodeById(id);
          const slot = (n, name) => n.inputs.findIndex(i => i.name === name);
          const schema = node(1).outputs[1], type = schema.type;
          schema.type = '*';  // as if dragged anyway: the schema output into the dataset input
          node(1).connect(1, node(2), slot(node(2), 'dataset'));
          schema.type = type;
          node(16).disconnectInput(slot(node(16), 'dataset'));
        }"""
    )
    shown = _shown_hints(cockpit)
    cockpit.shot("cockpit-03-errors")
    page.keyboard.press("Escape")
    cockpit.open_copy("mnist_cnn", "broken cnn")  # a second broken graph: a layer that also feeds the loss
    page.evaluate(
        """() => {
          const layer = app.graph.nodes.find(n => n.type === 'LinearLayer' || n.type === 'Conv2DLayer');
          const loss = app.graph.nodes.find(n => n.type === 'CrossEntropyLoss');
          layer.connect(0, loss, loss.inputs.findIndex(i => i.name === 'predictions'));
        }"""
    )
    shown |= _shown_hints(cockpit)
    cockpit.shot("cockpit-04-errors")
    print(shown)
    assert {"E_TYPE_MISMATCH", "E_REQUIRED_INPUT", "E_NETWORK_CHAIN"} <= set(shown), shown


def _plotted(page) -> dict[str, list]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
             '[data-testid=dnne-training-panel] polyline[data-layer=""]')].map(p => [p.dataset.key,
             JSON.parse(p.dataset.values)]))"""
    )


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_cartpole_run_is_plotted_live_from_its_metrics_file(cockpit):
    page = cockpit.page
    cockpit.set_server_setting("dnne.RunArgs", "--max-steps 60000 --threads 1")
    cockpit.open_example("cartpole_ppo")
    page.evaluate(  # edit a widget the way a user would, then run (Run trains: export + run)
        """() => {
          const trainer = app.graph.nodes.find(n => n.type === 'PPOTrainerNode');
          const widget = trainer.widgets.find(w => w.name === 'num_epochs');
          widget.value = 2; widget.callback?.(2);
        }"""
    )
    cockpit.training_tab()
    before = len(cockpit.messages())
    page.get_by_role("button", name="Run", exact=True).click()
    # the queue button counts the run while it runs (the frontend reads /api/jobs on each `status` message)
    page.wait_for_function("() => /\\b1 active\\b/.test(document.body.innerText)", timeout=60_000)
    new = cockpit.wait_message("execution_success", after=before, timeout_ms=240_000)
    kinds = [m[0] for m in new]
    started = next(m[1] for m in new if m[0] == "dnne.run_started")
    running = [m[1] for m in new if m[0] == "progress_state" and m[1]["nodes"]]
    assert running and all(s["prompt_id"] == started["prompt_id"] for s in running[1:]), running[:3]
    assert any(n["state"] == "running" for s in running for n in s["nodes"].values())
    trainer = page.evaluate("() => String(app.graph.nodes.find(n => n.type === 'PPOTrainerNode').id)")
    on_trainer = [s["nodes"][trainer] for s in running if trainer in s["nodes"]]  # env steps towards the target
    assert on_trainer and on_trainer[-1]["value"] > 0 and on_trainer[-1]["max"] >= 60000, on_trainer[-3:]
    assert "execution_success" in kinds
    page.wait_for_function("() => document.querySelector('[data-testid=dnne-run-status]')?.innerText"
                           ".includes('finished')", timeout=20_000)  # fmt: skip
    config = json.loads((Path(started["run_dir"]).parent.parent.parent / "exports" / started["export"] /
                         "config.json").read_text())  # fmt: skip
    assert '"num_epochs": 2' in json.dumps(config), "the widget edit reached the export"
    records = _records(Path(started["metrics"]))
    updates = [r for r in records if r.get("event") in ("update", "summary")]
    plotted = _plotted(page)
    for key in ("loss", "fps", "mean_return", "mean_episode_length"):
        expected = [[r["env_steps"], r[key]] for r in updates if isinstance(r.get(key), (int, float))]
        assert expected and plotted.get(key) == expected, (key, plotted.get(key), expected)
    assert page.get_by_test_id("dnne-run-dir").inner_text().endswith(started["run_dir"])
    cockpit.screenshot_for_docs("training-cartpole")


def test_two_runs_can_be_overlaid(cockpit):
    page = cockpit.page
    cockpit.run_to_end()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=dnne-run-history] [data-run]').length >= 2",
                           timeout=20_000)  # fmt: skip
    rows = page.locator("[data-testid=dnne-run-history] [data-run] input")
    rows.nth(0).check()
    rows.nth(1).check()
    page.wait_for_function(
        "() => new Set([...document.querySelectorAll('[data-testid=dnne-training-panel] polyline')]"
        ".map(p => p.dataset.layer).filter(Boolean)).size === 2",
        timeout=20_000,
    )
    cockpit.shot("cockpit-05-overlay")


def test_mnist_run_is_plotted_with_its_evaluations(cockpit):
    page = cockpit.page
    cockpit.set_server_setting("dnne.RunArgs", "--max-steps 240 --threads 1")
    cockpit.open_example("mnist_mlp")
    page.evaluate(
        """() => {
          const evaluate = app.graph.nodes.find(n => n.type === 'Evaluate');
          const widget = evaluate.widgets.find(w => w.name === 'every_n_steps');
          widget.value = 60; widget.callback?.(60);
        }"""
    )
    cockpit.training_tab()
    new = cockpit.run_to_end()
    started = next(m[1] for m in new if m[0] == "dnne.run_started")
    page.wait_for_function("() => document.querySelector('[data-testid=dnne-run-status]')?.innerText"
                           ".includes('finished')", timeout=20_000)  # fmt: skip
    evals = [r for r in _records(Path(started["metrics"])) if r.get("event") == "eval"]
    plotted = _plotted(page)
    assert evals and plotted.get("test_accuracy") == [[r["step"], r["test_accuracy"]] for r in evals], plotted
    assert page.locator("[data-testid=dnne-training-panel] line[data-marker=checkpoint]").count() >= 1
    cockpit.screenshot_for_docs("training-mnist")


def test_an_interrupted_run_is_shown_as_interrupted(cockpit):
    page = cockpit.page
    cockpit.set_server_setting("dnne.RunArgs", "--max-steps 50000000 --threads 1")
    cockpit.open_example("cartpole_ppo")
    before = len(cockpit.messages())
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        f"() => window.__dnne.slice({before}).filter(m => m[0] === 'dnne.metrics').length >= 2", timeout=120_000
    )
    cockpit.command("Comfy.Interrupt")
    cockpit.wait_message("execution_interrupted", after=before, timeout_ms=60_000)
    page.get_by_text("dnne: run interrupted").first.wait_for(timeout=10_000)
    cockpit.training_tab()
    page.wait_for_function("() => document.querySelector('[data-testid=dnne-run-status]')?.innerText"
                           ".includes('interrupted')", timeout=20_000)  # fmt: skip
    cockpit.shot("cockpit-06-interrupted")


def test_no_request_left_the_machine(cockpit):
    assert cockpit.foreign == [], cockpit.foreign
