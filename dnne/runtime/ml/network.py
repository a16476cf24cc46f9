"""The Network node's model: the architecture class the export wrote (an nn.Module subclass in runner.py), built at the
first batch, trained in place, checkpointed with the RNG state so that a resumed run continues bit for bit.

torch is imported when first needed (the catalog imports the Network class at export time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .loop import TrainingLoop
from .shapes import ShapeError
from .state import rng_state, set_rng_state


def sample_shape(batch: Any) -> tuple[int, ...]:
    """Per-sample shape of a batch tensor ([N, ...] → (...)); a 1-D batch is N scalars, shape (1,)."""
    return tuple(batch.shape[1:]) or (1,)


def parameter_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


class NetworkModel:
    """The model of one Network node (None until the first batch): building, forward mode and checkpoint state."""

    def __init__(self, node: Any, architecture: type, input_shape: Sequence[int], *, load_on_start: bool):
        self.node = node
        self.architecture = architecture
        self.expected_shape = tuple(int(d) for d in input_shape) or None  # None: only known at the first batch
        self.model: Any = None
        self.input_shape: tuple[int, ...] | None = None
        self.load_on_start = bool(load_on_start)
        self._pending: tuple[dict, dict] | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def setup(self, ctx: Any) -> None:
        self.ctx = ctx
        self.loop = ctx.pack_state("ml", TrainingLoop)
        self.inference = bool(getattr(ctx.args, "inference", False))
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

    # -- forward --------------------------------------------------------------------------------------------------
    def build(self, x: Any) -> Any:
        shape = sample_shape(x)
        if self.expected_shape is not None and shape != self.expected_shape:
            raise ShapeError(
                f"network {self.node.describe()}: its layers were written for input {list(self.expected_shape)} per "
                f"sample, but the batch has {list(shape)}: export the workflow again for this data"
            )
        self.model = self.architecture().to(self.ctx.device)
        self.input_shape = shape
        self.loop.offer_model(self.model)
        self.model.dnne_input_shape = tuple(shape)  # per-sample input shape, for nodes that trace it (ExportModel)
        if self._pending is not None:
            tensors, meta = self._pending
            self._pending = None
            self._load(tensors, meta)
        if getattr(self.ctx.args, "verbose", False):
            self.ctx.log(f"network {self.node.node_id}: {parameter_count(self.model):,} parameters\n{self.model}")
        return self.model

    def forward(self, x: Any) -> Any:
        import torch

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
        # the trainable parameter shapes in optimizer order: a resume checks the optimizer's saved state against them
        shapes = [list(p.shape) for p in self.model.parameters() if p.requires_grad]
        return tensors, {"input_shape": list(self.input_shape or ()), "param_shapes": shapes}

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
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
        expected = expected_weight_shapes(self.architecture)
        if expected is None:
            return  # lazy layers (sized from the data): the weights are checked when the model is built
        for name, shape in expected.items():
            if name not in saved:
                raise ValueError(
                    f"network {self.node.describe()}: the checkpoint has no tensor 'w.{name}' "
                    f"(expected shape {shape}); it was saved for other layers"
                )
            if list(saved[name].shape) != shape:
                written_for = f" (input {list(self.expected_shape)} per sample)" if self.expected_shape else ""
                raise ValueError(
                    f"network {self.node.describe()}: tensor 'w.{name}' has shape {list(saved[name].shape)} in the "
                    f"checkpoint, this network needs {shape}{written_for}; it was saved for other layers"
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


def expected_weight_shapes(architecture: type) -> dict[str, list[int]] | None:
    """The state_dict tensor shapes of `architecture()` without allocating it: built on the meta device (no memory,
    and the RNG is not advanced, so a resumed run stays exact). None when it has lazy modules (sized at run time)."""
    import torch
    from torch.nn.parameter import UninitializedParameter

    with torch.device("meta"):
        model = architecture()
    state = model.state_dict()
    if any(isinstance(value, UninitializedParameter) for value in state.values()):
        return None
    return {name: list(value.shape) for name, value in state.items()}
