"""PPO update in plain torch: clipped surrogate, (clipped) value loss, entropy bonus, minibatches × epochs,
advantage normalisation, grad-norm clipping, adaptive-KL or linear learning-rate schedule."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .buffer import RolloutBuffer, compute_gae
from .flat_adam import FlatAdam


@dataclass
class PPOConfig:
    horizon_length: int = 16
    num_epochs: int = 4
    minibatch_size: int = 32  # transitions per minibatch (clipped to the rollout size)
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_param: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    learning_rate: float = 3e-4
    max_grad_norm: float = 0.5
    reward_scale: float = 1.0
    normalize_advantages: bool = True
    clip_value: bool = False
    lr_schedule: str = "fixed"  # fixed | adaptive (KL) | linear
    kl_target: float = 0.008
    total_updates: int = 0  # for "linear": updates until the rate reaches 0 (0 = no decay)


def ppo_losses(
    model: nn.Module, batch: dict[str, torch.Tensor], cfg: PPOConfig
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its parts for one minibatch (obs already normalised)."""
    log_prob, entropy, value = model.evaluate(batch["obs"], batch["actions"])
    ratio = torch.exp(log_prob - batch["log_probs"])
    adv = batch["advantages"]
    surrogate = torch.min(ratio * adv, ratio.clamp(1.0 - cfg.clip_param, 1.0 + cfg.clip_param) * adv)
    policy_loss = -surrogate.mean()
    if cfg.clip_value:
        clipped = batch["values"] + (value - batch["values"]).clamp(-cfg.clip_param, cfg.clip_param)
        value_loss = torch.max((value - batch["returns"]) ** 2, (clipped - batch["returns"]) ** 2).mean()
    else:
        value_loss = ((value - batch["returns"]) ** 2).mean()
    entropy_mean = entropy.mean()
    loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy_mean
    with torch.no_grad():
        approx_kl = ((ratio - 1.0) - (log_prob - batch["log_probs"])).mean()
    return loss, {
        "policy_loss": policy_loss.detach(),
        "value_loss": value_loss.detach(),
        "entropy": entropy_mean.detach(),
        "approx_kl": approx_kl,
    }


class PPOLearner:
    """Owns the rollout buffer and the optimizer of an `ActorCritic`; `update` runs one PPO iteration."""

    def __init__(self, model: nn.Module, num_envs: int, cfg: PPOConfig, device, optimizer=None, seed: int = 0):
        self.model, self.cfg, self.device = model, cfg, device
        self.optimizer = optimizer or FlatAdam(model.parameters(), lr=cfg.learning_rate, eps=1e-5)
        action_shape = () if model.discrete else (model.action_dim,)
        self.buffer = RolloutBuffer(cfg.horizon_length, num_envs, model.obs_dim, action_shape, model.discrete, device)
        self.updates = 0
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(int(seed))  # minibatch order

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def record(self, obs, action, log_prob, value, reward, done, time_out=None, terminal_value=None) -> bool:
        """Add one vector step (raw observations). True when the rollout is full.

        `terminal_value` (scaled like the values) bootstraps time-outs; `reward_scale` multiplies the rewards."""
        scale = self.cfg.reward_scale
        self.buffer.add(obs, action, log_prob, value, reward * scale, done, time_out, terminal_value, self.cfg.gamma)
        return self.buffer.full

    def update(self, last_value: torch.Tensor) -> dict[str, float]:
        """GAE with `last_value` = V(observation after the last recorded step), then epochs × minibatches."""
        cfg, buf = self.cfg, self.buffer
        with torch.no_grad():
            advantages, returns = compute_gae(buf.rewards, buf.values, buf.dones, last_value, cfg.gamma, cfg.gae_lambda)
        n = buf.step * buf.num_envs
        if self.model.value_norm is not None:  # value targets in standardised units (stats include these returns)
            self.model.value_norm.update(returns[: buf.step].reshape(-1, 1))
            values_std, returns_std = self.model.normalize_value(buf.values), self.model.normalize_value(returns)
        else:
            values_std, returns_std = buf.values, returns
        raw_obs = buf.obs[: buf.step].reshape(n, -1)
        flat = {
            "obs": self.model.normalize(raw_obs),  # the statistics the rollout was acted with (updated below)
            "actions": buf.actions[: buf.step].reshape(n, *buf.actions.shape[2:]),
            "log_probs": buf.log_probs[: buf.step].reshape(n),
            "values": values_std[: buf.step].reshape(n),
            "advantages": advantages[: buf.step].reshape(n),
            "returns": returns_std[: buf.step].reshape(n),
        }
        minibatch = max(1, min(cfg.minibatch_size, n))
        sums: dict[str, float] = {}
        count = 0
        for _ in range(cfg.num_epochs):
            if minibatch == n:  # one minibatch per epoch: its order does not matter, so no shuffled copy
                batches = [flat]
            else:
                order = torch.randperm(n, generator=self.generator).to(self.device)
                batches = (
                    {k: v[order[start : start + minibatch]] for k, v in flat.items()}
                    for start in range(0, n - minibatch + 1, minibatch)
                )
            for batch in batches:
                batch = dict(batch)
                if cfg.normalize_advantages and minibatch > 1:
                    adv = batch["advantages"]
                    batch["advantages"] = (adv - adv.mean()) / (adv.std() + 1e-8)
                loss, parts = ppo_losses(self.model, batch, cfg)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if isinstance(self.optimizer, FlatAdam):
                    self.optimizer.clip_grad_norm_(cfg.max_grad_norm)
                else:
                    nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                parts["loss"] = loss.detach()
                for key, value in parts.items():
                    sums[key] = sums.get(key, 0.0) + float(value)
                count += 1
                self._schedule(float(parts["approx_kl"]))
        if self.model.obs_norm is not None:
            self.model.obs_norm.update(raw_obs)  # after the update: acting and updating saw the same statistics
        self.updates += 1
        if cfg.lr_schedule == "linear" and cfg.total_updates > 0:
            frac = max(0.0, 1.0 - self.updates / cfg.total_updates)
            self._set_lr(cfg.learning_rate * frac)
        buf.reset()
        stats = {k: v / max(count, 1) for k, v in sums.items()}
        stats["learning_rate"] = self.learning_rate
        return stats

    # -- checkpoint: the optimizer's moments and the update count (the weights are the agent's) -------------------
    def state_dict(self) -> tuple[dict, dict]:
        tensors, meta = {}, {"updates": self.updates, "optimizer": {}}
        opt = self.optimizer.state_dict()
        for pid, pstate in opt["state"].items():
            for key, value in pstate.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{pid}.{key}"] = value.detach().clone()
                else:
                    meta["optimizer"].setdefault(str(pid), {})[key] = value
        meta["param_groups"] = opt["param_groups"]
        return tensors, meta

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        state: dict = {}
        for name, value in tensors.items():
            if name.startswith("optimizer."):
                _, pid, key = name.split(".", 2)
                state.setdefault(int(pid), {})[key] = value
        for pid, extra in meta.get("optimizer", {}).items():
            state.setdefault(int(pid), {}).update(extra)
        if meta.get("param_groups"):
            self.optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        self.updates = int(meta.get("updates", 0))

    def _schedule(self, kl: float) -> None:
        if self.cfg.lr_schedule != "adaptive":
            return
        lr = self.learning_rate
        if kl > 2.0 * self.cfg.kl_target:
            lr = max(lr / 1.5, 1e-6)
        elif kl < 0.5 * self.cfg.kl_target:
            lr = min(lr * 1.5, 1e-2)
        self._set_lr(lr)

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
