"""Isaac Gym backend (IsaacGymEnvs `VecTask`), imported lazily; needs an NVIDIA GPU, `isaacgym` and `isaacgymenvs`.

Typed against the documented IsaacGymEnvs 1.5 API: `isaacgymenvs.make(seed, task, num_envs, sim_device, rl_device,
graphics_device_id, headless)` returns a VecTask whose `step(actions)` clamps actions to ±1 and scales them itself
(Cartpole: × `maxEffort`), resets inside `step` and returns `(obs_dict, rew_buf, reset_buf, extras)`.
It cannot run on a machine without Isaac Gym; nothing in dnne's tests depends on it.
"""

from __future__ import annotations

import sys

import torch

from .base import EnvSpec, VecEnv


def isaacgym_available() -> bool:
    try:
        import isaacgym  # noqa: F401
        import isaacgymenvs  # noqa: F401
    except Exception:
        return False
    return True


class IsaacGymVecEnv(VecEnv):
    def __init__(
        self,
        env_name: str,
        num_envs: int,
        device: torch.device | str = "cuda",
        *,
        seed: int | None = None,
        headless: bool = True,
        isaac_gym_path: str = "",
        isaac_gym_envs_path: str = "",
    ):
        for path in (isaac_gym_path, isaac_gym_envs_path):
            if path and path not in sys.path:
                sys.path.append(path)
        try:
            import isaacgym  # noqa: F401  (must be imported before torch-using isaacgymenvs modules)
            import isaacgymenvs
        except ImportError as exc:
            raise RuntimeError(
                "the isaacgym backend needs Isaac Gym Preview 4 and IsaacGymEnvs installed on an NVIDIA machine; "
                "use backend 'torch' (Cartpole) or 'gymnasium' instead"
            ) from exc
        device = torch.device(device)
        dev = f"cuda:{device.index or 0}" if device.type == "cuda" else "cpu"
        self.task = isaacgymenvs.make(
            seed=seed or 0,
            task=env_name,
            num_envs=num_envs,
            sim_device=dev,
            rl_device=dev,
            graphics_device_id=0 if not headless else -1,
            headless=headless,
        )
        act_dim = int(self.task.num_acts)
        dt = float(getattr(self.task, "dt", 1.0 / 60.0))
        max_len = getattr(self.task, "max_episode_length", None)
        spec = EnvSpec(env_name, "isaacgym", num_envs, int(self.task.num_obs), act_dim, False, dt, max_len)
        super().__init__(spec, device)
        # VecTask scales normalised actions itself; native units for dnne are forces, so divide them back.
        self.action_scale = float(getattr(self.task, "max_push_effort", 1.0))

    def scale_actions(self, actions: torch.Tensor) -> torch.Tensor:
        return actions.clamp(-1.0, 1.0) * self.action_scale

    def _reset(self) -> torch.Tensor:
        return self.task.reset()["obs"]

    def _step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        obs_dict, rewards, resets, extras = self.task.step(actions.reshape(self.num_envs, -1) / self.action_scale)
        extras = dict(extras)
        extras["time_outs"] = extras.get("time_outs", torch.zeros_like(resets)).bool()
        return obs_dict["obs"], rewards, resets.bool(), extras
