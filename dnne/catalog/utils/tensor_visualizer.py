"""TensorVisualizer: writes each tensor it receives as a PNG picture into the run folder."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import GraphNode

MAX_FILES = 100  # numbered pictures per node; later ones overwrite `<node>_latest.png` (editable in config.json)


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    # `title` is the QueueNode constructor's own argument, so the widget travels as `caption`.
    return NodeExport(params={"caption": str(node.widgets.get("title", "Tensor")), "max_files": MAX_FILES})


NODE_TYPE = NodeType(
    key="TensorVisualizer",
    display_name="Tensor Visualizer",
    category="dnne/debug",
    inputs=(
        socket(
            "tensor",
            "TENSOR",
            tooltip="an image batch ([N,C,H,W] or [N,H,W,C]), flattened images, a matrix or a vector",
        ),
        widget("title", "STRING", "Tensor"),
    ),
    outputs=(OutputSpec("visualization", "IMAGE", tooltip="the picture as a [1, H, W, 3] float tensor in [0, 1]"),),
    template="tensor_visualizer.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Writes each tensor it receives as a PNG (an image grid or a gray map) into <run dir>/visualizations.",
    output_node=True,
    is_sink=True,
)
