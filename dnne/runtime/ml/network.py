"""The Network node's model: built from its layer specs at the first batch (from the real input shape), trained in
place, checkpointed with the RNG state so that a resumed run continues bit for bit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .layers import build_sequential, describe, parameter_count, sample_shape
from .loop import training_loop
from .shapes import ShapeError
from .state import rng_state, set_rng_state
from .triggers import CheckpointTrigger


class NetworkModel:
    """Holds the nn.Sequential of one Network node (None until the first batch) and its checkpoint policy."""

    def __init__(
        self,
        node: Any,
        layers: Sequence[dict],
        *,
        checkpoint_enabled: bool,
        trigger_type: str,
        trigger_value: str,
        load_on_start: bool,
    ):
        if not layers:
            raise ShapeError(
                f"network {node.describe()} has no layers: chain Network.layers → layers → Network.to_output"
            )
        self.node = node
        self.layers = [dict(spec) for spec in layers]
        self.model: nn.Module | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.checkpoint_enabled = bool(checkpoint_enabled)
        self.trigger = CheckpointTrigger(trigger_type, trigger_value) if checkpoint_enabled else None
        self.load_on_start = bool(load_on_start)
        self._pending: tuple[dict, dict] | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def setup(self, ctx: Any) -> None:
        self.ctx = ctx
        self.loop = training_loop(ctx)
        self.inference = bool(getattr(ctx.args, "inference", False))
        if self.trigger is not None and not self.inference:
            self.loop.add_epoch_listener(self._on_epoch)
            self.loop.add_step_listener(self._on_step)
        if self.load_on_start and not ctx.resume:
            self._pending = self._weights_from_checkpoint_dir(ctx)
        elif self.inference and not ctx.resume:
            ctx.warn(
                f"network {self.node.describe()}: --inference without --resume DIR uses untrained weights; "
                "pass --resume <checkpoint dir> to load a trained model"
            )

    def _weights_from_checkpoint_dir(self, ctx: Any) -> tuple[dict, dict] | None:
        folder = ctx.checkpoint_dir / "latest" if ctx.checkpoint_dir is not None else None
        if folder is None or not folder.exists():
            ctx.warn(f"network {self.node.describe()}: checkpoint_load_on_start is set but no checkpoint exists yet")
            return None
        from ..checkpoint import load_checkpoint

        ckpt = load_checkpoint(folder)
        if self.node.node_id not in ckpt.nodes:
            ctx.warn(f"network {self.node.describe()}: the checkpoint in {folder} has no weights for this node")
            return None
        tensors, meta = ckpt.nodes[self.node.node_id]
        ctx.log(f"network {self.node.node_id}: weights loaded from {folder}")
        return tensors, {k: v for k, v in meta.items() if k != "rng"}  # weights only: a fresh run keeps its RNG

    def _on_epoch(self, record: dict) -> None:
        tag = self.trigger.on_epoch(record) if self.trigger else None
        if tag:
            self.ctx.request_checkpoint(tag)

    def _on_step(self, step: int) -> None:
        tag = self.trigger.on_step(step) if self.trigger else None
        if tag:
            self.ctx.request_checkpoint(tag)

    # -- forward --------------------------------------------------------------------------------------------------
    def build(self, x: torch.Tensor) -> nn.Module:
        shape = sample_shape(x)
        try:
            model = build_sequential(self.layers, shape)
        except ShapeError as exc:
            raise ShapeError(f"network input has shape {list(shape)} per sample, but {exc}") from None
        self.model = model.to(self.ctx.device)
        self.input_shape = shape
        self.loop.offer_model(self.model)
        self.model.dnne_input_shape = tuple(shape)  # per-sample input shape, for nodes that trace it (ExportModel)
        if self._pending is not None:
            tensors, meta = self._pending
            self._pending = None
            self._load(tensors, meta)
        if getattr(self.ctx.args, "verbose", False):
            self.ctx.log(
                f"network {self.node.node_id}: {parameter_count(self.model):,} parameters\n"
                + describe(self.layers, shape)
            )
        return self.model

    def forward(self, x: Any) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"network input must be a tensor, got {type(x).__name__}")
        if x.device != self.ctx.device:
            x = x.to(self.ctx.device)
        if not x.is_floating_point():
            x = x.float()
        model = self.model if self.model is not None else self.build(x)
        if self.input_shape is not None and sample_shape(x) != self.input_shape:
            raise ShapeError(
                f"network input changed shape: built for {list(self.input_shape)} per sample, got {list(sample_shape(x))}"
            )
        # switch modes only when needed: `Module.train()` walks every submodule (tens of µs per step); evaluation
        # restores the mode it found, so the top module's flag tells the mode of the whole model
        if self.inference:
            if model.training:
                model.eval()
            with torch.inference_mode():
                return model(x)
        if not model.training:
            model.train()
        dtype = self.loop.autocast_dtype
        if dtype is None:
            return model(x)
        with torch.autocast(x.device.type, dtype=dtype):
            return model(x)

    # -- checkpoint -----------------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        if self.model is None:
            return self._pending if self._pending is not None else ({}, {})
        tensors = {f"w.{k}": v.detach().contiguous() for k, v in self.model.state_dict().items()}
        for name, value in rng_state(self.ctx.device).items():
            tensors[f"rng.{name}"] = value
        meta = {"input_shape": list(self.input_shape or ()), "layers": self.layers}
        if self.trigger is not None:
            meta["trigger"] = self.trigger.state()
        return tensors, meta

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        if self.trigger is not None and isinstance(meta.get("trigger"), dict):
            self.trigger.load(meta["trigger"])
        if meta.get("layers") is not None and _structure(meta["layers"]) != _structure(self.layers):
            raise ValueError(
                f"network {self.node.describe()}: the checkpoint was saved for different layers; "
                "resume with the same workflow (or start a new run)"
            )
        self._check_saved_weights(tensors, meta)
        if self.model is None:
            self._pending = (tensors, meta)  # applied when the model is built at the first batch
        else:
            self._load(tensors, meta)

    def _check_saved_weights(self, tensors: dict, meta: dict) -> None:
        """Refuse, at resume, a checkpoint without this network's weights or with weights of other shapes: the model
        is only built at the first batch, so without this check such a run would train fresh weights or fail in its
        first step."""
        saved = {k[2:]: v for k, v in tensors.items() if k.startswith("w.")}
        if not saved:
            raise ValueError(
                f"network {self.node.describe()}: the checkpoint holds no weights for this network (it would "
                "train from fresh weights); resume from a checkpoint written after the first training step"
            )
        input_shape = meta.get("input_shape") if self.input_shape is None else list(self.input_shape)
        if not input_shape:
            return  # no recorded input shape: the weights are checked when the model is built
        expected = expected_weight_shapes(self.layers, input_shape)
        for name, shape in expected.items():
            if name not in saved:
                raise ValueError(
                    f"network {self.node.describe()}: the checkpoint has no tensor 'w.{name}' "
                    f"(expected shape {shape}); it was saved for other layers"
                )
            if list(saved[name].shape) != shape:
                raise ValueError(
                    f"network {self.node.describe()}: tensor 'w.{name}' has shape {list(saved[name].shape)} in the "
                    f"checkpoint, this network needs {shape} (input {list(input_shape)} per sample)"
                )
        unexpected = sorted(set(saved) - set(expected))
        if unexpected:
            raise ValueError(
                f"network {self.node.describe()}: the checkpoint has tensors this network does not have "
                f"({', '.join('w.' + n for n in unexpected[:4])}); it was saved for other layers"
            )

    def _load(self, tensors: dict, meta: dict) -> None:
        assert self.model is not None
        weights = {k[2:]: v for k, v in tensors.items() if k.startswith("w.")}
        if weights:
            missing, unexpected = self.model.load_state_dict(weights, strict=False)
            if missing or unexpected:
                raise ValueError(
                    f"network {self.node.describe()}: checkpoint weights do not match the layers "
                    f"(missing {sorted(missing)[:4]}, unexpected {sorted(unexpected)[:4]})"
                )
        rng = {k[4:]: v for k, v in tensors.items() if k.startswith("rng.")}
        if rng:
            set_rng_state(rng, self.ctx.device)  # after building: init must not shift the dropout masks


def expected_weight_shapes(layers: Sequence[dict], input_shape: Sequence[int]) -> dict[str, list[int]]:
    """The state_dict tensor shapes of the model `layers` build for `input_shape`, without allocating it: built on
    the meta device (no memory, and the RNG is not advanced, so a resumed run stays exact)."""
    with torch.device("meta"):
        model = build_sequential(layers, [int(d) for d in input_shape])
    return {name: list(value.shape) for name, value in model.state_dict().items()}


def expected_parameter_shapes(layers: Sequence[dict], input_shape: Sequence[int]) -> list[list[int]]:
    """The shapes of the model's trainable parameters in optimizer order (`model.parameters()`)."""
    with torch.device("meta"):
        model = build_sequential(layers, [int(d) for d in input_shape])
    return [list(p.shape) for p in model.parameters() if p.requires_grad]


def _structure(layers: Sequence[dict]) -> list[dict]:
    """What must match to load weights: the layer specs without their display names."""
    return [{k: v for k, v in spec.items() if k != "name"} for spec in layers]
