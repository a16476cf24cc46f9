"""Every data/ml node type: registered, keeps the original editor's widget order, renders a class that matches its
spec, and exports inside a small workflow."""

from __future__ import annotations

import ast

import pytest

import dnne.catalog.data as data_pack
import dnne.catalog.ml as ml_pack
from dnne.catalog.registry import default_catalog
from dnne.codegen.checks import check_classes
from dnne.codegen.export import build_export
from dnne.codegen.render import render_node_class
from dnne.workflow.load import load_workflow
from tests.ml.ui_workflow import UIWorkflow, supervised_workflow

TYPES = list(data_pack.NODE_TYPES) + list(ml_pack.NODE_TYPES)

# original DNNE widget order (reference §2.1); new widgets may only be appended
ORIGINAL_WIDGETS = {
    "MNISTDataset": ["data_path", "train", "download"],
    "BatchSampler": ["batch_size", "shuffle", "seed"],
    "Network": [
        "checkpoint_enabled",
        "checkpoint_trigger_type",
        "checkpoint_trigger_value",
        "checkpoint_load_on_start",
    ],
    "LinearLayer": ["output_size", "bias", "activation", "dropout"],
    "Conv2DLayer": ["out_channels", "kernel_size", "stride", "padding", "activation"],
    "Activation": ["activation", "negative_slope"],
    "Dropout": ["dropout_rate"],
    "BatchNorm": ["momentum", "eps"],
    "Flatten": ["start_dim", "end_dim"],
    "SGDOptimizer": ["learning_rate", "momentum"],
    "EpochTracker": ["max_epochs"],
}
ORIGINAL_SOCKETS = {
    "BatchSampler": (["dataset", "schema"], ["dataloader", "schema"]),
    "GetBatch": (["dataloader", "schema", "trigger"], ["images", "labels", "epoch_complete", "epoch_stats"]),
    "Network": (["input", "to_output"], ["layers", "output", "model"]),
    "CrossEntropyLoss": (["predictions", "labels"], ["loss", "accuracy"]),
    "Accuracy": (["predictions", "labels"], ["accuracy", "correct", "total"]),
    "SGDOptimizer": (["network"], ["optimizer"]),
    "TrainingStep": (["loss", "optimizer"], ["ready", "step_complete"]),
    "EpochTracker": (["epoch_stats", "loss", "accuracy"], ["training_summary"]),
}


def test_packs_are_in_the_default_catalog():
    catalog = default_catalog()
    for node_type in TYPES:
        assert catalog.get(node_type.key) is node_type
    assert {t.category for t in TYPES} <= {"ml/data", "ml/layers", "ml/training"}


@pytest.mark.parametrize("key", sorted(ORIGINAL_WIDGETS))
def test_original_widget_order_is_kept(key):
    widgets = [w.name for w in default_catalog().get(key).widgets]
    assert widgets[: len(ORIGINAL_WIDGETS[key])] == ORIGINAL_WIDGETS[key]


@pytest.mark.parametrize("key", sorted(ORIGINAL_SOCKETS))
def test_original_sockets_and_outputs_are_kept(key):
    spec = default_catalog().get(key)
    inputs, outputs = ORIGINAL_SOCKETS[key]
    assert [s.name for s in spec.sockets] == inputs
    assert [o.name for o in spec.outputs] == outputs


def test_training_step_ready_seeds_the_loop():
    spec = default_catalog().get("TrainingStep")
    assert spec.output("ready").seed and spec.output("ready").type == "SYNC"


@pytest.mark.parametrize("node_type", TYPES, ids=lambda t: t.key)
def test_template_renders_a_class_matching_the_spec(node_type):
    source = render_node_class(node_type.template_path, "Generated", {})
    tree = ast.parse(source)
    compile(tree, node_type.template_path.name, "exec")
    check_classes(tree, {"Generated": node_type}, {})
    assert "{{" not in source and "}}" not in source


def _exports(wf: UIWorkflow):
    loaded = load_workflow(wf.to_dict())
    assert loaded.graph is not None, [d.format() for d in loaded.diagnostics]
    return build_export(loaded.graph, diagnostics=loaded.diagnostics)


