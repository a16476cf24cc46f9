"""EarlyStopping: ends training when a monitored epoch metric has not improved for `patience` epochs."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, combo, socket, widget
from dnne.workflow.model import GraphNode

MONITORED = ("test_loss", "test_accuracy", "train_loss", "train_accuracy")


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    return NodeExport(
        params={"monitor": str(w["monitor"]), "patience": int(w["patience"]), "min_delta": float(w["min_delta"])}
    )


NODE_TYPE = NodeType(
    key="EarlyStopping",
    display_name="Early Stopping",
    category="ml/training",
    inputs=(
        socket("training_summary", "DICT", tooltip="EpochTracker.training_summary (the tracker it watches)"),
        combo("monitor", MONITORED, "test_loss", tooltip="losses must fall, accuracies rise"),
        widget("patience", "INT", 3, min=1, max=100000, tooltip="epochs without improvement before stopping"),
        widget("min_delta", "FLOAT", 0.0, min=0.0, max=1.0, step=0.0001, tooltip="smallest change that counts"),
    ),
    outputs=(),
    template="early_stopping.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Stops after `patience` epochs without improvement of the monitored metric (the run ends after "
    "that epoch's last step and checkpoint).",
    output_node=True,
    is_sink=True,
)
