"""FloatConstant: a number set in the editor, emitted once."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, OutputSpec, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={"value": float(node.widgets.get("value", 0.0))})


NODE_TYPE = NodeType(
    key="FloatConstant",
    display_name="Float Constant",
    category="dnne/constants",
    inputs=(widget("value", "FLOAT", 0.0, min=-10000.0, max=10000.0),),
    outputs=(OutputSpec("FLOAT", "FLOAT", tooltip="the value, sent once at start"),),
    template="float_constant.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="A floating-point constant, sent once when the program starts.",
)
