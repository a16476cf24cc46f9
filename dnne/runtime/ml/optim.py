"""Optimizers as the OPTIMIZER value that flows in a graph: the torch optimizer, its model and its LR schedules."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .state import pack, unpack

SCHEDULES = ("step", "cosine", "one_cycle")


class TrainingOptimizer:
    """A torch optimizer over a model's parameters, plus the LR schedules attached to it (stepped per step)."""

    def __init__(self, optimizer: torch.optim.Optimizer, model: nn.Module, kind: str):
        self.optimizer = optimizer
        self.model = model
        self.kind = kind
        self.schedulers: list[Any] = []

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def step(self, scaler: Any = None) -> None:
        if scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        for scheduler in self.schedulers:
            scheduler.step()

    def __repr__(self) -> str:
        return f"<TrainingOptimizer {self.kind} lr={self.lr:g}>"


def make_optimizer(kind: str, model: nn.Module, **options: Any) -> TrainingOptimizer:
    """kind: sgd | adam | adamw. Options are the node's widgets (learning_rate, momentum, weight_decay, …)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"the network input must be a model (MODEL), got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    lr = float(options.get("learning_rate", 1e-3))
    wd = float(options.get("weight_decay", 0.0))
    if kind == "sgd":
        momentum = float(options.get("momentum", 0.0))
        nesterov = bool(options.get("nesterov", False)) and momentum > 0
        opt: torch.optim.Optimizer = torch.optim.SGD(
            params, lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov
        )
    elif kind in ("adam", "adamw"):
        betas = (float(options.get("beta1", 0.9)), float(options.get("beta2", 0.999)))
        eps = float(options.get("eps", 1e-8))
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        opt = cls(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    else:
        raise ValueError(f"unknown optimizer {kind!r} (sgd, adam, adamw)")
    return TrainingOptimizer(opt, model, kind)


def warm_up(kind: str) -> None:
    """Build a throw-away optimizer once: torch's first optimizer construction imports torch._dynamo (seconds),
    which would otherwise be counted in the first training step."""
    make_optimizer(kind, nn.Linear(1, 1))


def optimizer_state(handle: TrainingOptimizer | None, pending: tuple | None = None) -> tuple[dict, dict]:
    """Checkpoint state of an optimizer node: (tensors, meta)."""
    if handle is None:
        return pending if pending is not None else ({}, {})
    meta, tensors = pack(handle.optimizer.state_dict(), "opt")
    return tensors, {"optimizer": meta, "kind": handle.kind}


def load_optimizer_state(handle: TrainingOptimizer, tensors: dict, meta: dict) -> None:
    if "optimizer" not in meta:
        return
    if meta.get("kind") not in (None, handle.kind):
        raise ValueError(f"checkpoint holds a {meta.get('kind')} optimizer state, this node is {handle.kind}")
    handle.optimizer.load_state_dict(unpack(meta["optimizer"], tensors))


def make_schedule(
    handle: TrainingOptimizer, schedule: str, *, total_steps: int, step_size: int, gamma: float, max_lr: float
) -> Any:
    """A per-step LR schedule on `handle`: step (×gamma every step_size steps), cosine (to 0 over total_steps),
    one_cycle (warm-up to max_lr then anneal, over total_steps)."""
    opt = handle.optimizer
    if schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, int(step_size)), gamma=float(gamma))
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(total_steps)))
    if schedule == "one_cycle":
        peak = float(max_lr) if max_lr > 0 else handle.lr * 10
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak, total_steps=max(2, int(total_steps)))
    raise ValueError(f"unknown schedule {schedule!r} ({', '.join(SCHEDULES)})")


def finite_or_raise(loss: torch.Tensor, step: int) -> None:
    value = loss.detach()
    if value.numel() == 1 and not math.isfinite(float(value)):
        raise FloatingPointError(
            f"the loss is {float(value)} at step {step}: training diverged (lower the learning rate, "
            "or enable gradient clipping)"
        )
