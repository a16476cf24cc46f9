import asyncio
import json
import subprocess

import pytest
import torch

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import NodeExport
from dnne.catalog.utils import NODE_TYPES
from dnne.codegen.checks import check_classes, check_safety, parse_and_compile
from dnne.codegen.render import render_node_class
from dnne.workflow.model import Graph, GraphNode

BY_KEY = {t.key: t for t in NODE_TYPES}


class _Ctx:
    def __init__(self, graph):
        self.graph = graph
        self.messages = []

    def warn(self, code, message, **where):
        self.messages.append((code, message))

    def error(self, code, message, **where):
        self.messages.append((code, message))


def _export(node_type, **widgets):
    values = {w.name: w.default for w in node_type.widgets} | widgets
    node = GraphNode(id="7", spec=node_type, title=node_type.display_name, widgets=values)
    result = node_type.exporter(node, _Ctx(Graph("t", {"7": node})))
    assert isinstance(result, NodeExport)
    json.dumps(result.params)  # JSON-safe: they go to config.json
    return result.params


def test_pack_registers_with_original_keys_widgets_and_outputs():
    catalog = Catalog(NODE_TYPES)
    assert catalog.keys() == ["FloatConstant", "IntConstant", "PrintValue", "StringConstant", "TensorVisualizer"]
    info = catalog.object_info()
    assert info["FloatConstant"]["output_name"] == ["FLOAT"] and info["IntConstant"]["output_name"] == ["INT"]
    assert info["StringConstant"]["output"] == ["STRING"]
    assert info["FloatConstant"]["input"]["required"]["value"] == ["FLOAT", {"default": 0.0, "min": -1e4, "max": 1e4}]
    assert info["PrintValue"]["input_order"]["required"] == ["value", "prefix"]
    assert info["PrintValue"]["output"] == ["*"] and info["PrintValue"]["output_node"] is True
    assert info["TensorVisualizer"]["input"]["required"]["title"] == ["STRING", {"default": "Tensor"}]
    assert info["TensorVisualizer"]["output"] == ["IMAGE"] and info["TensorVisualizer"]["output_node"] is True
    assert [w.name for w in BY_KEY["TensorVisualizer"].widgets] == ["title"]


@pytest.mark.parametrize("node_type", NODE_TYPES, ids=lambda t: t.key)
def test_template_renders_compiles_and_matches_spec(node_type):
    source = render_node_class(node_type.template_path, "Node_Class")
    tree = parse_and_compile(source)
    check_safety(tree)
    check_classes(tree, {"Node_Class": node_type}, {"Node_Class": _export(node_type)})


@pytest.mark.parametrize("node_type", NODE_TYPES, ids=lambda t: t.key)
def test_template_passes_ruff(node_type, tmp_path):
    source = render_node_class(node_type.template_path, "NodeClass")
    path = tmp_path / "node.py"
    path.write_text(source)
    from dnne.codegen.format import find_ruff

    args = [find_ruff(), "check", "--no-cache", "--isolated", "--line-length", "120", "--select", "E,F,W,B", str(path)]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_exporters_coerce_widget_values():
    assert _export(BY_KEY["FloatConstant"], value=3) == {"value": 3.0}
    assert _export(BY_KEY["IntConstant"], value=-12) == {"value": -12}
    assert _export(BY_KEY["StringConstant"], value='x"""; import os') == {"value": 'x"""; import os'}
    assert _export(BY_KEY["PrintValue"]) == {"prefix": "Value:"}
    assert _export(BY_KEY["TensorVisualizer"], title="Weights") == {"caption": "Weights", "max_files": 100}


@pytest.mark.parametrize(
    "key, value, output",
    [("FloatConstant", 2.5, "FLOAT"), ("IntConstant", 42, "INT"), ("StringConstant", "hi", "STRING")],
)
def test_constants_send_their_value(load_class, key, value, output):
    cls = load_class(BY_KEY[key])
    node = cls("3", "c", **_export(BY_KEY[key], value=value))
    assert asyncio.run(node.compute()) == {output: value}


def test_print_value_prints_prefix_and_passes_value_through(load_class, capsys):
    cls = load_class(BY_KEY["PrintValue"])
    node = cls("4", "p", prefix="Loss:")
    assert asyncio.run(node.compute(value=0.25)) == {"value": 0.25}
    big = torch.zeros(64, 10)
    assert asyncio.run(node.compute(value=big))["value"] is big
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Loss: 0.25"
    assert out[1].startswith("Loss: tensor[64x10] float32 min=0 max=0 mean=0")


def _run_graph(dnne_runtime, tmp_path, build):
    ctx = dnne_runtime.RunContext(run_dir=tmp_path)
    runner = dnne_runtime.GraphRunner(ctx)
    build(runner)
    return runner.run()


def test_constant_to_print_value_in_a_real_graph(dnne_runtime, load_class, tmp_path, capsys):
    const = load_class(BY_KEY["IntConstant"], "IntConstant")("1", "n", value=7)
    printer = load_class(BY_KEY["PrintValue"], "PrintValue")("2", "p", prefix="n =")

    def build(runner):
        runner.add(const)
        runner.add(printer)
        runner.connect(const, "INT", printer, "value")

    assert _run_graph(dnne_runtime, tmp_path, build) == 0
    assert "n = 7" in capsys.readouterr().out.splitlines()


def test_tensor_visualizer_writes_pngs_in_run_dir(dnne_runtime, load_class, tmp_path):
    from PIL import Image

    class Images(dnne_runtime.QueueNode):
        OUTPUTS = ("images",)
        REPEAT = True

        def __init__(self, node_id, title=""):
            super().__init__(node_id, title)
            self.sent = 0

        async def compute(self):
            if self.sent == 3:
                return self.STOP
            self.sent += 1
            return {"images": torch.rand(6, 1, 28, 28)}

    seen = []

    class Sink(dnne_runtime.QueueNode):
        INPUTS = {"image": dnne_runtime.Input.CONSUME}

        async def compute(self, image):
            seen.append(image)

    vis = load_class(BY_KEY["TensorVisualizer"])("5:2", "v", caption="Digits", max_files=2)

    def build(runner):
        src, sink = runner.add(Images("1")), runner.add(Sink("9"))
        runner.add(vis)
        runner.connect(src, "images", vis, "tensor")
        runner.connect(vis, "visualization", sink, "image")

    assert _run_graph(dnne_runtime, tmp_path, build) == 0
    files = sorted(p.name for p in (tmp_path / "visualizations").iterdir())
    assert files == ["node_5-2_00001.png", "node_5-2_00002.png", "node_5-2_latest.png"]
    with Image.open(tmp_path / "visualizations" / "node_5-2_00001.png") as img:
        assert img.mode == "RGB" and img.info.get("Title") == "Digits"
        width, height = img.size
    assert len(seen) == 3 and seen[0].shape == (1, height, width, 3)
    assert 0.0 <= float(seen[0].min()) and float(seen[0].max()) <= 1.0
