"""Optimizers as the OPTIMIZER value that flows in a graph (the torch optimizer, its model and its LR schedules), the
LR schedules. torch is imported when first needed (the catalog imports the
node classes at export time)."""

from __future__ import annotations

from typing import Any

from .state import pack, unpack

SCHEDULES = ("step", "cosine", "one_cycle")
TORCH_OPTIMIZERS = ("SGD", "Adam", "AdamW")


class TrainingOptimizer:
    """A torch optimizer over a model's parameters, plus the LR schedules attached to it (stepped per step)."""

    def __init__(self, optimizer: Any, model: Any, kind: str):
        self.optimizer = optimizer
        self.model = model
        self.kind = kind
        self.schedulers: list[Any] = []

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, scaler: Any = None) -> None:
        """One optimizer step (through the gradient scaler under float16 autocast), then the attached LR schedules."""
        if scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        for scheduler in self.schedulers:
            scheduler.step()

    def __repr__(self) -> str:
        return f"<TrainingOptimizer {self.kind} lr={self.lr:g}>"


def make_optimizer(name: str, model: Any, **options: Any) -> TrainingOptimizer:
    """`torch.optim.<name>(trainable parameters of model, **options)`; options are torch's keyword arguments."""
    import torch
    from torch import nn

    if name not in TORCH_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} ({', '.join(TORCH_OPTIMIZERS)})")
    if not isinstance(model, nn.Module):
        raise TypeError(f"the network input must be a model (MODEL), got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    return TrainingOptimizer(getattr(torch.optim, name)(params, **options), model, name.lower())


def warm_up(name: str) -> None:
    """Build a throw-away optimizer once: torch's first optimizer construction imports torch._dynamo (seconds),
    which would otherwise be counted in the first training step."""
    from torch import nn

    make_optimizer(name, nn.Linear(1, 1))


def optimizer_state(handle: TrainingOptimizer | None, pending: tuple | None = None) -> tuple[dict, dict]:
    """Checkpoint state of an optimizer node: (tensors, meta)."""
    if handle is None:
        return pending if pending is not None else ({}, {})
    meta, tensors = pack(handle.optimizer.state_dict(), "opt")
    # the shapes of the parameters the state belongs to: a resume checks the state against them before training
    shapes = [list(p.shape) for group in handle.optimizer.param_groups for p in group["params"]]
    return tensors, {"optimizer": meta, "kind": handle.kind, "param_shapes": shapes}


def load_optimizer_state(handle: TrainingOptimizer, tensors: dict, meta: dict) -> None:
    if "optimizer" not in meta:
        return
    if meta.get("kind") not in (None, handle.kind):
        raise ValueError(f"checkpoint holds a {meta.get('kind')} optimizer state, this node is {handle.kind}")
    actual = [list(p.shape) for group in handle.optimizer.param_groups for p in group["params"]]
    check_optimizer_state(tensors, meta, actual)
    handle.optimizer.load_state_dict(unpack(meta["optimizer"], tensors))


def check_optimizer_state(tensors: dict, meta: dict, parameter_shapes: list[list[int]] | None = None) -> None:
    """ValueError naming the tensor when a saved optimizer state cannot belong to parameters of `parameter_shapes`
    (default: the shapes recorded with the state): another network, other layer sizes, or a tampered file. Run at
    resume, so such a state is refused before training instead of failing in the first step."""
    import torch

    try:
        state = unpack(meta["optimizer"], tensors)
        groups = state["param_groups"]
        ids = [i for group in groups for i in group["params"]]
        per_param = state.get("state", {})
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the optimizer state is incomplete or malformed ({exc})") from None
    shapes = parameter_shapes if parameter_shapes is not None else meta.get("param_shapes")
    if shapes is not None and len(shapes) != len(ids):
        raise ValueError(
            f"the optimizer state is for {len(ids)} parameter tensors in its param groups, the network has "
            f"{len(shapes)}; it was saved for another network"
        )
    for position, param_id in enumerate(ids):
        entry = per_param.get(param_id)
        if not isinstance(entry, dict):
            continue  # a parameter without state yet (no step taken): nothing to check
        for name, value in entry.items():
            if not isinstance(value, torch.Tensor) or name == "step":
                continue
            if shapes is not None:
                expected = list(shapes[position])
            else:  # older checkpoints: at least the moments of one parameter must agree with each other
                expected = next(list(v.shape) for k, v in entry.items() if isinstance(v, torch.Tensor) and k != "step")
            if list(value.shape) != expected:
                raise ValueError(
                    f"optimizer tensor 'opt.state.{param_id}.{name}' has shape {list(value.shape)}, "
                    f"its parameter needs {expected}"
                )


class LRSchedule:
    """An LR schedule attached to a TrainingOptimizer, sized from the sampler's batches per epoch."""

    def __init__(self, schedule: str, *, epochs: int, step_size: int, gamma: float, max_lr: float):
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {schedule!r} ({', '.join(SCHEDULES)})")
        self.schedule = schedule
        self.epochs = int(epochs)
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        self.max_lr = float(max_lr)
        self.scheduler: Any = None
        self._pending: tuple[dict, dict] | None = None

    def attach(self, handle: TrainingOptimizer, schema: dict | None, epochs_override: int | None) -> TrainingOptimizer:
        import torch

        per_epoch = int((schema or {}).get("batches_per_epoch") or 0)
        if per_epoch < 1:
            raise ValueError("LRScheduler needs the BatchSampler's schema (connect BatchSampler.schema → schema)")
        epochs = int(epochs_override or self.epochs)
        total = epochs * per_epoch
        if self.schedule == "one_cycle":
            peak = self.max_lr if self.max_lr > 0 else handle.lr * 10
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                handle.optimizer, max_lr=peak, total_steps=max(2, total), cycle_momentum=False
            )
        elif self.schedule == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(handle.optimizer, T_max=max(1, total))
        else:
            self.scheduler = torch.optim.lr_scheduler.StepLR(
                handle.optimizer, step_size=max(1, self.step_size * per_epoch), gamma=self.gamma
            )
        handle.schedulers.append(self.scheduler)
        if self._pending is not None:
            self.load_state_dict(*self._pending)
            self._pending = None
        return handle

    def state_dict(self) -> tuple[dict, dict]:
        if self.scheduler is None:
            return self._pending if self._pending is not None else ({}, {})
        meta, tensors = pack(self.scheduler.state_dict(), "sched")
        return tensors, {"scheduler": meta, "schedule": self.schedule}

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        if "scheduler" not in meta:
            return
        if self.scheduler is None:
            self._pending = (tensors, meta)
            return
        self.scheduler.load_state_dict(unpack(meta["scheduler"], tensors))
        # building the scheduler reset the learning rate: put back the one it had reached
        for group, lr in zip(self.scheduler.optimizer.param_groups, self.scheduler.get_last_lr(), strict=True):
            group["lr"] = lr
