"""The Network exporter folds its layer chain, infers shapes from the dataset, and reports broken chains clearly."""

from __future__ import annotations

import json

import pytest

from dnne.codegen.export import build_export
from dnne.errors import DiagnosticError
from dnne.workflow.load import load_workflow
from tests.ml.ui_workflow import UIWorkflow, supervised_workflow


def _export(wf: UIWorkflow):
    loaded = load_workflow(wf.to_dict())
    if loaded.graph is None:
        raise DiagnosticError(loaded.diagnostics)
    return build_export(loaded.graph, diagnostics=loaded.diagnostics)


def _config(result) -> dict:
    return json.loads(result.contents["config.json"])


def test_chain_is_folded_into_layer_specs():
    wf = supervised_workflow(
        [("LinearLayer", {"output_size": 32}), ("LinearLayer", {"output_size": 10, "activation": "none"})]
    )
    result = _export(wf)
    runner = result.contents["runner.py"].decode()
    assert "class LinearLayer" not in runner
    net = next(p for p in _config(result)["nodes"].values() if "layers" in p)
    assert [(s["type"], s["out_features"], s["activation"]) for s in net["layers"]] == [
        ("linear", 32, "relu"),
        ("linear", 10, "none"),
    ]
    assert net["layers"][0]["name"].startswith("node 5 (LinearLayer")
    assert "784" not in json.dumps(net)  # the input size comes from the data at run time
    assert not [d for d in result.diagnostics if d.code == "W_LAYER_NOT_TRAINED"]


def test_shape_mismatch_names_the_layer_and_both_shapes():
    wf = supervised_workflow([("LinearLayer", {"output_size": 64}), ("Conv2DLayer", {"out_channels": 8})])
    with pytest.raises(DiagnosticError) as err:
        _export(wf)
    (diag,) = [d for d in err.value.diagnostics if d.code == "E_SHAPE"]
    assert diag.node_id == "6" and diag.node_type == "Conv2DLayer"
    assert "[1, 28, 28]" in diag.message and "[64]" in diag.message


def _broken_chain(kind: str) -> UIWorkflow:
    wf = supervised_workflow([("LinearLayer", {"output_size": 10})])
    links = wf.links
    if kind == "open":  # last layer does not go back into the Network
        link = next(lk for lk in links if lk[3] == 4 and wf.nodes[3]["inputs"][lk[4]]["name"] == "to_output")
        links.remove(link)
        wf.nodes[3]["inputs"][link[4]]["link"] = None
        wf.nodes[4]["outputs"][0]["links"] = None
    elif kind == "branch":  # a layer output also feeds the loss
        extra = wf.add("LinearLayer", {"output_size": 10})
        wf.link(5, "output", extra, "input")
    return wf


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [("open", "E_REQUIRED_INPUT", "'to_output'"), ("branch", "E_NETWORK_CHAIN", "feeds several inputs (4.to_output")],
)
def test_broken_chains_are_reported(kind, code, words):
    with pytest.raises(DiagnosticError) as err:
        _export(_broken_chain(kind))
    messages = [d.message for d in err.value.diagnostics if d.code == code]
    assert any(words in m for m in messages), [d.format() for d in err.value.diagnostics]


def test_bad_checkpoint_trigger_value_is_an_export_error():
    wf = supervised_workflow(
        [("LinearLayer", {"output_size": 10})],
        network_widgets={"checkpoint_trigger_type": "time", "checkpoint_trigger_value": "soon"},
    )
    with pytest.raises(DiagnosticError) as err:
        _export(wf)
    assert any(d.code == "E_BAD_VALUE" and "soon" in d.message for d in err.value.diagnostics)


def test_layer_outside_a_network_warns_that_it_is_not_trained():
    wf = supervised_workflow([("LinearLayer", {"output_size": 10})], evaluate=False)
    stray = wf.add("LinearLayer", {"output_size": 3})
    printer = wf.add("PrintValue")
    wf.link(3, "images", stray, "input")
    wf.link(stray, "output", printer, "value")
    result = _export(wf)
    assert any(d.code == "W_LAYER_NOT_TRAINED" and d.node_id == str(stray) for d in result.diagnostics)
