"""Writes examples/mnist_mlp.json, examples/mnist_cnn.json and examples/fashion_mnist_cnn.json.

Run from the repository root: `python tests/ml/make_examples.py`. `test_examples.py` checks that the committed files
are what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ml.ui_workflow import UIWorkflow, supervised_workflow  # noqa: E402

MLP_LAYERS = [
    ("LinearLayer", {"output_size": 256, "activation": "none"}),
    ("BatchNorm", {}),
    ("Activation", {"activation": "relu"}),
    ("LinearLayer", {"output_size": 128, "activation": "none"}),
    ("BatchNorm", {}),
    ("Activation", {"activation": "relu"}),
    ("LinearLayer", {"output_size": 10, "activation": "none"}),
]
CNN_LAYERS = [
    ("Conv2DLayer", {"out_channels": 32, "kernel_size": 3, "padding": 1, "activation": "none"}),
    ("BatchNorm", {}),
    ("Activation", {"activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2, "stride": 2}),
    ("Conv2DLayer", {"out_channels": 64, "kernel_size": 3, "padding": 1, "activation": "none"}),
    ("BatchNorm", {}),
    ("Activation", {"activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2, "stride": 2}),
    ("Flatten", {}),
    ("LinearLayer", {"output_size": 128, "activation": "relu", "dropout": 0.25}),
    ("LinearLayer", {"output_size": 10, "activation": "none"}),
]
ADAM = ("AdamOptimizer", {"learning_rate": 0.001})


def one_cycle(epochs: int) -> dict:
    """Warm up to 3e-3, then anneal: the CNNs reach their accuracy in few epochs."""
    return {"schedule": "one_cycle", "epochs": epochs, "max_lr": 0.003}


# Fixed, distinct workflow ids (the ids the saved examples carry).
WORKFLOW_IDS = {
    "mnist_mlp.json": "ec266dc3-6b27-598f-b573-b8e6c7c855c6",
    "mnist_cnn.json": "f749e8d3-c6db-5ece-9e6a-18fbf5ef81df",
    "fashion_mnist_cnn.json": "78f81f69-e68d-5e68-9acd-2c275461b5a7",
}


def examples() -> dict[str, UIWorkflow]:
    workflows = {
        "mnist_mlp.json": supervised_workflow(MLP_LAYERS, optimizer=ADAM, batch_size=64, max_epochs=2),
        "mnist_cnn.json": supervised_workflow(
            CNN_LAYERS, optimizer=ADAM, batch_size=64, max_epochs=3, schedule=one_cycle(3)
        ),
        "fashion_mnist_cnn.json": supervised_workflow(
            CNN_LAYERS,
            dataset="FashionMNISTDataset",
            optimizer=ADAM,
            batch_size=64,
            max_epochs=5,
            schedule=one_cycle(5),
        ),
    }
    for name, workflow in workflows.items():
        workflow.workflow_id = WORKFLOW_IDS[name]
    return workflows


if __name__ == "__main__":
    for name, wf in examples().items():
        print(wf.save(ROOT / "examples" / name))
