"""Subgraph flattening: ids "outer:inner", -10/-20 rewiring, nested definitions, bypass inside, promoted widgets."""

from __future__ import annotations

import copy

from dnne.workflow.load import load_workflow


def _node(node_id, node_type, inputs=(), outputs=(), widgets=None, mode=0, **extra):
    return {
        "id": node_id,
        "type": node_type,
        "mode": mode,
        "inputs": [{"name": n, "type": t, "link": link} for n, t, link in inputs],
        "outputs": [{"name": n, "type": t, "links": links} for n, t, links in outputs],
        "widgets_values": widgets if widgets is not None else [],
        **extra,
    }


def _link(link_id, src, src_slot, dst, dst_slot, link_type):
    return {
        "id": link_id,
        "origin_id": src,
        "origin_slot": src_slot,
        "target_id": dst,
        "target_slot": dst_slot,
        "type": link_type,
    }


LINEAR = [128, True, "relu", 0.0]

SUB_B = {  # one LinearLayer: x → y
    "id": "sub-b",
    "version": 1,
    "name": "inner layer",
    "inputs": [{"id": "i0", "name": "x", "type": "TENSOR", "linkIds": [1]}],
    "outputs": [{"id": "o0", "name": "y", "type": "TENSOR", "linkIds": [2]}],
    "nodes": [_node(1, "LinearLayer", [("input", "TENSOR", 1)], [("output", "TENSOR", [2])], LINEAR)],
    "links": [_link(1, -10, 0, 1, 0, "TENSOR"), _link(2, 1, 0, -20, 0, "TENSOR")],
}

SUB_A = {  # GetBatch → sub-b instance (promoted output_size=33) → bypassed LinearLayer → out
    "id": "sub-a",
    "version": 1,
    "name": "batches",
    "inputs": [
        {"id": "a", "name": "dataloader", "type": "DATALOADER", "linkIds": [1]},
        {"id": "b", "name": "schema", "type": "SCHEMA", "linkIds": [2]},
        {"id": "c", "name": "trigger", "type": "SYNC", "linkIds": [3]},
    ],
    "outputs": [{"id": "d", "name": "images", "type": "TENSOR", "linkIds": [6]}],
    "nodes": [
        _node(
            1,
            "GetBatch",
            [("dataloader", "DATALOADER", 1), ("schema", "SCHEMA", 2), ("trigger", "SYNC", 3)],
            [("images", "TENSOR", [4]), ("labels", "TENSOR", None)],
        ),
        _node(
            2,
            "sub-b",
            [("x", "TENSOR", 4)],
            [("y", "TENSOR", [5])],
            [33],
            properties={"proxyWidgets": [["1", "output_size"]]},
        ),
        _node(3, "LinearLayer", [("input", "TENSOR", 5)], [("output", "TENSOR", [6])], LINEAR, mode=4),
    ],
    "links": [
        _link(1, -10, 0, 1, 0, "DATALOADER"),
        _link(2, -10, 1, 1, 1, "SCHEMA"),
        _link(3, -10, 2, 1, 2, "SYNC"),
        _link(4, 1, 0, 2, 0, "TENSOR"),
        _link(5, 2, 0, 3, 0, "TENSOR"),
        _link(6, 3, 0, -20, 0, "TENSOR"),
    ],
    "definitions": {"subgraphs": [SUB_B]},
}


