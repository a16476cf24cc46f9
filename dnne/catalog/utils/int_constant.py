"""IntConstant: an integer set in the editor, emitted once."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, OutputSpec, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={"value": int(node.widgets.get("value", 0))})


NODE_TYPE = NodeType(
    key="IntConstant",
    display_name="Integer Constant",
    category="dnne/constants",
    inputs=(widget("value", "INT", 0, min=-10000, max=10000),),
    outputs=(OutputSpec("INT", "INT", tooltip="the value, sent once at start"),),
    template="int_constant.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="An integer constant, sent once when the program starts.",
)
