"""GetBatch: hands out the next batch each time it is triggered (TrainingStep.ready closes the loop)."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.data.mnist_dataset import DATA_CATEGORY
from dnne.catalog.spec import ExportContext, InputMode, NodeExport, NodeType, OutputSpec, socket
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(params={})


NODE_TYPE = NodeType(
    key="GetBatch",
    display_name="Get Batch",
    category=DATA_CATEGORY,
    inputs=(
        socket("dataloader", "DATALOADER", mode=InputMode.STICKY),
        socket("schema", "SCHEMA", mode=InputMode.STICKY),
        socket("trigger", "SYNC", mode=InputMode.TRIGGER, tooltip="one batch per token (TrainingStep.ready)"),
    ),
    outputs=(
        OutputSpec("images", "TENSOR"),
        OutputSpec("labels", "TENSOR"),
        OutputSpec("epoch_complete", "BOOLEAN", tooltip="true on the last batch of each epoch"),
        OutputSpec("epoch_stats", "DICT", tooltip="epoch, batch, batches_per_epoch, step, samples, epoch_complete"),
    ),
    template="get_batch.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Emits the next batch per trigger. The last batch of an epoch is flagged epoch_complete (exact epochs).",
)
