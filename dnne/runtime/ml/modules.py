"""A torch module described as data: which `torch.nn` class, with which arguments (torch-free until `build`).

Each layer node type describes its modules once (`Layer.modules(shape)`, see `layer.py`); the same description is
written out as code by the exporter (`nn.Linear(784, 128)` in the network class of runner.py) and built here when a
layer runs on its own, outside a Network. Only the classes in `ALLOWED` can be described: the exported program never
names any other torch callable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the torch.nn classes a layer may describe (the exporter writes `nn.<name>(...)`; nothing else is ever called)
ALLOWED = frozenset(
    {
        "Linear",
        "LazyLinear",
        "Conv2d",
        "LazyConv2d",
        "MaxPool2d",
        "AvgPool2d",
        "BatchNorm1d",
        "BatchNorm2d",
        "LazyBatchNorm1d",
        "LazyBatchNorm2d",
        "Dropout",
        "Flatten",
        "Unflatten",
        "ReLU",
        "Tanh",
        "Sigmoid",
        "Softmax",
        "LeakyReLU",
        "ELU",
        "GELU",
    }
)
# attribute stem of each class in the network's __init__ (`self.linear1`, `self.relu1`, …)
STEMS = {
    "Linear": "linear",
    "LazyLinear": "linear",
    "Conv2d": "conv",
    "LazyConv2d": "conv",
    "MaxPool2d": "maxpool",
    "AvgPool2d": "avgpool",
    "BatchNorm1d": "bn",
    "BatchNorm2d": "bn",
    "LazyBatchNorm1d": "bn",
    "LazyBatchNorm2d": "bn",
    "Dropout": "dropout",
    "Flatten": "flatten",
    "Unflatten": "unflatten",
    "ReLU": "relu",
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "Softmax": "softmax",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "GELU": "gelu",
}
PLAIN = (bool, int, float, str, type(None))


def _plain(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_plain(item) for item in value)
    return isinstance(value, PLAIN)


@dataclass(frozen=True)
class TorchModule:
    """`torch.nn.<kind>(*args, **dict(kwargs))`; arguments are plain numbers, strings, booleans or tuples of them."""

    kind: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ALLOWED:
            raise ValueError(
                f"torch.nn.{self.kind} is not a module a layer may use (allowed: {', '.join(sorted(ALLOWED))})"
            )
        if not all(_plain(a) for a in self.args) or not all(isinstance(k, str) and _plain(v) for k, v in self.kwargs):
            raise TypeError(f"nn.{self.kind}: module arguments must be plain values, got {self.args!r} {self.kwargs!r}")

    @property
    def stem(self) -> str:
        return STEMS[self.kind]

    def build(self) -> Any:
        from torch import nn

        return getattr(nn, self.kind)(*self.args, **dict(self.kwargs))


def module(kind: str, *args: Any, **kwargs: Any) -> TorchModule:
    """`module("Linear", 784, 128, bias=False)`: the description of `nn.Linear(784, 128, bias=False)`."""
    return TorchModule(kind, tuple(args), tuple(kwargs.items()))


def _size(shape: Any) -> int | None:
    if shape is None or any(d is None for d in shape):
        return None
    total = 1
    for d in shape:
        total *= int(d)
    return total


def activation_modules(name: str, negative_slope: float = 0.01) -> list[TorchModule]:
    """The module of an activation name ([] for 'none'); softmax works over the feature axis (dim 1)."""
    simple = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "elu": "ELU", "gelu": "GELU"}
    name = (name or "none").lower()
    if name == "none":
        return []
    if name in simple:
        return [module(simple[name])]
    if name == "softmax":
        return [module("Softmax", dim=1)]
    if name == "leaky_relu":
        return [module("LeakyReLU", float(negative_slope))]
    raise ValueError(f"unknown activation {name!r}")


def spec_modules(spec: dict[str, Any], shape: Any, output_shape: Any) -> list[TorchModule]:
    """The torch modules of one layer spec (see shapes.py) for its per-sample input and output shapes. A shape is
    None, or holds None dimensions, when the export cannot know it (the data is read at run time): the layers that
    need the size then use torch's lazy modules, sized at the first batch. The one description of a layer's modules:
    the export writes it as code, a layer used on its own builds it (`build`)."""
    kind = spec["type"]
    mods: list[TorchModule] = []
    if kind == "linear":
        out = int(spec["out_features"])
        options = {} if spec.get("bias", True) else {"bias": False}
        if shape is None or len(shape) > 1:
            mods.append(module("Flatten"))
        features = _size(shape)
        mods.append(module("Linear", features, out, **options) if features else module("LazyLinear", out, **options))
    elif kind == "conv2d":
        options = {"stride": int(spec.get("stride") or 1), "padding": int(spec.get("padding") or 0)}
        channels = shape[0] if shape is not None else None
        out, k = int(spec["out_channels"]), int(spec["kernel_size"])
        if channels is None:
            mods.append(module("LazyConv2d", out, k, **options))
        else:
            mods.append(module("Conv2d", int(channels), out, k, **options))
    elif kind in ("maxpool2d", "avgpool2d"):
        k = int(spec["kernel_size"])
        padding = int(spec.get("padding") or 0)
        options = {"padding": padding} if padding else {}
        cls = "MaxPool2d" if kind == "maxpool2d" else "AvgPool2d"
        mods.append(module(cls, k, stride=int(spec.get("stride") or 0) or k, **options))
    elif kind == "activation":
        mods += activation_modules(spec.get("activation", "relu"), float(spec.get("negative_slope", 0.01)))
    elif kind == "dropout":
        mods.append(module("Dropout", float(spec.get("rate", 0.5))))
    elif kind == "batchnorm":
        if shape is None:
            raise ValueError("BatchNorm needs to know the rank of its input: put a Linear or Reshape layer before it")
        cls = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        options = {"eps": float(spec.get("eps", 1e-5)), "momentum": float(spec.get("momentum", 0.1))}
        mods.append(module(cls, int(shape[0]), **options) if shape[0] is not None else module("Lazy" + cls, **options))
    elif kind == "flatten":
        start, end = int(spec.get("start_dim", 1)), int(spec.get("end_dim", -1))
        mods.append(module("Flatten") if (start, end) == (1, -1) else module("Flatten", start, end))
    elif kind == "reshape":
        out = tuple(-1 if d is None else int(d) for d in output_shape)
        if len(out) == 1:
            mods.append(module("Flatten"))
        else:
            if shape is None or len(shape) > 1:
                mods.append(module("Flatten"))
            mods.append(module("Unflatten", 1, out))
    if kind in ("linear", "conv2d"):
        mods += activation_modules(spec.get("activation", "none"), float(spec.get("negative_slope", 0.01)))
    if kind == "linear" and float(spec.get("dropout") or 0.0) > 0:
        mods.append(module("Dropout", float(spec["dropout"])))
    return mods
