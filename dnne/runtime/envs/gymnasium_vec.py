"""Adapter from a `gymnasium` vector env (SAME_STEP autoreset) to the VecTask-shaped interface.

Runs on CPU (MuJoCo for Ant/HalfCheetah/Humanoid); observations, rewards and dones come back as torch tensors on
`device`. Terminal observations of envs that finished in a step are in `extras["final_observations"]`.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from .base import EnvSpec, VecEnv
from .env_ids import GYM_IDS, check_env_name, gym_id

__all__ = ["GYM_IDS", "GymnasiumVecEnv", "gym_id"]


class GymnasiumVecEnv(VecEnv):
    def __init__(
        self,
        env_name: str,
        num_envs: int,
        device: torch.device | str = "cpu",
        *,
        seed: int | None = None,
        render: bool = False,
    ):
        try:
            import gymnasium as gym
            from gymnasium.vector import AutoresetMode
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                f"env {env_name!r} needs the gymnasium backend: pip install 'gymnasium[mujoco]'"
            ) from exc
        check_env_name(env_name, "gymnasium")  # before make_vec: a 'module:' id would import that module
        env_id = gym_id(env_name)
        kwargs = {"render_mode": "rgb_array"} if render else {}
        if render:
            os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen MuJoCo rendering without a display
        try:
            self.env = gym.make_vec(
                env_id,
                num_envs,
                vectorization_mode="sync",
                vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
                **kwargs,
            )
        except gym.error.Error as exc:
            raise RuntimeError(f"gymnasium cannot make env {env_id!r} (from env_name {env_name!r}): {exc}") from exc
        obs_space = self.env.single_observation_space
        act_space = self.env.single_action_space
        discrete = isinstance(act_space, gym.spaces.Discrete)
        if discrete:
            action_dim = int(act_space.n)
            self._low = self._high = None
        else:
            action_dim = int(np.prod(act_space.shape))
            self._low = torch.as_tensor(act_space.low, dtype=torch.float32, device=device).reshape(-1)
            self._high = torch.as_tensor(act_space.high, dtype=torch.float32, device=device).reshape(-1)
        dt = float(getattr(self.env.envs[0].unwrapped, "dt", 0.02) or 0.02)
        max_len = getattr(self.env.envs[0].spec, "max_episode_steps", None)
        spec = EnvSpec(
            env_name, "gymnasium", num_envs, int(np.prod(obs_space.shape)), action_dim, discrete, dt, max_len
        )
        super().__init__(spec, torch.device(device))
        self.env_id = env_id
        self.seed = seed
        self.render_error: str | None = None

    def scale_actions(self, actions: torch.Tensor) -> torch.Tensor:
        if self.spec.discrete:
            return actions.reshape(self.num_envs).long()
        a = actions.reshape(self.num_envs, -1).clamp(-1.0, 1.0)
        return self._low + (a + 1.0) * 0.5 * (self._high - self._low)

    def _reset(self) -> torch.Tensor:
        obs, _ = self.env.reset(seed=self.seed)
        return self._tensor(obs)

    def _step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        if self.spec.discrete:
            act = actions.reshape(self.num_envs).long().cpu().numpy()
        else:
            act = actions.reshape(self.num_envs, -1).float()
            act = torch.maximum(torch.minimum(act, self._high), self._low).cpu().numpy()
        obs, rewards, terminated, truncated, infos = self.env.step(act)
        obs_t = self._tensor(obs)
        dones = torch.as_tensor(np.logical_or(terminated, truncated), device=self.device)
        extras = {"time_outs": torch.as_tensor(np.logical_and(truncated, ~terminated), device=self.device)}
        if "final_obs" in infos:
            final = obs_t.clone()
            for i in np.flatnonzero(infos.get("_final_obs", np.zeros(self.num_envs, bool))):
                final[i] = torch.as_tensor(np.asarray(infos["final_obs"][i], dtype=np.float32), device=self.device)
            extras["final_observations"] = final
        return obs_t, torch.as_tensor(rewards, dtype=torch.float32, device=self.device), dones, extras

    def render(self):
        try:
            frames = self.env.render()
        except Exception as exc:  # a missing GL/pygame backend must not stop training
            self.render_error = f"{type(exc).__name__}: {exc}"
            return None
        return None if frames is None else np.asarray(frames[0])

    def close(self) -> None:
        self.env.close()

    def _tensor(self, obs) -> torch.Tensor:
        return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device).reshape(self.num_envs, -1)
