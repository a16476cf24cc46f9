"""Short, readable text for any value a node prints (tensors are summarised, never dumped whole)."""

from __future__ import annotations

from typing import Any

MAX_ELEMENTS = 16
MAX_CHARS = 400


def _tensor_text(value: Any, max_elements: int) -> str:
    shape = "x".join(str(d) for d in value.shape) or "scalar"
    dtype = str(value.dtype).replace("torch.", "")
    device = "" if value.device.type == "cpu" else f" on {value.device}"
    if value.numel() == 1:
        return f"{value.item()!r} ({dtype}{device})"
    head = f"tensor[{shape}] {dtype}{device}"
    if value.numel() == 0:
        return head + " (empty)"
    flat = value.detach().reshape(-1)
    if value.is_floating_point() or value.is_complex():
        stats = flat.float() if not value.is_complex() else flat.abs().float()
        head += f" min={stats.min().item():.4g} max={stats.max().item():.4g} mean={stats.mean().item():.4g}"
    if value.numel() <= max_elements:
        return head + " " + str(value.detach().cpu().tolist())
    return head


def format_value(value: Any, max_elements: int = MAX_ELEMENTS, max_chars: int = MAX_CHARS) -> str:
    """A one-line description: scalars as-is, tensors/arrays as shape, dtype and statistics, long text cut."""
    kind = type(value).__module__.split(".")[0]
    if kind == "torch" and hasattr(value, "shape") and hasattr(value, "numel"):
        text = _tensor_text(value, max_elements)
    elif kind == "numpy" and hasattr(value, "shape") and hasattr(value, "dtype"):
        import torch

        text = _tensor_text(torch.as_tensor(value), max_elements).replace("tensor[", "array[", 1)
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k!r}: {format_value(v, max_elements, max_chars)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)) and len(value) > max_elements:
        text = f"{type(value).__name__} of {len(value)} items, first: {format_value(value[0], max_elements, max_chars)}"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
