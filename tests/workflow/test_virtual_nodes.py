"""Bypass / mute at top level, Reroute chains, PrimitiveNode and constant nodes feeding widgets, legacy sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnne.workflow.load import load_workflow
from tests.workflow.builder import mnist

CARTPOLE = Path(__file__).resolve().parents[3] / "shared" / "workflows" / "original-dnne" / "Cartpole_PPO.json"


def node(doc: dict, node_id: int) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def codes(result) -> set[tuple[str, str | None]]:
    return {(d.code, d.node_id) for d in result.diagnostics}


def test_bypassed_node_passes_matching_input_through(catalog):
    b = mnist(catalog)
    b.node(7).mode = 4  # CrossEntropyLoss bypassed: loss (TENSOR, slot 0) ← predictions (slot 0)
    b.links = [lk for lk in b.links if not (lk[3] == 9 and lk[4] == "accuracy")]
    b.link(3, "epoch_complete", 9, "accuracy")
    result = load_workflow(b.to_ui(), catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert "7" not in result.graph.nodes
    edges = {str(e) for e in result.graph.edges}
    assert "4.output -> 8.loss" in edges
    assert "4.output -> 9.loss" in edges


def test_bypass_prefers_same_slot_then_first_matching_type(catalog):
    b = mnist(catalog)
    b.node(7).mode = 4
    doc = b.to_ui()
    result = load_workflow(doc, catalog)
    # accuracy (FLOAT, slot 1) has no FLOAT input: E_BYPASS naming the node
    assert ("E_BYPASS", "7") in codes(result)


def test_muted_source_removes_the_consumer_input(catalog):
    b = mnist(catalog)
    b.node(6).mode = 2  # SGDOptimizer muted
    result = load_workflow(b.to_ui(), catalog)
    assert {("W_MUTED", "6"), ("E_REQUIRED_INPUT", "8")} <= codes(result)
    assert result.graph is None


def _with_reroutes(doc: dict, link_id: int, count: int) -> dict:
    """Route link `link_id` through a chain of `count` Reroute nodes (legacy reroute nodes)."""
    link = next(lk for lk in doc["links"] if lk[0] == link_id)
    first_id = max(n["id"] for n in doc["nodes"]) + 1
    next_link = max(lk[0] for lk in doc["links"]) + 1
    src, src_slot = link[1], link[2]
    src_out = node(doc, src)["outputs"][src_slot]["links"]
    src_out.remove(link_id)
    prev, prev_slot, prev_out = src, src_slot, src_out
    for k in range(count):
        rid = first_id + k
        prev_out.append(next_link)
        doc["links"].append([next_link, prev, prev_slot, rid, 0, "*"])
        reroute = {
            "id": rid,
            "type": "Reroute",
            "mode": 0,
            "inputs": [{"name": "", "type": "*", "link": next_link}],
            "outputs": [{"name": "", "type": "*", "links": []}],
        }
        doc["nodes"].append(reroute)
        prev, prev_slot, prev_out = rid, 0, reroute["outputs"][0]["links"]
        next_link += 1
    link[1], link[2] = prev, 0
    prev_out.append(link_id)
    return doc


def test_reroute_chain_resolves_to_real_source(catalog):
    b = mnist(catalog)
    plain = load_workflow(b.to_ui(), catalog).graph
    rerouted = load_workflow(_with_reroutes(b.to_ui(), 6, 3), catalog)
    assert rerouted.graph is not None, [d.format() for d in rerouted.diagnostics]
    assert sorted(map(str, rerouted.graph.edges)) == sorted(map(str, plain.edges))
    assert not any(n.type == "Reroute" for n in rerouted.graph)


def test_primitive_node_value_is_inlined(catalog):
    b = mnist(catalog)
    doc = b.to_ui()
    sampler = node(doc, 2)
    slot = [i["name"] for i in sampler["inputs"]].index("batch_size")
    sampler["inputs"][slot]["link"] = 100
    doc["nodes"].append(
        {
            "id": 50,
            "type": "PrimitiveNode",
            "mode": 0,
            "outputs": [{"name": "INT", "type": "INT", "links": [100], "widget": {"name": "batch_size"}}],
            "widgets_values": [256, "fixed"],
        }
    )
    doc["nodes"].append({"id": 51, "type": "Note", "mode": 0, "widgets_values": ["remember to tune this"]})
    doc["links"].append([100, 50, 0, 2, slot, "INT"])
    result = load_workflow(doc, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert result.graph.nodes["2"].widgets["batch_size"] == 256
    assert "50" not in result.graph.nodes and "51" not in result.graph.nodes


def test_constant_node_value_is_inlined_and_the_node_dropped(catalog):
    b = mnist(catalog)
    const = b.add("IntConstant", value=128)
    b.link(const, "INT", 2, "batch_size")
    result = load_workflow(b.to_ui(), catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert result.graph.nodes["2"].widgets["batch_size"] == 128
    assert str(const) not in result.graph.nodes


def test_constant_value_is_still_validated(catalog):
    b = mnist(catalog)
    const = b.add("IntConstant", value=5000)
    b.link(const, "INT", 2, "batch_size")
    result = load_workflow(b.to_ui(), catalog)
    assert ("E_WIDGET_RANGE", "2") in codes(result)


def test_widget_fed_by_a_computed_output_is_unsupported(catalog):
    b = mnist(catalog)
    b.link(7, "accuracy", 6, "learning_rate")
    result = load_workflow(b.to_ui(), catalog)
    problem = next(d for d in result.diagnostics if d.code == "E_UNSUPPORTED")
    assert (problem.node_id, problem.field) == ("6", "learning_rate")


def test_widget_mapping_named_dict_and_positional(catalog):
    b = mnist(catalog)
    named = load_workflow(b.to_ui(named=True), catalog)
    assert named.graph is not None and not named.diagnostics  # named values: no companion warning
    doc = b.to_ui()
    node(doc, 2)["widgets_values"] = {"batch_size": 8, "shuffle": False, "seed": 1}
    as_dict = load_workflow(doc, catalog).graph
    assert as_dict.nodes["2"].widgets == {"batch_size": 8, "shuffle": False, "seed": 1}
    node(doc, 2)["widgets_values"] = [8, False, 1, "randomize"]
    positional = load_workflow(doc, catalog)
    assert positional.graph.nodes["2"].widgets == {"batch_size": 8, "shuffle": False, "seed": 1}
    assert [d.code for d in positional.diagnostics] == ["W_WIDGET_EXTRA"]
    node(doc, 2)["widgets_values"] = [8, False, 1]  # older file without the control value: no warning
    assert not load_workflow(doc, catalog).diagnostics


def test_legacy_context_sockets_and_renamed_inputs(catalog):
    b = mnist(catalog)
    doc = b.to_ui()
    gb = node(doc, 3)
    gb["inputs"].insert(2, {"name": "context", "type": "CONTEXT", "link": None})
    trigger_link = gb["inputs"][3]["link"]
    next(lk for lk in doc["links"] if lk[0] == trigger_link)[4] = 3  # slot shifted by the stale socket
    result = load_workflow(doc, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert ("W_LEGACY_SOCKET", "3") in codes(result)
    assert "8.ready -> 3.trigger" in {str(e) for e in result.graph.edges}


@pytest.mark.skipif(not CARTPOLE.exists(), reason="shared Cartpole_PPO.json not available")
def test_original_cartpole_ppo_workflow(catalog):
    result = load_workflow(CARTPOLE, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    found = codes(result)
    assert {("W_LEGACY_SOCKET", "4"), ("W_LEGACY_INPUT", "5"), ("W_LEGACY_TYPE", "6")} <= found
    edges = {str(e) for e in result.graph.edges}
    assert "6.training_complete -> 4.trigger" in edges  # slot 3 in the file, resolved by name
    assert "3.policy_output -> 5.policy" in edges
    assert result.graph.nodes["1"].widgets["num_envs"] == 1
    assert json.loads(CARTPOLE.read_text())["nodes"]  # the file itself is untouched data