def _keys(result) -> set[str]:
    runner = result.contents["runner.py"].decode()
    return {n.name for n in ast.parse(runner).body if isinstance(n, ast.ClassDef)}


def test_every_type_exports_in_a_small_workflow():
    exported: set[str] = set()
    cnn = supervised_workflow(
        [
            ("Reshape", {"shape": "1,28,28"}),
            ("Conv2DLayer", {"out_channels": 4}),
            ("BatchNorm", {}),
            ("Activation", {"activation": "gelu"}),
            ("MaxPool2D", {}),
            ("AvgPool2D", {}),
            ("Flatten", {}),
            ("Dropout", {"dropout_rate": 0.1}),
            ("LinearLayer", {"output_size": 10, "activation": "none"}),
        ],
        dataset="FashionMNISTDataset",
        optimizer=("SGDOptimizer", {"learning_rate": 0.05, "nesterov": True}),
    )
    exported |= _keys(_exports(cnn))
    small = supervised_workflow([("LinearLayer", {"output_size": 10})], optimizer=("AdamWOptimizer", {}))
    stopper = small.add("EarlyStopping", {"monitor": "test_accuracy", "patience": 2})
    saver = small.add("SaveCheckpoint", {"every_n": 5, "tag": "every-5-steps"})
    small.link(small.find("EpochTracker"), "training_summary", stopper, "training_summary")
    small.link(small.find("TrainingStep"), "step_complete", saver, "trigger")
    exporter = small.add("ExportModel", {"format": "both", "when": "every_epoch"})
    small.link(small.find("Network"), "model", exporter, "model")
    exported |= _keys(_exports(small))

    wf = UIWorkflow()
    csv = wf.add("CSVDataset", {"file_path": "table.csv"})
    npz = wf.add("NPZDataset", {"file_path": "arrays.npz"})
    sampler = wf.add("BatchSampler", {"batch_size": 8})
    sampler2 = wf.add("BatchSampler", {"batch_size": 8})
    get = wf.add("GetBatch")
    get2 = wf.add("GetBatch")
    net = wf.add("Network", {"checkpoint_enabled": False})
    layer = wf.add("LinearLayer", {"output_size": 1, "activation": "none"})
    mse = wf.add("MSELoss")
    acc = wf.add("Accuracy")
    opt = wf.add("AdamOptimizer")
    step = wf.add("TrainingStep")
    standalone = wf.add("Activation")
    for a, b in ((csv, sampler), (npz, sampler2)):
        wf.link(a, "dataset", b, "dataset")
        wf.link(a, "schema", b, "schema")
    for a, b in ((sampler, get), (sampler2, get2)):
        wf.link(a, "dataloader", b, "dataloader")
        wf.link(a, "schema", b, "schema")
        wf.link(step, "ready", b, "trigger")
    wf.link(get, "images", net, "input")
    wf.link(net, "layers", layer, "input")
    wf.link(layer, "output", net, "to_output")
    wf.link(net, "output", mse, "predictions")
    wf.link(get, "labels", mse, "targets")
    wf.link(net, "model", opt, "network")
    sched = wf.add("LRScheduler", {"schedule": "one_cycle"})
    wf.link(opt, "optimizer", sched, "optimizer")
    wf.link(sampler, "schema", sched, "schema")
    wf.link(sched, "optimizer", step, "optimizer")
    wf.link(mse, "loss", step, "loss")
    wf.link(get2, "images", standalone, "input")
    wf.link(standalone, "output", acc, "predictions")
    wf.link(get2, "labels", acc, "labels")
    result = _exports(wf)
    exported |= _keys(result)
    layer_keys = {"LinearLayer", "Conv2DLayer", "MaxPool2D", "AvgPool2D", "Dropout", "BatchNorm", "Flatten", "Reshape"}
    missing = {t.key for t in TYPES} - exported - layer_keys  # layers in a chain are folded into the Network
    assert not missing
