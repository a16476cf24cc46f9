"""The loader against the real node packs (skipped while they do not import)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from dnne.graph.analysis import analyze
from dnne.workflow.load import load_workflow
from tests.fuzz.strategies import Drawn, Mutated, mutated_workflows, valid_workflows
from tests.workflow.real_catalog import real_catalog

CATALOG = real_catalog()
CARTPOLE = Path(__file__).resolve().parents[3] / "shared" / "workflows" / "original-dnne" / "Cartpole_PPO.json"


@pytest.mark.skipif(not CARTPOLE.exists(), reason="shared Cartpole_PPO.json not available")
def test_original_cartpole_loads_and_its_loops_can_start():
    result = load_workflow(CARTPOLE, CATALOG)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert all(d.code.startswith("W_LEGACY") or d.code == "W_WIDGET_DEFAULT" for d in result.diagnostics)
    edges = {str(e) for e in result.graph.edges}
    assert "6.training_complete -> 4.trigger" in edges
    analysis = analyze(result.graph)
    assert analysis.errors == [], [d.format() for d in analysis.diagnostics]
    assert analysis.order[0] == "1"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_workflows(CATALOG, max_nodes=6))
def test_valid_workflows_of_the_real_catalog_load(drawn: Drawn) -> None:
    result = load_workflow(drawn.doc, CATALOG)
    assert result.graph is not None, [d.format() for d in result.diagnostics]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_workflows(CATALOG, max_nodes=5))
def test_single_defects_fail_with_their_code_on_the_real_catalog(mutated: Mutated) -> None:
    result = load_workflow(mutated.data, CATALOG)
    errors = {d.code for d in result.diagnostics if d.is_error}
    assert result.graph is None
    assert mutated.code in errors and errors <= {mutated.code} | mutated.allowed, (mutated.description, errors)


def test_original_batch_sampler_widgets_with_control_value_and_no_drop_last():
    """Saved by the original editor before drop_last existed: [batch_size, shuffle, seed, control_after_generate]."""
    from tests.workflow.builder import WorkflowBuilder

    b = WorkflowBuilder(CATALOG)
    dataset = b.add("MNISTDataset", widgets={"data_path": "./data", "train": True, "download": False})
    sampler = b.add("BatchSampler", widgets={"batch_size": 32, "shuffle": True, "seed": -1, "drop_last": False})
    b.link(dataset, "dataset", sampler, "dataset")
    b.link(dataset, "schema", sampler, "schema")
    doc = b.to_ui()
    node = next(n for n in doc["nodes"] if n["type"] == "BatchSampler")
    node.pop("widgets_values_named", None)
    node["widgets_values"] = [32, True, -1, "fixed"]
    result = load_workflow(doc, CATALOG)
    sampler_diags = [d for d in result.diagnostics if d.node_id == str(sampler)]
    assert {d.code for d in sampler_diags} == {"W_WIDGET_EXTRA", "W_WIDGET_DEFAULT"}, [
        d.format() for d in sampler_diags
    ]
    widgets = result.graph.nodes[str(sampler)].widgets
    assert widgets == {"batch_size": 32, "shuffle": True, "seed": -1, "drop_last": False}
