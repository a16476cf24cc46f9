"""A batched cart-pole in plain torch with the IsaacGymEnvs Cartpole task's interface, reward and reset rules.

Equivalent to IsaacGymEnvs `tasks/cartpole.py` + `cfg/task/Cartpole.yaml`: observation `[cart_pos, cart_vel,
pole_angle, pole_vel]`, one continuous action (a cart force in newtons, clamped to ±`max_effort`), dt 1/60 s with 2
physics substeps, reward `1 - θ² - 0.01|ẋ| - 0.005|θ̇|` (−2 when |x| > `reset_dist` or |θ| > π/2), episodes of
`max_episode_length` steps, reset to positions uniform in ±0.1 and velocities in ±0.25, observations clamped to ±5.

Reset ordering (`reset_mode`):
* "isaacgym" (default, as IsaacGymEnvs' `post_physics_step`): progress += 1 → reset the envs flagged on the
  *previous* step → observe → reward and new flags. The step that raises `done` returns the terminal observation;
  the fresh state appears in the next step's observation.
* "same_step": flagged envs are reset at the end of the same step (gymnasium SAME_STEP style); the terminal
  observations are in `extras["final_observations"]`.

Dynamics are the analytic cart-pole equations (no contacts) with the masses and lengths of IsaacGymEnvs'
`assets/urdf/cartpole.urdf`: cart 1 kg, pole 1 kg with its centre of mass 0.47 m above the hinge, pole length 1 m
(inertia m·L²/12 about its centre). PhysX trajectories are not reproduced bit for bit.
"""

from __future__ import annotations

import math

import torch

from .base import EnvSpec, VecEnv

GRAVITY = 9.81
CART_MASS = 1.0
POLE_MASS = 1.0
POLE_COM = 0.47
POLE_INERTIA = POLE_MASS * 1.0**2 / 12.0
OBS_CLIP = 5.0


class TorchCartpole(VecEnv):
    def __init__(
        self,
        num_envs: int,
        device: torch.device | str = "cpu",
        *,
        max_effort: float = 400.0,
        reset_dist: float = 3.0,
        max_episode_length: int = 500,
        dt: float = 1.0 / 60.0,
        substeps: int = 2,
        reset_mode: str = "isaacgym",
        seed: int | None = None,
    ):
        if num_envs < 1:
            raise ValueError(f"Cartpole: num_envs must be at least 1, got {num_envs}")
        if reset_mode not in ("isaacgym", "same_step"):
            raise ValueError(f"Cartpole: reset_mode must be 'isaacgym' or 'same_step', got {reset_mode!r}")
        device = torch.device(device)
        spec = EnvSpec("Cartpole", "torch", num_envs, 4, 1, False, dt, max_episode_length)
        super().__init__(spec, device)
        self.max_effort = float(max_effort)
        self.reset_dist = float(reset_dist)
        self.max_episode_length = int(max_episode_length)
        self.dt = float(dt)
        self.substeps = int(substeps)
        self.reset_mode = reset_mode
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed if seed is not None else torch.seed() % 2**63)
        self.state = torch.zeros(num_envs, 4, device=device)  # x, x_dot, theta, theta_dot
        self.progress = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.reset_buf = torch.ones(num_envs, dtype=torch.bool, device=device)

    # -- VecEnv ---------------------------------------------------------------------------------------------
    def scale_actions(self, actions: torch.Tensor) -> torch.Tensor:
        return actions.clamp(-1.0, 1.0) * self.max_effort

    def _reset(self) -> torch.Tensor:
        self._reset_envs(torch.arange(self.num_envs, device=self.device))
        return self._observe()

    def _step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        force = actions.reshape(self.num_envs, -1)[:, 0].to(self.state.dtype).clamp(-self.max_effort, self.max_effort)
        self._simulate(force)
        self.progress += 1
        extras: dict = {}
        if self.reset_mode == "isaacgym":
            flagged = self.reset_buf.nonzero().squeeze(-1)
            if flagged.numel():
                self._reset_envs(flagged)
            obs = self._observe()
            rewards, failed = self._reward_and_failure()
            time_limit = self.progress >= self.max_episode_length - 1
        else:
            obs = self._observe()
            rewards, failed = self._reward_and_failure()
            time_limit = self.progress >= self.max_episode_length
        self.reset_buf = failed | time_limit
        dones = self.reset_buf.clone()
        extras["time_outs"] = time_limit & ~failed
        if self.reset_mode == "same_step":
            extras["final_observations"] = obs
            flagged = self.reset_buf.nonzero().squeeze(-1)
            if flagged.numel():
                self._reset_envs(flagged)
                obs = self._observe()
        return obs, rewards, dones, extras

    # -- physics --------------------------------------------------------------------------------------------
    def _simulate(self, force: torch.Tensor) -> None:
        h = self.dt / self.substeps
        x, x_dot, th, th_dot = self.state.unbind(1)
        total_mass = CART_MASS + POLE_MASS
        ml = POLE_MASS * POLE_COM
        pole_moment = POLE_INERTIA + POLE_MASS * POLE_COM**2
        for _ in range(self.substeps):
            sin, cos = torch.sin(th), torch.cos(th)
            b = ml * cos
            det = total_mass * pole_moment - b * b
            drive = force + ml * sin * th_dot * th_dot
            gravity = ml * GRAVITY * sin
            x_acc = (pole_moment * drive - b * gravity) / det
            th_acc = (total_mass * gravity - b * drive) / det
            x_dot = x_dot + h * x_acc
            th_dot = th_dot + h * th_acc
            x = x + h * x_dot
            th = th + h * th_dot
        self.state = torch.stack((x, x_dot, th, th_dot), dim=1)

    def _reset_envs(self, env_ids: torch.Tensor) -> None:
        n = env_ids.numel()
        rand = torch.rand((n, 4), device=self.device, generator=self.generator)
        fresh = torch.empty((n, 4), device=self.device)
        fresh[:, 0::2] = 0.2 * (rand[:, 0::2] - 0.5)  # positions in ±0.1
        fresh[:, 1::2] = 0.5 * (rand[:, 1::2] - 0.5)  # velocities in ±0.25
        self.state[env_ids] = fresh
        self.progress[env_ids] = 0
        self.reset_buf[env_ids] = False

    def _observe(self) -> torch.Tensor:
        return self.state.clamp(-OBS_CLIP, OBS_CLIP)

    def _reward_and_failure(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, x_dot, th, th_dot = self.state.unbind(1)
        reward = 1.0 - th * th - 0.01 * x_dot.abs() - 0.005 * th_dot.abs()
        failed = (x.abs() > self.reset_dist) | (th.abs() > math.pi / 2)
        reward = torch.where(failed, torch.full_like(reward, -2.0), reward)
        return reward, failed
