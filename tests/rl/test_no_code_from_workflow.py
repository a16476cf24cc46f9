"""No workflow or config.json value selects code to import (security review, item 1).

A module in a temp folder writes a marker file when it is imported. Every string field of the example workflows
and every string widget of every node type in the catalog is pointed at it (by module name, `module:Env` id and
path); validate and export must refuse (a coded error) or succeed without importing it; an exported runner with
a hand-edited config.json must exit 2 without importing it. Positive controls show the marker does appear when the
module really is imported (so the tests can fail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dnne.catalog.registry import default_catalog
from dnne.codegen.export import build_workflow, export_workflow
from dnne.codegen.validate import validate_workflow
from dnne.errors import DiagnosticError, DnneError
from dnne.workflow.model import Graph, GraphNode

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MODULE = "dnne_evil_marker"


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """(importable dir on sys.path with MODULE, a fake Isaac Gym dir reachable only by path, the marker file)."""
    marker = tmp_path / "IMPORTED"
    body = f"import pathlib\npathlib.Path({str(marker)!r}).write_text(__name__)\n"
    importable = tmp_path / "importable"
    importable.mkdir()
    (importable / f"{MODULE}.py").write_text(body)
    isaac = tmp_path / "isaac"
    for package in ("isaacgym", "isaacgymenvs"):
        (isaac / package).mkdir(parents=True)
        (isaac / package / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(importable))  # importable by name: only a real import can miss the test
    yield importable, isaac, marker
    sys.modules.pop(MODULE, None)


def _hostile_values(importable: Path, isaac: Path) -> list[str]:
    return [
        MODULE,
        f"{MODULE}:Evil-v0",
        f"{MODULE}.sub:Evil",
        str(importable),
        str(importable / f"{MODULE}.py"),
        str(isaac),
        f"file://{importable / MODULE}.py",
    ]


def _string_fields(doc: dict) -> list[tuple[int, int]]:
    """(node index, widget index) of every string widget value in a UI workflow."""
    return [
        (n, w)
        for n, node in enumerate(doc["nodes"])
        for w, value in enumerate(node.get("widgets_values") or [])
        if isinstance(value, str)
    ]


def test_positive_control_the_marker_appears_on_import(hostile):
    _importable, isaac, marker = hostile
    __import__(MODULE)
    assert marker.read_text() == MODULE
    marker.unlink()
    # the operator's --isaacgym-path is honoured (that is where Isaac Gym may come from), in a fresh process
    code = "import sys; from dnne.runtime.envs.isaacgym_env import isaacgym_available; isaacgym_available(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(isaac)], cwd=REPO, check=True, timeout=120)
    assert marker.exists()


@pytest.mark.parametrize("example", ["cartpole_ppo", "ant_ppo", "mnist_mlp", "mnist_cnn", "fashion_mnist_cnn"])
def test_every_string_field_of_the_examples(hostile, example):
    importable, isaac, marker = hostile
    original = json.loads((EXAMPLES / f"{example}.json").read_text())
    fields = _string_fields(original)
    assert fields
    outcomes = []
    for n, w in fields:
        for value in _hostile_values(importable, isaac):
            doc = json.loads(json.dumps(original))
            doc["nodes"][n]["widgets_values"][w] = value
            codes = {d.code for d in validate_workflow(doc)}
            try:
                build_workflow(doc)
                outcomes.append("exported")
            except DiagnosticError as exc:
                assert all(d.code.startswith(("E_", "W_")) for d in exc.diagnostics)
                outcomes.append("refused")
                assert any(d.is_error for d in exc.diagnostics) and codes & {d.code for d in exc.diagnostics}
            assert not marker.exists(), f"{example}: node {doc['nodes'][n]['type']} widget {w} = {value!r}"
    print(f"{example}: {len(fields)} string fields x 7 values: {outcomes.count('refused')} refused")


def test_every_string_widget_of_every_node_type_in_the_exporters(hostile):
    importable, isaac, marker = hostile
    catalog = default_catalog()
    tried = 0
    for spec in catalog:
        strings = [w for w in spec.widgets if w.type == "STRING"]
        for widget in strings:
            for value in _hostile_values(importable, isaac):
                node = GraphNode("1", spec, spec.display_name, {w.name: w.default for w in spec.widgets})
                node.widgets[widget.name] = value
                graph = Graph(name="hostile", nodes={"1": node})

                class Sink:
                    graph = None

                    def warn(self, *a, **k):
                        pass

                    error = warn

                sink = Sink()
                sink.graph = graph
                try:
                    spec.exporter(node, sink)
                except (DnneError, ValueError, KeyError, TypeError):
                    pass  # an exporter may need its neighbours; what matters is that nothing got imported
                tried += 1
                assert not marker.exists(), f"{spec.key}.{widget.name} = {value!r}"
    assert tried > 20, tried


def test_module_prefixed_env_id_is_refused_by_validate_and_export_cli(hostile, tmp_path):
    importable, _isaac, marker = hostile
    doc = json.loads((EXAMPLES / "cartpole_ppo.json").read_text())
    doc["nodes"][0]["widgets_values"][0] = f"{MODULE}:Evil-v0"
    doc["nodes"][0]["widgets_values"][7] = "gymnasium"
    wf = tmp_path / "evil.json"
    wf.write_text(json.dumps(doc))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(importable)]))
    for command in (["validate", str(wf)], ["export", str(wf), "-o", str(tmp_path / "out")]):
        proc = subprocess.run(
            [sys.executable, "-m", "dnne", *command], capture_output=True, text=True, env=env, timeout=120
        )
        assert proc.returncode == 1, proc.stderr
        assert "E_ENV_ID" in proc.stderr and "env_name" in proc.stderr and "hint:" in proc.stderr
        assert not marker.exists()
    assert not (tmp_path / "out").exists()


def _run(export: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"} | (env_extra or {})
    return subprocess.run(
        [sys.executable, "runner.py", "--quiet", *args],
        cwd=export,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_isaac_path_widgets_are_ignored_with_a_warning_and_never_imported(hostile, tmp_path):
    importable, isaac, marker = hostile
    doc = json.loads((EXAMPLES / "cartpole_ppo.json").read_text())
    widgets = doc["nodes"][0]["widgets_values"]
    widgets[2] = widgets[3] = str(isaac)
    widgets[7] = "isaacgym"
    result = export_workflow(doc, tmp_path / "out")
    warned = [d for d in result.diagnostics if d.code == "W_IGNORED_PATH"]
    assert {d.field for d in warned} == {"isaac_gym_path", "isaac_gym_envs_path"}
    assert "--isaacgym-path" in warned[0].hint
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert "isaac_gym_path" not in config["nodes"]["1"] and "isaac_gym_envs_path" not in config["nodes"]["1"]
    path_env = {"PYTHONPATH": str(importable)}
    proc = _run(tmp_path / "out", "--device", "cpu", "--max-steps", "16", "--run-dir", "r1", env_extra=path_env)
    assert proc.returncode == 1 and "needs CUDA" in proc.stderr + proc.stdout, proc.stderr
    assert not marker.exists()
    # the same widgets with the default backend: it trains on the torch Cartpole and still imports nothing
    config["nodes"]["1"]["backend"] = "auto"
    (tmp_path / "out" / "config.json").write_text(json.dumps(config))
    proc = _run(tmp_path / "out", "--device", "cpu", "--max-steps", "16", "--run-dir", "r2", env_extra=path_env)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    "edit",
    [
        {"env_name": f"{MODULE}:Evil-v0", "backend": "gymnasium"},
        {"env_name": f"{MODULE}:Evil-v0", "backend": "auto"},
        {"env_name": f"{MODULE}:Evil-v0"},
        {"env_name": "NotRegistered-v0", "backend": "gymnasium"},
        {"isaac_gym_path": "ISAAC"},
        {"isaac_gym_envs_path": "ISAAC", "backend": "isaacgym"},
    ],
    ids=["gymnasium", "auto", "torch", "unregistered", "isaac_path", "isaac_envs_path"],
)
def test_hand_edited_config_cannot_import_either(hostile, tmp_path, edit):
    importable, isaac, marker = hostile
    out = tmp_path / "out"
    export_workflow(json.loads((EXAMPLES / "cartpole_ppo.json").read_text()), out)
    config = json.loads((out / "config.json").read_text())
    config["nodes"]["1"].update({k: str(isaac) if v == "ISAAC" else v for k, v in edit.items()})
    (out / "config.json").write_text(json.dumps(config))
    proc = _run(out, "--device", "cpu", "--max-steps", "16", env_extra={"PYTHONPATH": str(importable)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "node 1" in proc.stderr
    assert not marker.exists()
