"""SaveCheckpoint: asks for a checkpoint of the whole graph every N-th value it receives."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import WILDCARD, ExportContext, NodeExport, NodeType, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    tag = str(node.widgets["tag"]).strip()
    if not tag or not all(c.isalnum() or c in "-_." for c in tag):
        ctx.error("E_BAD_VALUE", f"tag {tag!r} must be letters, digits, '-', '_' or '.'", **node.where(), field="tag")
    return NodeExport(params={"every_n": int(node.widgets["every_n"]), "tag": tag})


NODE_TYPE = NodeType(
    key="SaveCheckpoint",
    display_name="Save Checkpoint",
    category="ml/training",
    inputs=(
        socket(
            "trigger", WILDCARD, tooltip="any value, e.g. EpochTracker.training_summary or TrainingStep.step_complete"
        ),
        widget("every_n", "INT", 1, min=1, max=10**9, tooltip="checkpoint on every N-th value"),
        widget("tag", "STRING", "manual", tooltip="recorded as the checkpoint's reason"),
    ),
    outputs=(),
    template="save_checkpoint.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Requests a checkpoint (all nodes' state, written at the next step boundary) every N-th trigger.",
    output_node=True,
    is_sink=True,
)
