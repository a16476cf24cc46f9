"""Hostile-but-small workflows for the loader's budgets: a nested-subgraph expansion bomb and 200k-long reroute chains.

Shared by tests/workflow/test_loader_budget.py and bench/loader_budget.py.
"""

from __future__ import annotations

from typing import Any

LINEAR = [128, True, "relu", 0.0]


def _link(link_id: int, src: int, src_slot: int, dst: int, dst_slot: int, link_type: str = "TENSOR") -> list:
    return [link_id, src, src_slot, dst, dst_slot, link_type]


def _chain_definition(key: str, inner_type: str, fanout: int) -> dict[str, Any]:
    """A subgraph x → inner → inner → … (`fanout` instances of `inner_type` in a row) → y."""
    nodes = []
    links = [_link(1, -10, 0, 1, 0)]
    for i in range(1, fanout + 1):
        out_link = i + 1
        nodes.append(
            {
                "id": i,
                "type": inner_type,
                "mode": 0,
                "inputs": [{"name": "input" if inner_type == "LinearLayer" else "x", "type": "TENSOR", "link": i}],
                "outputs": [
                    {"name": "output" if inner_type == "LinearLayer" else "y", "type": "TENSOR", "links": [out_link]}
                ],
                "widgets_values": LINEAR if inner_type == "LinearLayer" else [],
            }
        )
        links.append(_link(out_link, i, 0, i + 1 if i < fanout else -20, 0))
    return {
        "id": key,
        "name": key,
        "version": 1,
        "inputs": [{"id": "in", "name": "x", "type": "TENSOR", "linkIds": [1]}],
        "outputs": [{"id": "out", "name": "y", "type": "TENSOR", "linkIds": [fanout + 1]}],
        "nodes": nodes,
        "links": links,
    }


def expansion_bomb(levels: int = 7, fanout: int = 10) -> dict[str, Any]:
    """`levels` nested definitions, each a chain of `fanout` instances of the one below: fanout**levels LinearLayers
    and about as many links after flattening, from a file of a few kB."""
    definitions = [_chain_definition("level-0", "LinearLayer", fanout)]
    for k in range(1, levels):
        definitions.append(_chain_definition(f"level-{k}", f"level-{k - 1}", fanout))
    top = definitions[-1]["id"]
    return {
        "version": 0.4,
        "nodes": [
            {
                "id": 1,
                "type": top,
                "mode": 0,
                "inputs": [{"name": "x", "type": "TENSOR", "link": None}],
                "outputs": [{"name": "y", "type": "TENSOR", "links": []}],
                "widgets_values": [],
            }
        ],
        "links": [],
        "definitions": {"subgraphs": definitions},
    }


def expanded_leaf_count(levels: int, fanout: int) -> int:
    return fanout**levels


def native_reroute_chain(n: int = 200_000, *, loop: bool = False) -> dict[str, Any]:
    """A tiny valid-looking workflow whose `extra.reroutes` is a parentId chain of `n` native reroutes (the last
    pointing back at the first when `loop`)."""
    reroutes = [{"id": i, "parentId": i + 1, "pos": [0, 0], "linkIds": []} for i in range(1, n)]
    reroutes.append({"id": n, "pos": [0, 0], "linkIds": []} | ({"parentId": 1} if loop else {}))
    return {"version": 0.4, "nodes": [], "links": [], "extra": {"reroutes": reroutes}}


def reroute_node_chain(n: int = 200_000, *, loop: bool = False) -> dict[str, Any]:
    """Reroute *nodes* 1…n in a row (each fed by the previous; node 1 by node n when `loop`) into a LinearLayer
    (node n + 1), whose input therefore traces back through all n reroutes."""
    nodes = []
    links = []
    for i in range(1, n + 1):
        into = i - 1 if i > 1 else (n if loop else None)
        outs = [i + 1] + ([1] if loop and i == n else [])
        nodes.append(
            {
                "id": i,
                "type": "Reroute",
                "mode": 0,
                "inputs": [{"name": "", "type": "*", "link": i if into is not None else None}],
                "outputs": [{"name": "", "type": "*", "links": outs}],
            }
        )
        if into is not None:
            links.append(_link(i, into, 0, i, 0, "*"))
    nodes.append(
        {
            "id": n + 1,
            "type": "LinearLayer",
            "mode": 0,
            "inputs": [{"name": "input", "type": "TENSOR", "link": n + 1}],
            "outputs": [{"name": "output", "type": "TENSOR", "links": []}],
            "widgets_values": LINEAR,
        }
    )
    links.append(_link(n + 1, n, 0, n + 1, 0, "*"))
    return {"version": 0.4, "nodes": nodes, "links": links}
