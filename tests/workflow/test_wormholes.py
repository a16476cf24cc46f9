"""GetNode/SetNode (KJNodes named wormholes): resolved by name, unmatched or duplicate names and loops reported."""

from __future__ import annotations

from dnne.workflow.load import load_workflow
from tests.workflow.builder import mnist

IMAGES_TO_NET_INPUT = 6  # mnist(): GetBatch(3).images → Network(4).input
L1_TO_NET_OUTPUT = 8  # mnist(): LinearLayer(5).output → Network(4).to_output


def node(doc: dict, node_id: int) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def set_node(node_id: int, name, in_link, out_links=None) -> dict:
    return {
        "id": node_id,
        "type": "SetNode",
        "title": f"Set_{name}",
        "mode": 0,
        "inputs": [{"name": "TENSOR", "type": "TENSOR", "link": in_link}],
        "outputs": [{"name": "*", "type": "*", "links": out_links}],
        "widgets_values": [name],
    }


def get_node(node_id: int, name, out_links) -> dict:
    return {
        "id": node_id,
        "type": "GetNode",
        "title": f"Get_{name}",
        "mode": 0,
        "inputs": [],
        "outputs": [{"name": "TENSOR", "type": "TENSOR", "links": out_links}],
        "widgets_values": [name],
    }


def wormhole(doc: dict, link_id: int, name: str = "images", *, set_id: int = 60, get_id: int = 61) -> dict:
    """Cut link `link_id` into source → SetNode(name) and GetNode(name) → target."""
    link = next(lk for lk in doc["links"] if lk[0] == link_id)
    new_link = max(lk[0] for lk in doc["links"]) + 1
    doc["nodes"].append(set_node(set_id, name, link_id))
    doc["nodes"].append(get_node(get_id, name, [new_link]))
    node(doc, link[3])["inputs"][link[4]]["link"] = new_link
    doc["links"].append([new_link, get_id, 0, link[3], link[4], "TENSOR"])
    link[3], link[4] = set_id, 0
    return doc


def edges(result) -> set[str]:
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    return {str(e) for e in result.graph.edges}


def errors(result) -> list[tuple[str, str | None]]:
    return [(d.code, d.node_id) for d in result.errors]


def test_get_and_set_resolve_by_name_and_disappear(catalog):
    b = mnist(catalog)
    plain = edges(load_workflow(b.to_ui(named=True), catalog))
    doc = wormhole(b.to_ui(named=True), IMAGES_TO_NET_INPUT)
    doc = wormhole(doc, L1_TO_NET_OUTPUT, "layer out", set_id=62, get_id=63)
    result = load_workflow(doc, catalog)
    assert edges(result) == plain
    assert not result.diagnostics
    assert not any(n.type in ("GetNode", "SetNode") for n in result.graph)


def test_one_set_feeds_every_get_and_its_own_output(catalog):
    b = mnist(catalog)
    doc = wormhole(b.to_ui(), IMAGES_TO_NET_INPUT)
    old = node(doc, 4)["inputs"][1]["link"]
    doc["links"] = [lk for lk in doc["links"] if lk[0] != old]
    doc["nodes"].append(get_node(64, "images", [300]))
    doc["links"].append([300, 64, 0, 4, 1, "TENSOR"])
    node(doc, 4)["inputs"][1]["link"] = 300
    node(doc, 60)["outputs"][0]["links"] = [301]  # the SetNode's own output passes its input on as well
    loss = node(doc, 7)
    doc["links"] = [lk for lk in doc["links"] if lk[0] != loss["inputs"][0]["link"]]
    loss["inputs"][0]["link"] = 301
    doc["links"].append([301, 60, 0, 7, 0, "*"])
    found = edges(load_workflow(doc, catalog))
    assert {"3.images -> 4.input", "3.images -> 4.to_output", "3.images -> 7.predictions"} <= found


def test_get_without_a_matching_set(catalog):
    b = mnist(catalog)
    doc = wormhole(b.to_ui(), IMAGES_TO_NET_INPUT)
    node(doc, 61)["widgets_values"] = ["imagse"]
    result = load_workflow(doc, catalog)
    assert result.graph is None
    problem = next(d for d in result.errors if d.code == "E_WORMHOLE")
    assert (problem.node_id, problem.node_type, problem.title) == ("61", "GetNode", "Get_images")
    assert "'imagse'" in problem.message and "did you mean 'images'?" in problem.hint
    assert set(errors(result)) == {("E_WORMHOLE", "61"), ("E_REQUIRED_INPUT", "4")}