def workflow() -> dict:
    return {
        "version": 0.4,
        "nodes": [
            _node(1, "MNISTDataset", [], [("dataset", "DATASET", [1]), ("schema", "SCHEMA", [2])], ["./d", True, True]),
            _node(
                2,
                "BatchSampler",
                [("dataset", "DATASET", 1), ("schema", "SCHEMA", 2)],
                [("dataloader", "DATALOADER", [3]), ("schema", "SCHEMA", [4])],
                [32, True, 5, "fixed"],
            ),
            _node(
                5,
                "sub-a",
                [("dataloader", "DATALOADER", 3), ("schema", "SCHEMA", 4), ("trigger", "SYNC", 5)],
                [("images", "TENSOR", [6, 7])],
            ),
            _node(
                6,
                "Network",
                [("input", "TENSOR", 6), ("to_output", "TENSOR", 7)],
                [("layers", "TENSOR", None), ("output", "TENSOR", [10]), ("model", "MODEL", [8])],
                [True, "epoch", "50", False],
            ),
            _node(7, "SGDOptimizer", [("network", "MODEL", 8)], [("optimizer", "OPTIMIZER", [9])], [0.01, 0.9]),
            _node(
                8,
                "TrainingStep",
                [("loss", "TENSOR", 10), ("optimizer", "OPTIMIZER", 9)],
                [("ready", "SYNC", [5])],
            ),
        ],
        "links": [
            [1, 1, 0, 2, 0, "DATASET"],
            [2, 1, 1, 2, 1, "SCHEMA"],
            [3, 2, 0, 5, 0, "DATALOADER"],
            [4, 2, 1, 5, 1, "SCHEMA"],
            [5, 8, 0, 5, 2, "SYNC"],
            [6, 5, 0, 6, 0, "TENSOR"],
            [7, 5, 0, 6, 1, "TENSOR"],
            [8, 6, 2, 7, 0, "MODEL"],
            [9, 7, 0, 8, 1, "OPTIMIZER"],
            [10, 6, 1, 8, 0, "TENSOR"],
        ],
        "definitions": {"subgraphs": [copy.deepcopy(SUB_A)]},
    }


def edges(graph) -> set[str]:
    return {str(e) for e in graph.edges}


def test_nested_subgraphs_flatten_with_joined_ids(catalog):
    result = load_workflow(workflow(), catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert list(result.graph.nodes) == ["1", "2", "5:1", "5:2:1", "6", "7", "8"]
    assert {
        "2.dataloader -> 5:1.dataloader",
        "2.schema -> 5:1.schema",
        "8.ready -> 5:1.trigger",
        "5:1.images -> 5:2:1.input",
        "5:2:1.output -> 6.input",  # through the bypassed 5:3
        "5:2:1.output -> 6.to_output",
    } <= edges(result.graph)
    assert result.graph.nodes["5:2:1"].widgets["output_size"] == 33  # promoted through proxyWidgets


def test_bypass_of_nested_instance_passes_its_input_through(catalog):
    doc = workflow()
    doc["definitions"]["subgraphs"][0]["nodes"][1]["mode"] = 4  # bypass the sub-b instance inside sub-a
    result = load_workflow(doc, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert "5:2:1" not in result.graph.nodes
    assert "5:1.images -> 6.input" in edges(result.graph)


def test_mute_inside_subgraph_breaks_the_consumer(catalog):
    doc = workflow()
    doc["definitions"]["subgraphs"][0]["nodes"][0]["mode"] = 2  # mute GetBatch inside sub-a
    result = load_workflow(doc, catalog)
    codes = {(d.code, d.node_id) for d in result.diagnostics}
    assert ("W_MUTED", "5:1") in codes
    assert ("E_REQUIRED_INPUT", "5:2:1") in codes
    assert result.graph is None


def test_unconnected_subgraph_input_takes_promoted_value(catalog):
    doc = workflow()
    sub_b = doc["definitions"]["subgraphs"][0]["definitions"]["subgraphs"][0]
    sub_b["inputs"].append({"id": "w", "name": "size", "type": "INT", "linkIds": [3]})
    layer = sub_b["nodes"][0]
    layer["inputs"].append({"name": "output_size", "type": "INT", "widget": {"name": "output_size"}, "link": 3})
    sub_b["links"].append(_link(3, -10, 1, 1, 1, "INT"))
    instance = doc["definitions"]["subgraphs"][0]["nodes"][1]
    instance["inputs"].append({"name": "size", "type": "INT", "widget": {"name": "size"}, "link": None})
    instance["widgets_values"] = [77]
    del instance["properties"]
    result = load_workflow(doc, catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    assert result.graph.nodes["5:2:1"].widgets["output_size"] == 77


def test_recursive_subgraph_is_rejected(catalog):
    doc = workflow()
    sub_b = doc["definitions"]["subgraphs"][0]["definitions"]["subgraphs"][0]
    sub_b["nodes"].append(_node(9, "sub-a", [], []))
    result = load_workflow(copy.deepcopy(doc), catalog)
    assert result.graph is None
    assert any(d.code == "E_UNSUPPORTED" and "contains itself" in d.message for d in result.diagnostics)


def test_flattened_size_limit(catalog):
    result = load_workflow(workflow(), catalog, max_nodes=6)
    assert [d.code for d in result.diagnostics] == ["E_EXPANSION_BUDGET"]
    assert "limit 6" in result.diagnostics[0].message and "'batches'" in result.diagnostics[0].message
