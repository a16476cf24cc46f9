"""Build an `nn.Sequential` from layer specs and the real input shape (see `shapes.py` for the spec format)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .shapes import ShapeError, infer_shapes, layer_name, layer_output_shape, linear_in_features


def activation_module(name: str, negative_slope: float = 0.01) -> nn.Module | None:
    """The module for an activation name (None for 'none'). Softmax works over the feature axis (dim 1)."""
    name = (name or "none").lower()
    if name == "none":
        return None
    table = {
        "relu": lambda: nn.ReLU(),
        "tanh": lambda: nn.Tanh(),
        "sigmoid": lambda: nn.Sigmoid(),
        "softmax": lambda: nn.Softmax(dim=1),
        "leaky_relu": lambda: nn.LeakyReLU(float(negative_slope)),
        "elu": lambda: nn.ELU(),
        "gelu": lambda: nn.GELU(),
    }
    if name not in table:
        raise ShapeError(f"unknown activation {name!r} (known: none, {', '.join(table)})")
    return table[name]()


def layer_modules(spec: dict[str, Any], shape: tuple[int, ...], index: int = 0) -> list[nn.Module]:
    """The modules for one layer spec given its per-sample input shape."""
    kind = spec["type"]
    layer_output_shape(spec, shape, index)  # validates and names the layer in errors
    mods: list[nn.Module] = []
    if kind == "linear":
        if len(shape) > 1:
            mods.append(nn.Flatten())
        mods.append(nn.Linear(linear_in_features(shape), int(spec["out_features"]), bias=bool(spec.get("bias", True))))
    elif kind == "conv2d":
        mods.append(
            nn.Conv2d(
                shape[0],
                int(spec["out_channels"]),
                int(spec["kernel_size"]),
                stride=int(spec.get("stride") or 1),
                padding=int(spec.get("padding") or 0),
            )
        )
    elif kind in ("maxpool2d", "avgpool2d"):
        k = int(spec["kernel_size"])
        stride = int(spec.get("stride") or 0) or k
        cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
        mods.append(cls(k, stride=stride, padding=int(spec.get("padding") or 0)))
    elif kind == "activation":
        act = activation_module(spec.get("activation", "relu"), spec.get("negative_slope", 0.01))
        if act is not None:
            mods.append(act)
    elif kind == "dropout":
        mods.append(nn.Dropout(float(spec.get("rate", 0.5))))
    elif kind == "batchnorm":
        cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        mods.append(cls(shape[0], eps=float(spec.get("eps", 1e-5)), momentum=float(spec.get("momentum", 0.1))))
    elif kind == "flatten":
        mods.append(nn.Flatten(int(spec.get("start_dim", 1)), int(spec.get("end_dim", -1))))
    elif kind == "reshape":
        out = layer_output_shape(spec, shape, index)
        mods.append(nn.Unflatten(1, out) if len(out) > 1 else nn.Flatten())
        if len(shape) > 1 and len(out) > 1:
            mods.insert(0, nn.Flatten())
    if kind in ("linear", "conv2d"):
        act = activation_module(spec.get("activation", "none"), spec.get("negative_slope", 0.01))
        if act is not None:
            mods.append(act)
    if kind == "linear" and float(spec.get("dropout") or 0.0) > 0:
        mods.append(nn.Dropout(float(spec["dropout"])))
    return mods


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


def describe(specs: Sequence[dict[str, Any]], input_shape: Sequence[int]) -> str:
    """One line per layer: name and output shape (for logs)."""
    shapes = infer_shapes(input_shape, specs)
    lines = [f"input {list(input_shape)}"]
    lines += [f"{layer_name(s, i)} -> {list(shape)}" for i, (s, shape) in enumerate(zip(specs, shapes, strict=True))]
    return "\n".join(lines)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def sample_shape(batch: torch.Tensor) -> tuple[int, ...]:
    """Per-sample shape of a batch tensor ([N, ...] → (...)); a 1-D batch is N scalars, shape (1,)."""
    return tuple(batch.shape[1:]) or (1,)


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