def test_nameless_get_and_set(catalog):
    b = mnist(catalog)
    doc = wormhole(b.to_ui(), IMAGES_TO_NET_INPUT)
    node(doc, 60)["widgets_values"] = [""]
    node(doc, 61)["widgets_values"] = []
    result = load_workflow(doc, catalog)
    wormholes = {d.node_id: d.message for d in result.errors if d.code == "E_WORMHOLE"}
    assert wormholes == {"60": "this SetNode has no name", "61": "this GetNode has no name"}


def test_two_sets_with_one_name(catalog):
    b = mnist(catalog)
    doc = wormhole(b.to_ui(), IMAGES_TO_NET_INPUT)
    doc = wormhole(doc, L1_TO_NET_OUTPUT, "images", set_id=62, get_id=63)
    result = load_workflow(doc, catalog)
    assert result.graph is None
    problem = next(d for d in result.errors if d.code == "E_WORMHOLE")
    assert problem.node_id == "62" and "60 and 62" in problem.message
    assert [d.code for d in result.errors].count("E_WORMHOLE") == 1


def test_loop_through_wormholes(catalog):
    b = mnist(catalog)
    doc = wormhole(b.to_ui(), IMAGES_TO_NET_INPUT)
    doc["links"] = [lk for lk in doc["links"] if lk[0] != IMAGES_TO_NET_INPUT]  # SetNode fed by its own GetNode
    node(doc, 3)["outputs"][0]["links"] = []
    node(doc, 61)["outputs"][0]["links"].append(400)
    node(doc, 60)["inputs"][0]["link"] = 400
    doc["links"].append([400, 61, 0, 60, 0, "TENSOR"])
    result = load_workflow(doc, catalog)
    assert result.graph is None
    loop = next(d for d in result.errors if d.code == "E_REROUTE_LOOP")
    assert "GetNode/SetNode" in loop.message and "60, 61" in loop.message


def test_names_are_scoped_to_their_graph_level(catalog):
    """A subgraph with its own Set/Get pair may be used twice; a GetNode does not see a SetNode of another level."""
    inner = {
        "id": "sg",
        "name": "wormhole inside",
        "inputs": [{"id": "a", "name": "x", "type": "TENSOR", "linkIds": [1]}],
        "outputs": [{"id": "b", "name": "y", "type": "TENSOR", "linkIds": [2]}],
        "nodes": [set_node(1, "inner", 1), get_node(2, "inner", [2])],
        "links": [[1, -10, 0, 1, 0, "TENSOR"], [2, 2, 0, -20, 0, "TENSOR"]],
    }

    def instance(node_id, in_link, out_link):
        return {
            "id": node_id,
            "type": "sg",
            "mode": 0,
            "inputs": [{"name": "x", "type": "TENSOR", "link": in_link}],
            "outputs": [{"name": "y", "type": "TENSOR", "links": [out_link]}],
        }

    b = mnist(catalog)
    doc = b.to_ui()
    net = node(doc, 4)
    doc["links"] = [lk for lk in doc["links"] if lk[0] not in (IMAGES_TO_NET_INPUT, L1_TO_NET_OUTPUT)]
    doc["nodes"] += [instance(70, 500, 501), instance(71, 502, 503)]
    doc["links"] += [
        [500, 3, 0, 70, 0, "TENSOR"],
        [501, 70, 0, 4, 0, "TENSOR"],
        [502, 5, 0, 71, 0, "TENSOR"],
        [503, 71, 0, 4, 1, "TENSOR"],
    ]
    net["inputs"][0]["link"], net["inputs"][1]["link"] = 501, 503
    doc["definitions"] = {"subgraphs": [inner]}
    assert {"3.images -> 4.input", "5.output -> 4.to_output"} <= edges(load_workflow(doc, catalog))

    inner["nodes"][1]["widgets_values"] = ["outer"]  # only a top-level SetNode has this name
    doc = wormhole(doc, 500, "outer", set_id=80, get_id=81)
    result = load_workflow(doc, catalog)
    assert ("E_WORMHOLE", "70:2") in errors(result) and ("E_WORMHOLE", "71:2") in errors(result)
