"""Adam over one flat parameter buffer: the small PPO networks take one optimizer step in a handful of tensor ops.

The model's parameters (and their gradients) become views of two contiguous buffers, so grad-norm clipping and the
Adam update each run once over the whole network instead of once per tensor. The maths is `torch.optim.Adam`'s
(no weight decay, no amsgrad) and `state_dict()` has its layout, so checkpoints move between the two. It also avoids
`torch.optim`'s first-use import of `torch._dynamo` (about a second of CPU at start-up).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FlatAdam:
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params: list[nn.Parameter] = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("FlatAdam got no parameters that require gradients")
        first = self.params[0]
        total = sum(p.numel() for p in self.params)
        self.flat = torch.empty(total, dtype=first.dtype, device=first.device)
        self.flat_grad = torch.zeros_like(self.flat)
        offset = 0
        for p in self.params:
            n = p.numel()
            self.flat[offset : offset + n].copy_(p.detach().reshape(-1))
            p.data = self.flat[offset : offset + n].view_as(p)
            p.grad = self.flat_grad[offset : offset + n].view_as(p)  # backward accumulates into these views
            offset += n
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.step_count = 0
        self.param_groups = [
            {"lr": float(lr), "betas": tuple(betas), "eps": float(eps), "weight_decay": 0.0, "amsgrad": False}
        ]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero the gradient buffer (the views must stay in place, so `set_to_none` is ignored)."""
        for p in self.params:
            if p.grad is None or p.grad.data_ptr() != self._grad_view_ptr(p):
                raise RuntimeError("a parameter's .grad was replaced; FlatAdam needs its gradient views kept")
        self.flat_grad.zero_()

    def _grad_view_ptr(self, p: nn.Parameter) -> int:
        return self.flat_grad.data_ptr() + (p.data_ptr() - self.flat.data_ptr())

    def clip_grad_norm_(self, max_norm: float) -> torch.Tensor:
        """Scale the gradients so their global L2 norm is at most `max_norm` (as `nn.utils.clip_grad_norm_`)."""
        norm = torch.linalg.vector_norm(self.flat_grad)
        self.flat_grad.mul_((max_norm / (norm + 1e-6)).clamp(max=1.0))
        return norm

    @torch.no_grad()
    def step(self) -> None:
        group = self.param_groups[0]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        self.step_count += 1
        grad = self.flat_grad
        self.exp_avg.lerp_(grad, 1.0 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        bias1 = 1.0 - beta1**self.step_count
        bias2_sqrt = math.sqrt(1.0 - beta2**self.step_count)
        denom = (self.exp_avg_sq.sqrt() / bias2_sqrt).add_(eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=-lr / bias1)

    # -- checkpoint (torch.optim.Adam's layout: per-parameter state keyed by index) ------------------------------
    def _slices(self):
        offset = 0
        for i, p in enumerate(self.params):
            yield i, slice(offset, offset + p.numel()), p.shape
            offset += p.numel()

    def state_dict(self) -> dict:
        state = {}
        if self.step_count:
            for i, sl, shape in self._slices():
                state[i] = {
                    "step": torch.tensor(float(self.step_count)),
                    "exp_avg": self.exp_avg[sl].view(shape),
                    "exp_avg_sq": self.exp_avg_sq[sl].view(shape),
                }
        groups = [{**self.param_groups[0], "params": list(range(len(self.params)))}]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        state = state_dict.get("state", {})
        for i, sl, _shape in self._slices():
            entry = state.get(i, state.get(str(i)))
            if entry is None:
                continue
            self.exp_avg[sl].copy_(torch.as_tensor(entry["exp_avg"]).reshape(-1))
            self.exp_avg_sq[sl].copy_(torch.as_tensor(entry["exp_avg_sq"]).reshape(-1))
            self.step_count = int(float(entry["step"]))
        groups = state_dict.get("param_groups") or []
        if groups:
            for key in ("lr", "eps"):
                if key in groups[0]:
                    self.param_groups[0][key] = float(groups[0][key])
            if "betas" in groups[0]:
                self.param_groups[0]["betas"] = tuple(float(b) for b in groups[0]["betas"])
