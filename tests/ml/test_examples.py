"""The example workflows: saved like the ComfyUI frontend saves them, up to date, and valid."""

from __future__ import annotations

import json

import pytest

from dnne.workflow.load import load_workflow
from tests.ml.helpers import EXAMPLES
from tests.ml.make_examples import examples

NAMES = ["mnist_mlp.json", "mnist_cnn.json", "fashion_mnist_cnn.json"]


@pytest.mark.parametrize("name", NAMES)
def test_example_is_up_to_date(name):
    saved = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    assert saved == examples()[name].to_dict(), "regenerate with: python tests/ml/make_examples.py"


@pytest.mark.parametrize("name", NAMES)
def test_example_loads_without_diagnostics(name):
    loaded = load_workflow(EXAMPLES / name)
    assert loaded.graph is not None
    assert [d.format() for d in loaded.diagnostics] == []


def test_mnist_mlp_keeps_the_original_wiring_plus_evaluate():
    saved = json.loads((EXAMPLES / "mnist_mlp.json").read_text(encoding="utf-8"))
    assert saved["version"] == 0.4 and "ds" in saved["extra"]
    nodes = {n["id"]: n for n in saved["nodes"]}
    names = {
        (nodes[src]["type"], nodes[src]["outputs"][o]["name"], nodes[dst]["type"], nodes[dst]["inputs"][i]["name"])
        for _, src, o, dst, i, _ in saved["links"]
    }
    original = {
        ("MNISTDataset", "dataset", "BatchSampler", "dataset"),
        ("MNISTDataset", "schema", "BatchSampler", "schema"),
        ("BatchSampler", "dataloader", "GetBatch", "dataloader"),
        ("BatchSampler", "schema", "GetBatch", "schema"),
        ("TrainingStep", "ready", "GetBatch", "trigger"),
        ("GetBatch", "images", "Network", "input"),
        ("GetBatch", "labels", "CrossEntropyLoss", "labels"),
        ("GetBatch", "epoch_stats", "EpochTracker", "epoch_stats"),
        ("Network", "output", "CrossEntropyLoss", "predictions"),
        ("CrossEntropyLoss", "loss", "TrainingStep", "loss"),
        ("CrossEntropyLoss", "loss", "EpochTracker", "loss"),
        ("CrossEntropyLoss", "accuracy", "EpochTracker", "accuracy"),
        ("AdamOptimizer", "optimizer", "TrainingStep", "optimizer"),
        ("Network", "model", "AdamOptimizer", "network"),
        ("Network", "layers", "LinearLayer", "input"),
        ("Network", "model", "Evaluate", "model"),
        ("MNISTDataset", "dataset", "Evaluate", "dataset"),
    }
    assert original <= names
    sampler = next(n for n in saved["nodes"] if n["type"] == "BatchSampler")
    # the frontend stores control_after_generate right after the INT named seed
    assert sampler["widgets_values"] == [64, True, 1, "fixed", False]
    assert sampler["widgets_values_named"]["control_after_generate"] == "fixed"
    widget_inputs = [i["name"] for i in sampler["inputs"] if "widget" in i]
    assert widget_inputs == ["batch_size", "shuffle", "seed", "drop_last"]
