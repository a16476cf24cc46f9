"""The Network exporter folds its layer chain, infers shapes from the dataset, and reports broken chains clearly."""

from __future__ import annotations

import ast
import json

import pytest
import torch

from dnne.codegen.export import build_export
from dnne.errors import DiagnosticError
from dnne.workflow.load import load_workflow
from tests.ml.helpers import ROOT
from tests.ml.ui_workflow import UIWorkflow, supervised_workflow


def _export(wf: UIWorkflow):
    loaded = load_workflow(wf.to_dict())
    if loaded.graph is None:
        raise DiagnosticError(loaded.diagnostics)
    return build_export(loaded.graph, diagnostics=loaded.diagnostics)


def _config(result) -> dict:
    return json.loads(result.contents["config.json"])


def test_chain_is_folded_into_an_nn_module_class_in_runner_py():
    wf = supervised_workflow(
        [("LinearLayer", {"output_size": 32}), ("LinearLayer", {"output_size": 10, "activation": "none"})]
    )
    result = _export(wf)
    runner = result.contents["runner.py"].decode()
    assert "class LinearLayer" not in runner
    tree = ast.parse(runner)
    (model_class,) = [
        node for node in tree.body if isinstance(node, ast.ClassDef) and ast.unparse(node.bases[0]) == "nn.Module"
    ]
    code = ast.unparse(model_class)
    assert "self.linear1 = nn.Linear(784, 32)" in code and "self.relu1 = nn.ReLU()" in code
    assert "self.linear2 = nn.Linear(32, 10)" in code and "def forward(self, x):" in code
    assert f"architecture={model_class.name}" in runner.replace(" ", "")
    net = next(p for p in _config(result)["nodes"].values() if "input_shape" in p)
    assert net["input_shape"] == [1, 28, 28] and "layers" not in net  # the layers are code now, not config
    assert not [d for d in result.diagnostics if d.code == "W_LAYER_NOT_TRAINED"]
    # the class runs, and its state_dict keys name the layers by kind and position
    namespace: dict = {}
    exec(compile("from torch import nn\n" + ast.unparse(model_class), "runner.py", "exec"), namespace)
    model = namespace[model_class.name]()
    assert list(model.state_dict()) == ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_hostile_titles_stay_in_comments():
    wf = supervised_workflow([("LinearLayer", {"output_size": 10, "activation": "none"})])
    wf.nodes[4]["title"] = "x\nimport os  # \u202e"
    runner = _export(wf).contents["runner.py"].decode()
    assert not [line for line in runner.splitlines() if line.strip().startswith("import os")]
    assert "LinearLayer 'x import os # \\u202e':" in runner  # quoted and escaped, inside a comment


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


def test_the_mnist_mlp_golden_runner_shows_the_model_and_the_training_step():
    """examples/mnist_mlp.json's export (golden tree): the network as an nn.Module with its Linear layers and a
    forward, the optimizer calls of the training step, and the evaluation loop."""
    runner = (ROOT / "tests" / "golden" / "mnist_mlp" / "expected" / "runner.py").read_text()
    tree = ast.parse(runner)
    (model_class,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and ast.unparse(n.bases[0]) == "nn.Module"]
    code = ast.unparse(model_class)
    assert "nn.Linear(784, 256)" in code and "nn.Linear(128, 10)" in code and "def forward(self, x):" in code
    step = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TrainingStep")
    step_code = ast.unparse(step)
    for call in ("optimizer.zero_grad(set_to_none=True)", "loss.backward()", "clip_grad_norm(", "optimizer.step("):
        assert call in step_code
    evaluate = ast.unparse(next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Evaluate"))
    assert "model.eval()" in evaluate and "with no_grad():" in evaluate and "argmax(dim=1)" in evaluate
    assert f"architecture={model_class.name}" in runner


def test_each_definition_gets_its_own_minted_name_and_code_argument():
    from dnne.catalog.spec import Definition, NodeExport
    from dnne.codegen.module import mint_definitions
    from dnne.codegen.names import Namespace
    from dnne.codegen.render import RenderError

    def result(hint):
        source = f"class {hint}(nn.Module):\n    pass\n"
        return NodeExport(definitions=(Definition(hint, source, ("from torch import nn",)),), code_args={"a": hint})

    ns = Namespace()
    ns.reserve("MnistNet")  # e.g. a node class of that name
    minted, args = mint_definitions([("4", result("MnistNet")), ("9", result("MnistNet"))], ns)
    assert [d.name for d in minted] == ["MnistNet_2", "MnistNet_3"]
    assert minted[1].source.startswith("class MnistNet_3(nn.Module):")
    assert args == {"4": {"a": "MnistNet_2"}, "9": {"a": "MnistNet_3"}}
    bad = NodeExport(definitions=(Definition("X", "class X: pass\n", ("import os; os.system('x')",)),))
    with pytest.raises(RenderError, match="not one import statement"):
        mint_definitions([("1", bad)], Namespace())
    with pytest.raises(RenderError, match="names no definition"):
        mint_definitions([("1", NodeExport(code_args={"a": "Nope"}))], Namespace())
