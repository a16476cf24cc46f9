"""A test-only node pack: FaultTap, a TENSOR pass-through that injects one fault into an exported runner."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from dnne.catalog.registry import Catalog, default_catalog
from dnne.catalog.spec import NodeType, OutputSpec, combo, socket, widget

HERE = Path(__file__).parent
ACTIONS = ("none", "raise", "stall", "hang", "sigint", "sigterm", "marker", "slow_save")

FAULT_TAP = NodeType(
    key="FaultTap",
    display_name="Fault Tap (tests)",
    category="tests",
    inputs=(
        socket("x", "TENSOR"),
        combo("action", ACTIONS, "none"),
        widget("at", "INT", 0, min=0),
        widget("delay_ms", "INT", 0, min=0),
        widget("save_delay_ms", "INT", 0, min=0),
        widget("marker", "STRING", ""),
        widget("rss_every", "INT", 0, min=0),
    ),
    outputs=(OutputSpec("y", "TENSOR"),),
    template="fault_tap.py.jinja",
    template_dir=HERE,
)
TAP_ID = "17"
TAP_DEFAULTS = {w.name: w.default for w in FAULT_TAP.widgets}


def fault_catalog() -> Catalog:
    """The built-in catalog plus FaultTap."""
    return Catalog([*default_catalog(), FAULT_TAP])


def with_fault_tap(workflow: dict[str, Any], src: int, output: str, dst: int, input_name: str) -> dict[str, Any]:
    """A copy of a UI-format workflow with a FaultTap spliced into the link `src.output → dst.input_name`."""
    wf = copy.deepcopy(workflow)
    nodes = {n["id"]: n for n in wf["nodes"]}
    link = next(
        lk
        for lk in wf["links"]
        if lk[1] == src
        and nodes[src]["outputs"][lk[2]]["name"] == output
        and lk[3] == dst
        and nodes[dst]["inputs"][lk[4]]["name"] == input_name
    )
    tap_id, new_link = int(TAP_ID), wf["last_link_id"] + 1
    dst_slot = link[4]
    link[3], link[4] = tap_id, 0  # the old link now ends at the tap
    wf["links"].append([new_link, tap_id, 0, dst, dst_slot, "TENSOR"])
    nodes[dst]["inputs"][dst_slot]["link"] = new_link
    wf["nodes"].append(
        {
            "id": tap_id,
            "type": "FaultTap",
            "title": "Fault Tap",
            "pos": [0, 0],
            "size": [200, 80],
            "flags": {},
            "order": len(wf["nodes"]),
            "mode": 0,
            "inputs": [{"name": "x", "type": "TENSOR", "link": link[0]}],
            "outputs": [{"name": "y", "type": "TENSOR", "links": [new_link], "slot_index": 0}],
            "properties": {},
            "widgets_values": list(TAP_DEFAULTS.values()),
        }
    )
    wf["last_node_id"] = max(wf["last_node_id"], tap_id)
    wf["last_link_id"] = new_link
    return wf
