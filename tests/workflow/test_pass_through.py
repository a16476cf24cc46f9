"""Subgraph inputs wired straight to subgraph outputs: simple, nested, chained, mixed, unconnected, looping."""

from __future__ import annotations

from dnne.workflow.load import load_workflow
from tests.workflow.builder import mnist

IMAGES_TO_NET_INPUT = 6  # mnist(): GetBatch(3).images → Network(4).input
NET_INPUT = "3.images -> 4.input"


def _link(link_id, src, src_slot, dst, dst_slot, link_type="TENSOR"):
    return {
        "id": link_id,
        "origin_id": src,
        "origin_slot": src_slot,
        "target_id": dst,
        "target_slot": dst_slot,
        "type": link_type,
    }


def _io(*names):
    return [{"id": f"io-{n}", "name": n, "type": "TENSOR", "linkIds": []} for n in names]


def _instance(node_id, def_id, in_links, out_links):
    """A subgraph instance node with TENSOR inputs x, … and outputs y, … (links given per slot)."""
    return {
        "id": node_id,
        "type": def_id,
        "mode": 0,
        "inputs": [{"name": n, "type": "TENSOR", "link": lk} for n, lk in zip(("x", "x2"), in_links, strict=False)],
        "outputs": [{"name": n, "type": "TENSOR", "links": lk} for n, lk in zip(("y", "y2"), out_links, strict=False)],
        "widgets_values": [],
    }


# x → y with no node in between
PASS = {
    "id": "pass",
    "name": "pass",
    "inputs": _io("x"),
    "outputs": _io("y"),
    "nodes": [],
    "links": [_link(1, -10, 0, -20, 0)],
}

# x → [pass] → [pass] → y: a chain of nested pass-throughs
TWICE = {
    "id": "twice",
    "name": "twice",
    "inputs": _io("x"),
    "outputs": _io("y"),
    "nodes": [_instance(1, "pass", [1], [[2]]), _instance(2, "pass", [2], [[3]])],
    "links": [_link(1, -10, 0, 1, 0), _link(2, 1, 0, 2, 0), _link(3, 2, 0, -20, 0)],
    "definitions": {"subgraphs": [PASS]},
}

# x → LinearLayer → y, and x → y2 directly
MIXED = {
    "id": "mixed",
    "name": "mixed",
    "inputs": _io("x"),
    "outputs": _io("y", "y2"),
    "nodes": [
        {
            "id": 1,
            "type": "LinearLayer",
            "mode": 0,
            "inputs": [{"name": "input", "type": "TENSOR", "link": 1}],
            "outputs": [{"name": "output", "type": "TENSOR", "links": [2]}],
            "widgets_values": [10, True, "none", 0.0],
        }
    ],
    "links": [_link(1, -10, 0, 1, 0), _link(2, 1, 0, -20, 0), _link(3, -10, 0, -20, 1)],
}


def _through(doc: dict, link_id: int, definition: dict, *, instance_id: int = 50) -> dict:
    """Route link `link_id` of a UI 0.4 doc through an instance of `definition` (its input x, its output y)."""
    link = next(lk for lk in doc["links"] if lk[0] == link_id)
    new_link = max(lk[0] for lk in doc["links"]) + 1
    doc["nodes"].append(_instance(instance_id, definition["id"], [link_id], [[new_link]]))
    target = next(n for n in doc["nodes"] if n["id"] == link[3])
    target["inputs"][link[4]]["link"] = new_link
    doc["links"].append([new_link, instance_id, 0, link[3], link[4], "TENSOR"])
    link[3], link[4] = instance_id, 0
    doc.setdefault("definitions", {}).setdefault("subgraphs", []).append(definition)
    return doc


def edges(result) -> set[str]:
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    return {str(e) for e in result.graph.edges}


def test_pass_through_feeds_the_outer_consumer(catalog):
    b = mnist(catalog)
    plain = edges(load_workflow(b.to_ui(named=True), catalog))
    result = load_workflow(_through(b.to_ui(named=True), IMAGES_TO_NET_INPUT, PASS), catalog)
    assert edges(result) == plain
    assert not result.diagnostics
    assert all(n.type != "Reroute" and "pass" not in n.id for n in result.graph)


def test_nested_chain_of_pass_throughs(catalog):
    b = mnist(catalog)
    plain = edges(load_workflow(b.to_ui(), catalog))
    result = load_workflow(_through(b.to_ui(), IMAGES_TO_NET_INPUT, TWICE), catalog)
    assert edges(result) == plain
    assert set(result.graph.nodes) == {str(i) for i in range(1, 10)}


def test_two_instances_in_series(catalog):
    b = mnist(catalog)
    doc = _through(b.to_ui(), IMAGES_TO_NET_INPUT, PASS, instance_id=50)
    doc = _through(doc, IMAGES_TO_NET_INPUT, TWICE, instance_id=51)  # GetBatch → 51 → 50 → Network
    assert NET_INPUT in edges(load_workflow(doc, catalog))


def test_pass_through_beside_an_inner_node(catalog):
    b = mnist(catalog)
    doc = _through(b.to_ui(), IMAGES_TO_NET_INPUT, MIXED)
    mixed = next(n for n in doc["nodes"] if n["id"] == 50)
    mixed["outputs"].append({"name": "y2", "type": "TENSOR", "links": [100]})
    net = next(n for n in doc["nodes"] if n["id"] == 4)
    old = net["inputs"][1]["link"]  # to_output, fed by the LinearLayer 5 in mnist()
    doc["links"] = [lk for lk in doc["links"] if lk[0] != old]
    next(n for n in doc["nodes"] if n["id"] == 5)["outputs"][0]["links"] = []
    net["inputs"][1]["link"] = 100
    doc["links"].append([100, 50, 1, 4, 1, "TENSOR"])
    found = edges(load_workflow(doc, catalog))
    assert {"3.images -> 50:1.input", "50:1.output -> 4.input", "3.images -> 4.to_output"} <= found


def test_unconnected_instance_input_leaves_the_consumer_unconnected(catalog):
    b = mnist(catalog)
    doc = _through(b.to_ui(), IMAGES_TO_NET_INPUT, TWICE)
    doc["links"] = [lk for lk in doc["links"] if lk[0] != IMAGES_TO_NET_INPUT]
    next(n for n in doc["nodes"] if n["id"] == 3)["outputs"][0]["links"] = []
    next(n for n in doc["nodes"] if n["id"] == 50)["inputs"][0]["link"] = None
    result = load_workflow(doc, catalog)
    assert result.graph is None
    assert [(d.code, d.node_id, d.field) for d in result.errors] == [("E_REQUIRED_INPUT", "4", "input")]


def test_pass_through_feeding_itself_is_a_loop(catalog):
    b = mnist(catalog)
    doc = _through(b.to_ui(), IMAGES_TO_NET_INPUT, PASS)
    doc["links"] = [lk for lk in doc["links"] if lk[0] != IMAGES_TO_NET_INPUT]
    next(n for n in doc["nodes"] if n["id"] == 3)["outputs"][0]["links"] = []
    instance = next(n for n in doc["nodes"] if n["id"] == 50)
    instance["inputs"][0]["link"] = 200
    instance["outputs"][0]["links"].append(200)
    doc["links"].append([200, 50, 0, 50, 0, "TENSOR"])
    result = load_workflow(doc, catalog)
    assert result.graph is None
    loop = next(d for d in result.errors if d.code == "E_REROUTE_LOOP")
    assert loop.node_id == "50:pass1"
