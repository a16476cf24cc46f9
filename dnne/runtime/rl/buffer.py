"""Rollout storage for `horizon` vector steps and GAE with bootstrapping at the horizon and at time-outs."""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_value: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over [T, N] tensors; `last_value` [N] is V(observation after step T-1).

    `dones[t]` ends the episode after step t (no bootstrap through it). Returns (advantages, returns).
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    next_adv = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(steps)):
        nonterminal = 1.0 - dones[t].to(rewards.dtype)
        delta = rewards[t] + gamma * next_value * nonterminal - values[t]
        next_adv = delta + gamma * lam * nonterminal * next_adv
        advantages[t] = next_adv
        next_value = values[t]
    return advantages, advantages + values


class RolloutBuffer:
    def __init__(self, horizon: int, num_envs: int, obs_dim: int, action_shape: tuple, discrete: bool, device):
        self.horizon, self.num_envs = horizon, num_envs
        self.obs = torch.zeros(horizon, num_envs, obs_dim, device=device)
        self.actions = torch.zeros(
            (horizon, num_envs, *action_shape), dtype=torch.long if discrete else torch.float32, device=device
        )
        self.log_probs = torch.zeros(horizon, num_envs, device=device)
        self.values = torch.zeros(horizon, num_envs, device=device)
        self.rewards = torch.zeros(horizon, num_envs, device=device)
        self.dones = torch.zeros(horizon, num_envs, device=device)
        self.step = 0

    @property
    def full(self) -> bool:
        return self.step >= self.horizon

    def add(self, obs, action, log_prob, value, reward, done, time_out=None, terminal_value=None, gamma=0.99):
        """Record one vector step. A time-out (episode cut by its time limit, not a failure) adds
        `gamma * terminal_value` to the reward, so truncation is not learned as a terminal state."""
        if self.full:
            raise RuntimeError("rollout buffer is full: call reset() after the update")
        t = self.step
        reward = reward.reshape(self.num_envs).float()
        if time_out is not None and terminal_value is not None:
            reward = reward + gamma * terminal_value.reshape(self.num_envs) * time_out.reshape(self.num_envs).float()
        self.obs[t] = obs
        self.actions[t] = action.reshape(self.actions.shape[1:])
        self.log_probs[t] = log_prob.reshape(self.num_envs)
        self.values[t] = value.reshape(self.num_envs)
        self.rewards[t] = reward
        self.dones[t] = done.reshape(self.num_envs).float()
        self.step += 1

    def reset(self) -> None:
        self.step = 0
