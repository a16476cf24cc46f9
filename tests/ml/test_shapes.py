"""Shape inference (torch-free, used at export) and the nn.Sequential builder agree, and errors name the layer."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from dnne.runtime.ml.layers import LazyLayer, build_sequential
from dnne.runtime.ml.shapes import ShapeError, infer_shapes, parse_shape

CNN = [
    {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 1, "padding": 1, "activation": "relu"},
    {"type": "batchnorm", "momentum": 0.1, "eps": 1e-5},
    {"type": "maxpool2d", "kernel_size": 2, "stride": 2, "padding": 0},
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 0, "activation": "none"},
    {"type": "avgpool2d", "kernel_size": 2, "stride": 0, "padding": 0},
    {"type": "flatten", "start_dim": 1, "end_dim": -1},
    {"type": "dropout", "rate": 0.1},
    {"type": "linear", "out_features": 10, "bias": True, "activation": "none", "dropout": 0.0},
]


def test_inferred_shapes_match_the_built_model():
    shapes = infer_shapes((1, 28, 28), CNN)
    assert shapes[0] == (8, 28, 28) and shapes[2] == (8, 14, 14) and shapes[3] == (4, 6, 6)
    assert shapes[4] == (4, 3, 3) and shapes[5] == (36,) and shapes[-1] == (10,)
    torch.manual_seed(0)
    model = build_sequential(CNN, (1, 28, 28))
    x = torch.randn(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert isinstance(model[2], torch.nn.BatchNorm2d)


def test_linear_flattens_image_input_and_sizes_come_from_the_data():
    model = build_sequential([{"type": "linear", "out_features": 7, "activation": "relu"}], (3, 4, 5))
    linear = [m for m in model if isinstance(m, torch.nn.Linear)][0]
    assert linear.in_features == 60
    assert model(torch.zeros(2, 3, 4, 5)).shape == (2, 7)


def test_batchnorm_is_1d_for_features():
    model = build_sequential([{"type": "linear", "out_features": 6}, {"type": "batchnorm"}], (4,))
    assert isinstance(model[-1], torch.nn.BatchNorm1d)


def test_reshape_and_flatten_ranges():
    assert infer_shapes((784,), [{"type": "reshape", "shape": "1,28,-1"}]) == [(1, 28, 28)]
    assert infer_shapes((2, 3, 4), [{"type": "flatten", "start_dim": 2, "end_dim": 3}]) == [(2, 12)]
    model = build_sequential([{"type": "reshape", "shape": "1,28,28"}, {"type": "flatten"}], (784,))
    assert model(torch.zeros(3, 784)).shape == (3, 784)
    assert parse_shape("1x28x28") == (1, 28, 28)


@pytest.mark.parametrize(
    ("shape", "specs", "words"),
    [
        (
            (784,),
            [{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "name": "node 9 (Conv2DLayer)"}],
            ["node 9 (Conv2DLayer)", "[784]", "Reshape"],
        ),
        (
            (1, 4, 4),
            [{"type": "maxpool2d", "kernel_size": 5, "name": "node 3 (MaxPool2D)"}],
            ["node 3 (MaxPool2D)", "kernel 5", "[1, 4, 4]"],
        ),
        ((10,), [{"type": "reshape", "shape": "3,3"}], ["layer 1 (reshape)", "[10]", "[3, 3]"]),
        ((10,), [{"type": "flatten", "start_dim": 0, "end_dim": -1}], ["batch axis"]),
        ((10,), [{"type": "linear", "out_features": 0}], ["out_features"]),
    ],
)
def test_errors_name_the_layer_and_the_shapes(shape, specs, words):
    with pytest.raises(ShapeError) as err:
        infer_shapes(shape, specs)
    for word in words:
        assert word in str(err.value)


def test_lazy_layer_builds_from_the_first_input_and_rejects_a_new_shape():
    layer = LazyLayer({"type": "linear", "out_features": 3, "name": "node 4 (LinearLayer)"})
    assert layer(torch.zeros(2, 5), "cpu").shape == (2, 3)
    with pytest.raises(ShapeError, match="node 4"):
        layer(torch.zeros(2, 6), "cpu")


def test_shape_inference_does_not_import_torch():
    code = "import sys, dnne.runtime.ml.shapes, dnne.catalog.ml, dnne.catalog.data; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
