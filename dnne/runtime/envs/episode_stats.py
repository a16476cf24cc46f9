"""Per-env episode bookkeeping (returns and lengths of finished episodes), vectorized over envs."""

from __future__ import annotations

from collections import deque

import torch


class EpisodeStats:
    """Accumulates rewards per env; on `done` records the finished episode's return and length.

    `window` finished episodes are kept for the rolling means (`mean_return`, `mean_length`).
    """

    def __init__(self, num_envs: int, device: torch.device | str = "cpu", window: int = 100):
        self.num_envs = num_envs
        self.returns = torch.zeros(num_envs, device=device)
        self.lengths = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.recent_lengths: deque[int] = deque(maxlen=window)
        self.episodes = 0
        self.env_steps = 0

    def update(self, rewards: torch.Tensor, dones: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add one vector step; return (returns, lengths) of the episodes that finished in it."""
        self.returns += rewards.reshape(-1).to(self.returns.dtype)
        self.lengths += 1
        self.env_steps += self.num_envs
        done = dones.reshape(-1).bool()
        if not bool(done.any()):  # most steps: skip the masked copies
            return self.returns.new_empty(0), self.lengths.new_empty(0)
        finished_returns = self.returns[done].clone()
        finished_lengths = self.lengths[done].clone()
        if finished_returns.numel():
            self.recent_returns.extend(finished_returns.tolist())
            self.recent_lengths.extend(finished_lengths.tolist())
            self.episodes += int(finished_returns.numel())
            self.returns[done] = 0.0
            self.lengths[done] = 0
        return finished_returns, finished_lengths

    def add_finished(self, returns: torch.Tensor, lengths: torch.Tensor) -> None:
        """Add one vector step whose finished episodes were already measured (an env's `episode_returns` and
        `episode_lengths` extras), instead of accumulating the rewards again."""
        self.env_steps += self.num_envs
        if returns.numel():
            self.recent_returns.extend(returns.reshape(-1).tolist())
            self.recent_lengths.extend(lengths.reshape(-1).tolist())
            self.episodes += int(returns.numel())

    @property
    def mean_return(self) -> float | None:
        return sum(self.recent_returns) / len(self.recent_returns) if self.recent_returns else None

    @property
    def mean_length(self) -> float | None:
        return sum(self.recent_lengths) / len(self.recent_lengths) if self.recent_lengths else None

    def recent_mean_length(self, count: int = 10) -> float | None:
        """Mean length of the last `count` finished episodes (a less smoothed learning curve)."""
        if not self.recent_lengths:
            return None
        last = list(self.recent_lengths)[-count:]
        return sum(last) / len(last)

    def summary(self) -> dict:
        """JSON-safe snapshot: env_steps, episodes, mean_return, mean_episode_length (rolling window), and the
        mean length of the last 10 episodes."""
        return {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "mean_return": self.mean_return,
            "mean_episode_length": self.mean_length,
            "last10_episode_length": self.recent_mean_length(10),
        }
