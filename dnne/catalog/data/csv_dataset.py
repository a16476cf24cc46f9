"""CSVDataset: a table of numeric features and a label column, split into train/test, as tensors on the device."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.data.mnist_dataset import DATA_CATEGORY, dataset_outputs
from dnne.catalog.spec import DataSource, ExportContext, NodeExport, NodeType, combo, widget
from dnne.workflow.model import GraphNode

CSV_DATA = DataSource(
    name="CSV table",
    path_widget="file_path",
    reads="the file named by `file_path`; a relative path is taken under `--data-dir DIR` when given, else under "
    "the folder the runner is started from",
    steps=(
        "put a `.csv` or `.csv.gz` file there: numeric feature columns and one label column (`label_column`: an index, "
        "-1 = last, or a header name; labels are class indices or names). Nothing is downloaded",
    ),
)


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    label = str(w["label_column"]).strip()
    try:
        label_column: int | str = int(label)
    except ValueError:
        label_column = label
    if label_column == "":
        ctx.error(
            "E_BAD_VALUE",
            "label_column is empty",
            **node.where(),
            field="label_column",
            hint="a column index (-1 = last) or a header name",
        )
    header = {"auto": None, "yes": True, "no": False}[w["has_header"]]
    return NodeExport(
        params={
            "file_path": str(w["file_path"]),
            "label_column": label_column,
            "has_header": header,
            "test_fraction": float(w["test_fraction"]),
            "split_seed": int(w["split_seed"]),
            "normalize": bool(w["normalize"]),
            "train": bool(w["train"]),
        }
    )


NODE_TYPE = NodeType(
    key="CSVDataset",
    display_name="CSV Dataset",
    category=DATA_CATEGORY,
    inputs=(
        widget("file_path", "STRING", "./data/train.csv", tooltip="a .csv or .csv.gz file (relative to --data-dir)"),
        widget("label_column", "STRING", "-1", tooltip="column index (-1 = last) or header name of the labels"),
        combo("has_header", ("auto", "yes", "no"), "auto"),
        widget("test_fraction", "FLOAT", 0.2, min=0.0, max=0.9, step=0.05, tooltip="held out as the test split"),
        widget("split_seed", "INT", 0, min=0, max=2**31 - 1, tooltip="seed of the train/test split"),
        widget("normalize", "BOOLEAN", True, tooltip="standardise each feature with the train split's mean/std"),
        widget("train", "BOOLEAN", True, tooltip="batches come from the training split (else the test split)"),
    ),
    outputs=dataset_outputs(),
    template="csv_dataset.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    data_source=CSV_DATA,
    description="A CSV table: numeric feature columns and one label column (class indices or names).",
)
