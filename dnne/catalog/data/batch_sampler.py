"""BatchSampler: turns a dataset into an endless, resumable stream of shuffled batches (tensor indexing, no DataLoader)."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.data.mnist_dataset import DATA_CATEGORY
from dnne.catalog.spec import ExportContext, InputMode, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    return NodeExport(
        params={
            "batch_size": int(w["batch_size"]),
            "shuffle": bool(w["shuffle"]),
            "seed": int(w["seed"]),
            "drop_last": bool(w.get("drop_last", False)),
        }
    )


NODE_TYPE = NodeType(
    key="BatchSampler",
    display_name="Batch Sampler",
    category=DATA_CATEGORY,
    inputs=(
        socket("dataset", "DATASET", mode=InputMode.STICKY),
        socket("schema", "SCHEMA", mode=InputMode.STICKY),
        widget("batch_size", "INT", 32, min=1, max=65536),
        widget("shuffle", "BOOLEAN", True, tooltip="a new random order every epoch"),
        widget("seed", "INT", -1, min=-1, max=2**63 - 1, tooltip="-1 = random (derived from --seed when given)"),
        widget("drop_last", "BOOLEAN", False, required=False, tooltip="skip the last, smaller batch of each epoch"),
    ),
    outputs=(OutputSpec("dataloader", "DATALOADER"), OutputSpec("schema", "SCHEMA")),
    template="batch_sampler.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Batches over the dataset's split: one permutation per epoch from its own seeded generator.",
)
