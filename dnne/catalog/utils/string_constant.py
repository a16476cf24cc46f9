"""StringConstant: a text set in the editor, emitted once."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, OutputSpec, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={"value": str(node.widgets.get("value", ""))})


NODE_TYPE = NodeType(
    key="StringConstant",
    display_name="String Constant",
    category="dnne/constants",
    inputs=(widget("value", "STRING", ""),),
    outputs=(OutputSpec("STRING", "STRING", tooltip="the text, sent once at start"),),
    template="string_constant.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="A text constant, sent once when the program starts.",
)
