"""Nested checkpoint state (optimizer/scheduler state dicts, iterator state) as (flat tensors, JSON-safe meta).

`pack(obj, prefix)` replaces every tensor by `{"__tensor__": key}` and stores it under `key` in the tensor dict;
dicts with non-string keys (optimizer state is keyed by parameter index) and tuples are encoded so that
`unpack(meta, tensors)` rebuilds exactly the original structure.
"""

from __future__ import annotations

from typing import Any


def pack(obj: Any, prefix: str, tensors: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """(JSON-safe structure, tensors) for `obj`; tensor keys start with `prefix`."""
    import torch

    out = tensors if tensors is not None else {}

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            out[path] = value.detach().contiguous()
            return {"__tensor__": path}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
            return {"__items__": [[k, walk(v, f"{path}.{k}")] for k, v in value.items()]}
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v, f"{path}.{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"cannot checkpoint a value of type {type(value).__name__} at {path}")

    return walk(obj, prefix), out


def unpack(meta: Any, tensors: dict[str, Any]) -> Any:
    """The structure `pack` encoded, with its tensors put back."""
    if isinstance(meta, dict):
        if "__tensor__" in meta and len(meta) == 1:
            key = meta["__tensor__"]
            if key not in tensors:
                raise KeyError(f"checkpoint is missing tensor {key!r}")
            return tensors[key]
        if "__items__" in meta and len(meta) == 1:
            return {_key(k): unpack(v, tensors) for k, v in meta["__items__"]}
        if "__tuple__" in meta and len(meta) == 1:
            return tuple(unpack(v, tensors) for v in meta["__tuple__"])
        return {k: unpack(v, tensors) for k, v in meta.items()}
    if isinstance(meta, list):
        return [unpack(v, tensors) for v in meta]
    return meta


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def rng_state(device: Any) -> dict[str, Any]:
    """The global torch RNG state(s) that dropout uses on `device`."""
    import torch

    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda" and torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: Any) -> None:
    import torch

    if "cpu" in state:
        torch.set_rng_state(state["cpu"].to(torch.uint8).cpu())
    if "cuda" in state and device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"].to(torch.uint8).cpu(), device)
