"""NPZDataset: arrays from a numpy .npz archive (read without pickle) as train/test tensors on the device."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.data.mnist_dataset import DATA_CATEGORY, dataset_outputs
from dnne.catalog.spec import DataSource, ExportContext, NodeExport, NodeType, widget
from dnne.workflow.model import GraphNode

NPZ_DATA = DataSource(
    name="NPZ arrays",
    path_widget="file_path",
    reads="the file named by `file_path`; a relative path is taken under `--data-dir DIR` when given, else under "
    "the folder the runner is started from",
    steps=(
        "put a numpy `.npz` archive there holding the arrays named by `x_key` and `y_key` (and, for a test split, "
        "`x_test_key` and `y_test_key`); it is read without pickle, so object arrays are refused. Nothing is "
        "downloaded",
    ),
)


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    return NodeExport(
        params={
            "file_path": str(w["file_path"]),
            "x_key": str(w["x_key"]),
            "y_key": str(w["y_key"]),
            "x_test_key": str(w["x_test_key"]) or None,
            "y_test_key": str(w["y_test_key"]) or None,
            "normalize": bool(w["normalize"]),
            "channels_last": bool(w["channels_last"]),
            "train": bool(w["train"]),
        }
    )


NODE_TYPE = NodeType(
    key="NPZDataset",
    display_name="NPZ Dataset",
    category=DATA_CATEGORY,
    inputs=(
        widget("file_path", "STRING", "./data/data.npz", tooltip="a .npz archive (relative to --data-dir)"),
        widget("x_key", "STRING", "x_train"),
        widget("y_key", "STRING", "y_train"),
        widget("x_test_key", "STRING", "x_test", tooltip="empty or absent: no test split"),
        widget("y_test_key", "STRING", "y_test"),
        widget("normalize", "BOOLEAN", False, tooltip="standardise with the train split's mean/std"),
        widget("channels_last", "BOOLEAN", False, tooltip="images stored as [N, H, W, C]"),
        widget("train", "BOOLEAN", True, tooltip="batches come from the training split (else the test split)"),
    ),
    outputs=dataset_outputs(),
    template="npz_dataset.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    data_source=NPZ_DATA,
    description="Arrays from a .npz archive: inputs and integer labels, with an optional test split.",
)
