"""A small node pack used by the codegen, golden and CLI tests (real templates, real runtime)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import InputMode, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import Edge, Graph, GraphNode

HERE = Path(__file__).parent


def _bundle_export(node: GraphNode, ctx: Any) -> NodeExport:
    """Absorb the chain of TestLayer nodes feeding `layers` (layer → layer → … → bundle)."""
    sizes, absorbed = [], []
    current = ctx.graph.source_of(node.id, "layers")
    while current is not None and current.type == "TestLayer" and current.id not in absorbed:
        absorbed.append(current.id)
        sizes.append(current.widgets["size"])
        current = ctx.graph.source_of(current.id, "prev")
    if not sizes:
        ctx.warn("W_EMPTY_BUNDLE", "the bundle has no layers", field="layers")
    return NodeExport(params={"sizes": sizes[::-1]}, absorbs=tuple(absorbed))


TYPES = (
    NodeType(
        key="TestCounter",
        display_name="Test Counter",
        category="test",
        inputs=(widget("count", "INT", 3, min=0, max=1000), widget("label", "STRING", "counter")),
        outputs=(OutputSpec("value", "NUMBER"),),
        template="counter.py.jinja",
        template_dir=HERE,
    ),
    NodeType(
        key="TestScale",
        display_name="Test Scale",
        category="test",
        inputs=(socket("x", "NUMBER"), widget("factor", "FLOAT", 2.0)),
        outputs=(OutputSpec("y", "NUMBER"),),
        template="scale.py.jinja",
        template_dir=HERE,
        type_vars=lambda nodes: {"limit": 10.0 * len(nodes)},
        requirements=("tqdm>=4",),
    ),
    NodeType(
        key="TestCollect",
        display_name="Test Collect",
        category="test",
        inputs=(
            socket("x", "NUMBER"),
            widget("expect", "INT", 3, min=1),
            widget("name", "STRING", "collect"),
            socket("extra", "NUMBER", required=False, mode=InputMode.STICKY),
        ),
        outputs=(),
        template="collect.py.jinja",
        template_dir=HERE,
        is_sink=True,
        output_node=True,
        requirements=("tqdm>=4", "rich>=13"),
    ),
    NodeType(
        key="TestLayer",
        display_name="Test Layer",
        category="test",
        inputs=(widget("size", "INT", 8, min=1), socket("prev", "LAYER", required=False)),
        outputs=(OutputSpec("layer", "LAYER"),),
        template="layer.py.jinja",
        template_dir=HERE,
    ),
    NodeType(
        key="TestBundle",
        display_name="Test Bundle",
        category="test",
        inputs=(socket("layers", "LAYER", required=False, mode=InputMode.STICKY),),
        outputs=(OutputSpec("total", "NUMBER"),),
        template="bundle.py.jinja",
        template_dir=HERE,
        exporter=_bundle_export,
    ),
)


def pack_catalog() -> Catalog:
    return Catalog(TYPES)


def make_graph(
    nodes: list[tuple[str, str, str, dict[str, Any]]],
    edges: list[tuple[str, str, str, str]],
    name: str = "test",
    catalog: Catalog | None = None,
) -> Graph:
    """A validated-shape Graph: nodes as (id, type, title, widgets), missing widgets take their defaults."""
    catalog = catalog or pack_catalog()
    graph = Graph(name=name)
    for node_id, type_key, title, widgets in nodes:
        spec = catalog.get(type_key)
        assert spec is not None, type_key
        values = {w.name: w.default for w in spec.widgets} | widgets
        graph.nodes[node_id] = GraphNode(node_id, spec, title, values)
    for src, out, dst, inp in edges:
        graph.edges.append(Edge(src, out, dst, inp))
    return graph


def chain_graph(name: str = "chain", count: int = 3, title: str = "Collect") -> Graph:
    """counter → scale → collect, plus a bundle (absorbing two layers) feeding collect.extra."""
    return make_graph(
        [
            ("1", "TestCounter", "Counter", {"count": count}),
            ("2", "TestScale", "Scale", {"factor": 0.5}),
            ("3", "TestCollect", title, {"expect": count}),
            ("4", "TestLayer", "L1", {"size": 4}),
            ("5", "TestLayer", "L2", {"size": 6}),
            ("6", "TestBundle", "Bundle", {}),
        ],
        [
            ("1", "value", "2", "x"),
            ("2", "y", "3", "x"),
            ("4", "layer", "5", "prev"),
            ("5", "layer", "6", "layers"),
            ("6", "total", "3", "extra"),
        ],
        name=name,
    )


def ui_workflow(
    nodes: list[tuple[int, str, str, list[Any]]],
    edges: list[tuple[int, str, int, str]],
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """A ComfyUI UI-format (0.4) workflow: nodes as (id, type, title, widgets_values), edges by socket names."""
    catalog = catalog or pack_catalog()
    links = []
    doc_nodes = []
    by_id = {n[0]: n for n in nodes}
    for link_id, (src, out, dst, inp) in enumerate(edges, start=1):
        src_spec, dst_spec = catalog.get(by_id[src][1]), catalog.get(by_id[dst][1])
        out_slot = [o.name for o in src_spec.outputs].index(out)
        in_slot = [s.name for s in dst_spec.sockets].index(inp)
        links.append([link_id, src, out_slot, dst, in_slot, src_spec.outputs[out_slot].type])
    for order, (node_id, type_key, title, widgets) in enumerate(nodes):
        spec = catalog.get(type_key)
        inputs = []
        outputs = []
        if spec is not None:
            for slot, sock in enumerate(spec.sockets):
                link = next((link[0] for link in links if link[3] == node_id and link[4] == slot), None)
                inputs.append({"name": sock.name, "type": sock.type, "link": link})
            for slot, out in enumerate(spec.outputs):
                ids = [link[0] for link in links if link[1] == node_id and link[2] == slot]
                outputs.append({"name": out.name, "type": out.type, "links": ids, "slot_index": slot})
        doc_nodes.append(
            {
                "id": node_id,
                "type": type_key,
                "title": title,
                "pos": [100 * order, 100],
                "size": [200, 80],
                "flags": {},
                "order": order,
                "mode": 0,
                "inputs": inputs,
                "outputs": outputs,
                "properties": {},
                "widgets_values": widgets,
            }
        )
    return {
        "last_node_id": max((n[0] for n in nodes), default=0),
        "last_link_id": len(links),
        "nodes": doc_nodes,
        "links": links,
        "groups": [],
        "config": {},
        "extra": {},
        "version": 0.4,
    }


def chain_workflow(count: int = 3, label: str = "counter", name: str = "collect", title: str = "Collect") -> dict:
    """The UI-format twin of `chain_graph`."""
    return ui_workflow(
        [
            (1, "TestCounter", "Counter", [count, label]),
            (2, "TestScale", "Scale", [0.5]),
            (3, "TestCollect", title, [count, name]),
            (4, "TestLayer", "L1", [4]),
            (5, "TestLayer", "L2", [6]),
            (6, "TestBundle", "Bundle", []),
        ],
        [
            (1, "value", 2, "x"),
            (2, "y", 3, "x"),
            (4, "layer", 5, "prev"),
            (5, "layer", 6, "layers"),
            (6, "total", 3, "extra"),
        ],
    )
