"""FashionMNISTDataset: Zalando's Fashion-MNIST (same shape and API as MNIST), loaded once and kept on the device."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.data.mnist_dataset import (
    DATA_CATEGORY,
    FASHION_MNIST_DATA,
    dataset_inputs,
    dataset_outputs,
    export,
)
from dnne.catalog.spec import NodeType

NODE_TYPE = NodeType(
    key="FashionMNISTDataset",
    display_name="Fashion-MNIST Dataset",
    category=DATA_CATEGORY,
    inputs=dataset_inputs(),
    outputs=dataset_outputs(),
    template="fashion_mnist_dataset.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    data_source=FASHION_MNIST_DATA,
    description="Fashion-MNIST clothing images (60,000 train / 10,000 test, 1×28×28, 10 classes), normalised.",
)
