"""Torch-free shape inference for layer specs: what each layer makes of a per-sample input shape.

A layer spec is a dict: `{"type": "linear", "out_features": 128, ...}` (see `LAYER_KEYS`). Shapes are per sample
(no batch axis): MNIST images are `(1, 28, 28)`, tables `(features,)`. Used at export time (to report a mismatch
before anything runs) and at run time by `layers.build_sequential`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

ACTIVATIONS = ("none", "relu", "tanh", "sigmoid", "softmax", "leaky_relu", "elu", "gelu")
LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "linear": ("out_features", "bias", "activation", "dropout"),
    "conv2d": ("out_channels", "kernel_size", "stride", "padding", "activation"),
    "maxpool2d": ("kernel_size", "stride", "padding"),
    "avgpool2d": ("kernel_size", "stride", "padding"),
    "activation": ("activation", "negative_slope"),
    "dropout": ("rate",),
    "batchnorm": ("momentum", "eps"),
    "flatten": ("start_dim", "end_dim"),
    "reshape": ("shape",),
}


class ShapeError(ValueError):
    """A layer cannot take the shape it is given; the message names the layer and both shapes."""


def layer_name(spec: dict[str, Any], index: int) -> str:
    """How messages name a layer: its `name` (set by the exporter: node id, type and title) or its position."""
    return str(spec.get("name") or f"layer {index + 1} ({spec.get('type', '?')})")


def parse_shape(text: str | Sequence[int]) -> tuple[int, ...]:
    """'1,28,28' / '1x28x28' / [1, 28, 28] → (1, 28, 28); one dimension may be -1."""
    if isinstance(text, str):
        parts = [p for p in text.replace("x", ",").replace(" ", ",").split(",") if p]
        try:
            dims = tuple(int(p) for p in parts)
        except ValueError:
            raise ShapeError(f"shape {text!r} must be integers separated by commas, e.g. '1,28,28'") from None
    else:
        dims = tuple(int(d) for d in text)
    if not dims:
        raise ShapeError("a shape needs at least one dimension")
    if sum(1 for d in dims if d == -1) > 1 or any(d == 0 or d < -1 for d in dims):
        raise ShapeError(f"shape {list(dims)}: dimensions must be positive, with at most one -1")
    return dims


def _window(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _normalise_dims(start: int, end: int, rank: int) -> tuple[int, int]:
    """Flatten's start/end dims (of the batched tensor, rank = per-sample rank + 1) as non-negative indices."""
    s = start + rank if start < 0 else start
    e = end + rank if end < 0 else end
    return s, e


def layer_output_shape(spec: dict[str, Any], shape: tuple[int, ...], index: int = 0) -> tuple[int, ...]:
    """The per-sample output shape of one layer, or ShapeError naming the layer and the shapes."""
    kind = spec.get("type")
    name = layer_name(spec, index)

    def fail(message: str) -> ShapeError:
        return ShapeError(f"{name}: {message}")

    if kind not in LAYER_KEYS:
        raise fail(f"unknown layer type {kind!r} (known: {', '.join(LAYER_KEYS)})")
    if kind == "linear":
        out = int(spec["out_features"])
        if out < 1:
            raise fail(f"out_features must be ≥ 1, got {out}")
        return (out,)
    if kind in ("conv2d", "maxpool2d", "avgpool2d"):
        if len(shape) != 3:
            raise fail(
                f"needs image input [channels, height, width], got {list(shape)}"
                + ("; add a Reshape layer before it" if len(shape) == 1 else "")
            )
        k, s, p = int(spec["kernel_size"]), int(spec.get("stride") or 0), int(spec.get("padding") or 0)
        if kind != "conv2d" and s == 0:
            s = k  # pooling: stride defaults to the window
        if k < 1 or s < 1 or p < 0:
            raise fail(f"kernel_size and stride must be ≥ 1 and padding ≥ 0 (got {k}, {s}, {p})")
        if kind != "conv2d" and p * 2 > k:
            raise fail(f"padding {p} must be at most half the kernel size {k}")
        h, w = _window(shape[1], k, s, p), _window(shape[2], k, s, p)
        if h < 1 or w < 1:
            raise fail(f"kernel {k} (stride {s}, padding {p}) does not fit input {list(shape)}")
        channels = int(spec["out_channels"]) if kind == "conv2d" else shape[0]
        if channels < 1:
            raise fail(f"out_channels must be ≥ 1, got {channels}")
        return (channels, h, w)
    if kind == "flatten":
        rank = len(shape) + 1
        s, e = _normalise_dims(int(spec.get("start_dim", 1)), int(spec.get("end_dim", -1)), rank)
        if not (0 <= s < rank and 0 <= e < rank) or s > e:
            raise fail(
                f"start_dim/end_dim {spec.get('start_dim')}/{spec.get('end_dim')} do not fit input {list(shape)}"
            )
        if s == 0:
            raise fail("start_dim 0 would flatten the batch axis; use start_dim ≥ 1")
        dims = list(shape)
        return tuple(dims[: s - 1] + [prod(dims[s - 1 : e])] + dims[e:])
    if kind == "reshape":
        target = parse_shape(spec["shape"])
        total = prod(shape)
        known = prod(d for d in target if d != -1)
        if -1 in target:
            if total % known:
                raise fail(f"cannot reshape input {list(shape)} ({total} values) to {list(target)}")
            target = tuple(total // known if d == -1 else d for d in target)
        if prod(target) != total:
            raise fail(f"cannot reshape input {list(shape)} ({total} values) to {list(target)} ({prod(target)} values)")
        return target
    if kind == "batchnorm" and len(shape) not in (1, 2, 3):
        raise fail(f"needs input [features], [channels, length] or [channels, height, width], got {list(shape)}")
    return shape  # activation, dropout, batchnorm keep the shape


def infer_shapes(input_shape: Sequence[int], specs: Sequence[dict[str, Any]]) -> list[tuple[int, ...]]:
    """Output shape after each layer (same length as `specs`). Raises ShapeError for the first layer that fails."""
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d < 1 for d in shape):
        raise ShapeError(f"input shape {list(shape)} must have positive dimensions")
    shapes = []
    for index, spec in enumerate(specs):
        shape = layer_output_shape(spec, shape, index)
        shapes.append(shape)
    return shapes


def linear_in_features(shape: Sequence[int]) -> int:
    """A linear layer flattens whatever it gets (as the original DNNE did for image input)."""
    return prod(shape)
