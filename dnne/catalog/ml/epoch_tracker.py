"""EpochTracker: exact per-epoch train loss/accuracy, the progress bar, and the end of training after max_epochs."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import WILDCARD, ExportContext, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={"max_epochs": int(node.widgets.get("max_epochs", 10))})


NODE_TYPE = NodeType(
    key="EpochTracker",
    display_name="Epoch Tracker",
    category="ml/training",
    inputs=(
        socket("epoch_stats", "DICT", tooltip="GetBatch.epoch_stats"),
        socket("loss", "TENSOR"),
        socket("accuracy", WILDCARD, tooltip="the batch accuracy (CrossEntropyLoss.accuracy)"),
        widget("max_epochs", "INT", 10, required=False, min=1, max=100000, tooltip="--epochs overrides it"),
    ),
    outputs=(OutputSpec("training_summary", "DICT", tooltip="train metrics of each finished epoch"),),
    template="epoch_tracker.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Averages loss and accuracy over exactly each epoch's batches; one metrics record per epoch; "
    "stops the run after max_epochs.",
    is_sink=True,
)
