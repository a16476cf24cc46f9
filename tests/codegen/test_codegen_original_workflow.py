"""The original DNNE Cartpole_PPO.json: legacy names map, and it exports to a valid program.

Two copies: tests/fixtures/original_dnne/Cartpole_PPO.json, our own file in the original editor's saved format (UI
0.4, stale `context` sockets, POLICY_OUTPUT, `network_output`, native reroutes), so the test runs in any clone; and
the original file from the shared reference set, where ../shared is present (it skips without). A third test checks
that both load to the same graph with the same diagnostics.

The original file predates widgets added since (no defaults are filled in silently for required ones, so it may
load with E_WIDGETS_SHORT); the test re-saves it the way the editor would, appending the defaults of missing widgets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnne.catalog.registry import default_catalog
from dnne.codegen.checks import parse_and_compile
from dnne.codegen.export import build_workflow
from dnne.codegen.format import lint_code
from dnne.workflow.load import load_workflow

REPO = Path(__file__).resolve().parents[2]
ORIGINAL_FIXTURE = REPO / "tests" / "fixtures" / "original_dnne" / "Cartpole_PPO.json"
ORIGINAL_SHARED = REPO.parent / "shared" / "workflows" / "original-dnne" / "Cartpole_PPO.json"
NEEDS_SHARED = pytest.mark.skipif(not ORIGINAL_SHARED.is_file(), reason="../shared (the original file) is not here")
ORIGINALS = [
    pytest.param(ORIGINAL_FIXTURE, id="fixture"),
    pytest.param(ORIGINAL_SHARED, id="shared", marks=NEEDS_SHARED),
]


def _resaved(original: Path) -> dict:
    doc = json.loads(original.read_text(encoding="utf-8"))
    catalog = default_catalog()
    short = {d.node_id for d in load_workflow(doc, catalog).diagnostics if d.code == "E_WIDGETS_SHORT"}
    for node in doc["nodes"]:
        if str(node["id"]) in short:
            spec = catalog.get(catalog.canonical(node["type"]) or node["type"])
            values = list(node.get("widgets_values") or [])
            node["widgets_values"] = values + [w.default for w in spec.widgets[len(values) :]]
    return doc


@pytest.mark.parametrize("original", ORIGINALS)
def test_original_cartpole_ppo_exports(original):
    doc = _resaved(original)
    result = build_workflow(doc, name="Cartpole_PPO")
    assert not [d for d in result.diagnostics if d.is_error]
    runner = result.contents["runner.py"].decode()
    parse_and_compile(runner)
    assert lint_code(runner) == []
    assert "PPOTrainer" in runner and "IsaacGymEnv" in runner
    assert result.contents == build_workflow(doc, name="Cartpole_PPO").contents


def test_the_fixture_carries_the_originals_legacy_leftovers():
    codes = {d.code for d in load_workflow(json.loads(ORIGINAL_FIXTURE.read_text()), default_catalog()).diagnostics}
    assert {"W_LEGACY_SOCKET", "W_LEGACY_INPUT", "W_LEGACY_TYPE"} <= codes
    doc = json.loads(ORIGINAL_FIXTURE.read_text())
    assert doc["version"] == 0.4 and len(doc["nodes"]) == 6 and len(doc["links"]) == 12
    assert len(doc["extra"]["reroutes"]) == 6


@NEEDS_SHARED
def test_the_fixture_loads_like_the_original_file():
    def loaded(path: Path):
        result = load_workflow(json.loads(path.read_text(encoding="utf-8")), default_catalog())
        diagnostics = sorted((d.code, d.node_id, d.field) for d in result.diagnostics)
        nodes = {i: (n.type, n.widgets) for i, n in result.graph.nodes.items()}
        edges = sorted((e.src, e.src_output, e.dst, e.dst_input) for e in result.graph.edges)
        return diagnostics, nodes, edges

    assert loaded(ORIGINAL_FIXTURE) == loaded(ORIGINAL_SHARED)
