"""Layers built from their specs and the real input shape (see `shapes.py` for the spec format): a layer used on its
own (`LazyLayer`), and `build_sequential` for tests and tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .modules import spec_modules
from .network import sample_shape
from .shapes import ShapeError, infer_shapes, layer_name, layer_output_shape


def layer_modules(spec: dict[str, Any], shape: tuple[int, ...], index: int = 0) -> list[nn.Module]:
    """The modules for one layer spec given its per-sample input shape (built from `modules.spec_modules`, the same
    description the export writes into the network class)."""
    out = layer_output_shape(spec, shape, index)  # validates and names the layer in errors
    return [m.build() for m in spec_modules(spec, shape, out)]


def build_sequential(specs: Sequence[dict[str, Any]], input_shape: Sequence[int]) -> nn.Sequential:
    """An `nn.Sequential` for `specs` on per-sample `input_shape`; ShapeError names the layer that does not fit."""
    if not specs:
        raise ShapeError("the network has no layers")
    shapes = infer_shapes(input_shape, specs)
    modules: list[nn.Module] = []
    shape = tuple(int(d) for d in input_shape)
    for index, spec in enumerate(specs):
        modules.extend(layer_modules(spec, shape, index))
        shape = shapes[index]
    return nn.Sequential(*modules)


class LazyLayer:
    """One layer spec applied on its own: its modules are built at the first input, from that input's shape."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = dict(spec)
        self.module: nn.Module | None = None
        self.input_shape: tuple[int, ...] | None = None

    def __call__(self, x: Any, device: Any) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{layer_name(self.spec, 0)}: input must be a tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            x = x.float()
        shape = sample_shape(x)
        if self.module is None:
            self.module = nn.Sequential(*layer_modules(self.spec, shape)).to(device)
            self.input_shape = shape
        elif shape != self.input_shape:
            raise ShapeError(
                f"{layer_name(self.spec, 0)}: input changed shape from {list(self.input_shape or ())} to {list(shape)}"
            )
        return self.module(x.to(device) if x.device != torch.device(device) else x)
