"""The original DNNE Cartpole_PPO.json (shared reference set): legacy names map, and it exports to a valid program.

The original file predates widgets added since (no defaults are filled in silently, so it loads with
E_WIDGETS_SHORT); the test re-saves it the way the editor would, appending the defaults of the missing widgets.
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

ORIGINAL = Path(__file__).resolve().parents[3] / "shared" / "workflows" / "original-dnne" / "Cartpole_PPO.json"


def _resaved() -> dict:
    doc = json.loads(ORIGINAL.read_text(encoding="utf-8"))
    catalog = default_catalog()
    short = {d.node_id for d in load_workflow(doc, catalog).diagnostics if d.code == "E_WIDGETS_SHORT"}
    for node in doc["nodes"]:
        if str(node["id"]) in short:
            spec = catalog.get(catalog.canonical(node["type"]) or node["type"])
            values = list(node.get("widgets_values") or [])
            node["widgets_values"] = values + [w.default for w in spec.widgets[len(values) :]]
    return doc


@pytest.mark.skipif(not ORIGINAL.is_file(), reason="the shared reference workflows are not available")
def test_original_cartpole_ppo_exports():
    doc = _resaved()
    result = build_workflow(doc, name="Cartpole_PPO")
    assert not [d for d in result.diagnostics if d.is_error]
    runner = result.contents["runner.py"].decode()
    parse_and_compile(runner)
    assert lint_code(runner) == []
    assert "PPOTrainer" in runner and "IsaacGymEnv" in runner
    assert result.contents == build_workflow(doc, name="Cartpole_PPO").contents
