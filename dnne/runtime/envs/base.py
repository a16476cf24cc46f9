"""The one VecTask-shaped interface every env backend implements (batched torch tensors on one device).

    obs = env.reset()                                   # [num_envs, obs_dim]
    obs, rewards, dones, extras = env.step(actions)     # actions [num_envs, act_dim] (discrete: [num_envs] indices)

Finished envs are reset inside `step` (no separate reset call). `extras` holds `time_outs` ([num_envs] bool: the
episode ended by its time limit, not by failure), `episode_returns` / `episode_lengths` (of the episodes that
finished in this step) and backend-specific entries. `step` takes actions in the env's *native* units (newtons for
the torch Cartpole, the Box bounds for gymnasium); `scale_actions` maps a policy's [-1, 1] output to those units.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .episode_stats import EpisodeStats


@dataclass(frozen=True)
class EnvSpec:
    """What a policy needs to know about an env."""

    name: str
    backend: str
    num_envs: int
    obs_dim: int
    action_dim: int  # number of action components (continuous) or of choices (discrete)
    discrete: bool
    dt: float  # seconds of simulated time per step (for --realtime)
    max_episode_length: int | None = None


class VecEnv:
    """Base class: subclasses implement `_reset`, `_step` and `spec`; episode statistics are tracked here."""

    spec: EnvSpec
    device: torch.device

    def __init__(self, spec: EnvSpec, device: torch.device):
        self.spec = spec
        self.device = device
        self.stats = EpisodeStats(spec.num_envs, device=device)

    @property
    def num_envs(self) -> int:
        return self.spec.num_envs

    def reset(self) -> torch.Tensor:
        """Reset every env; return the observations [num_envs, obs_dim]."""
        return self._reset()

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        """Step all envs, each with its own action; return (obs, rewards, dones, extras)."""
        actions = torch.as_tensor(actions, device=self.device)
        if actions.shape[0] != self.num_envs:
            raise ValueError(
                f"{self.spec.name}: got actions for {actions.shape[0]} envs, expected one row per env "
                f"({self.num_envs}); shape {tuple(actions.shape)}"
            )
        obs, rewards, dones, extras = self._step(actions)
        returns, lengths = self.stats.update(rewards, dones)
        extras["episode_returns"] = returns
        extras["episode_lengths"] = lengths
        return obs, rewards, dones, extras

    def scale_actions(self, actions: torch.Tensor) -> torch.Tensor:
        """Map a policy's actions (continuous: [-1, 1]; discrete: indices) to the native units of `step`."""
        return actions

    def render(self):
        """An RGB frame (H, W, 3 uint8 numpy array) of env 0, or None when this backend cannot render."""
        return None

    def close(self) -> None:
        pass

    # -- backends implement ---------------------------------------------------------------------------------
    def _reset(self) -> torch.Tensor:
        raise NotImplementedError

    def _step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        raise NotImplementedError
