"""What the Isaac Gym Step node does each firing: convert actions, step every env, pace, render, build `info`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import torch

from .base import VecEnv
from .png import write_png


def native_actions(env: VecEnv, actions) -> torch.Tensor:
    """A POLICY dict (policy units: [-1, 1] or indices) or an ACTION tensor (native units) → native actions."""
    if isinstance(actions, dict):
        if "action" not in actions:
            raise ValueError(f"a policy output must hold 'action'; got keys {sorted(actions)}")
        return env.scale_actions(torch.as_tensor(actions["action"], device=env.device))
    if not isinstance(actions, torch.Tensor):
        actions = torch.as_tensor(actions, dtype=torch.float32)
    actions = actions.to(env.device)
    if actions.ndim == 0 or actions.shape[0] != env.num_envs:
        raise ValueError(
            f"actions must have one row per env ({env.num_envs} envs), got shape {tuple(actions.shape)}: every env "
            "applies its own action (no broadcast of env 0's action)"
        )
    return actions


class EnvStepper:
    """Steps a VecEnv; optionally paces to real time (`realtime`) and writes PNG frames of env 0 (`render_dir`)."""

    def __init__(self, env: VecEnv, *, realtime: bool = False, render_dir: Path | None = None, render_every: int = 1):
        self.env = env
        self.realtime = realtime
        self.render_dir = render_dir
        self.render_every = max(1, render_every)
        self.steps = 0
        self._next_deadline: float | None = None
        self._render_warned = False

    async def step(self, actions) -> dict:
        env = self.env
        obs, rewards, dones, extras = env.step(native_actions(env, actions))
        self.steps += 1
        if self.render_dir is not None and self.steps % self.render_every == 0:
            self._render()
        if self.realtime:
            await self._pace()
        next_obs = extras.get("final_observations", obs)
        info = {
            "time_outs": extras["time_outs"],
            "episode_returns": extras["episode_returns"],
            "episode_lengths": extras["episode_lengths"],
            "terminal_observations": next_obs,
            "stats": env.stats.summary(),
        }
        return {"observations": obs, "rewards": rewards, "done": dones, "info": info, "next_observations": next_obs}

    async def _pace(self) -> None:
        now = time.perf_counter()
        if self._next_deadline is None:
            self._next_deadline = now
        self._next_deadline += self.env.spec.dt
        delay = self._next_deadline - now
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            self._next_deadline = now  # running behind: do not try to catch up

    def _render(self) -> None:
        frame = self.env.render()
        if frame is None:
            if not self._render_warned:
                self._render_warned = True
                why = getattr(self.env, "render_error", None)
                print(
                    f"--render: the {self.env.spec.backend} backend cannot render {self.env.spec.name}; no frames"
                    + (f" ({why})" if why else "")
                )
            return
        self.render_dir.mkdir(parents=True, exist_ok=True)
        write_png(self.render_dir / f"frame_{self.steps:06d}.png", frame)
