"""Evaluate: loss and accuracy of the model on a held-out split, at each epoch end (or every N steps); with
`--inference`, one evaluation of the loaded model and the run ends."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, InputMode, NodeExport, NodeType, combo, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    return NodeExport(
        params={"split": str(w["split"]), "batch_size": int(w["batch_size"]), "every_n_steps": int(w["every_n_steps"])}
    )


NODE_TYPE = NodeType(
    key="Evaluate",
    display_name="Evaluate",
    category="ml/training",
    inputs=(
        socket("model", "MODEL", mode=InputMode.STICKY, tooltip="Network.model"),
        socket("dataset", "DATASET", mode=InputMode.STICKY, tooltip="the dataset node (its test split is used)"),
        combo("split", ("test", "train"), "test"),
        widget("batch_size", "INT", 1000, min=1, max=65536),
        widget("every_n_steps", "INT", 0, min=0, max=10**9, tooltip="0 = at the end of each epoch only"),
    ),
    outputs=(),
    template="evaluate.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Evaluates the model on the test split after the last step of each epoch (weights as trained so far).",
    output_node=True,
    is_sink=True,
)
