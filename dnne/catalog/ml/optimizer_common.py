"""Shared by the optimizer node types: the MODEL → OPTIMIZER shape and the widgets → params mapping."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, InputMode, InputSpec, NodeExport, NodeType, OutputSpec, socket
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    params = {}
    for name, value in node.widgets.items():
        params[name] = bool(value) if isinstance(value, bool) else float(value)
    return NodeExport(params=params)


def optimizer_node_type(
    key: str, display_name: str, widgets: tuple[InputSpec, ...], template: str, module_file: str, description: str
) -> NodeType:
    return NodeType(
        key=key,
        display_name=display_name,
        category="ml/training",
        inputs=(socket("network", "MODEL", mode=InputMode.STICKY, tooltip="Network.model"), *widgets),
        outputs=(OutputSpec("optimizer", "OPTIMIZER"),),
        template=template,
        template_dir=Path(module_file).parent,
        exporter=export,
        description=description,
    )
