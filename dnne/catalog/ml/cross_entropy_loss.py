"""CrossEntropyLoss: classification loss of a batch, and the batch accuracy."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={"label_smoothing": float(node.widgets.get("label_smoothing", 0.0))})


NODE_TYPE = NodeType(
    key="CrossEntropyLoss",
    display_name="Cross Entropy Loss",
    category="ml/training",
    inputs=(
        socket("predictions", "TENSOR", tooltip="logits [batch, classes] (Network.output)"),
        socket("labels", "TENSOR", tooltip="class indices [batch] (GetBatch.labels)"),
        widget("label_smoothing", "FLOAT", 0.0, required=False, min=0.0, max=0.5, step=0.01),
    ),
    outputs=(OutputSpec("loss", "TENSOR"), OutputSpec("accuracy", "FLOAT", tooltip="fraction correct in the batch")),
    template="cross_entropy_loss.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Cross-entropy of logits against class labels, plus the batch accuracy.",
)
