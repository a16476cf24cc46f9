"""PrintValue: prints every value it receives (tensors summarised) and passes it on."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import WILDCARD, ExportContext, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={"prefix": str(node.widgets.get("prefix", "Value:"))})


NODE_TYPE = NodeType(
    key="PrintValue",
    display_name="Print Value",
    category="dnne/debug",
    inputs=(
        socket("value", WILDCARD, tooltip="any value; tensors print as shape, dtype and statistics"),
        widget("prefix", "STRING", "Value:"),
    ),
    outputs=(OutputSpec("value", WILDCARD, tooltip="the same value, passed through"),),
    template="print_value.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Prints each value it receives, after a prefix, and passes the value on.",
    output_node=True,
    is_sink=True,
)
