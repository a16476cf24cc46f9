"""`make_env`: pick and build a backend for an env name (auto: isaacgym on CUDA if installed, else torch Cartpole,
else gymnasium)."""

from __future__ import annotations

import warnings

import torch

from .base import VecEnv

BACKENDS = ("auto", "torch", "gymnasium", "isaacgym")
TORCH_ENVS = ("Cartpole",)


def resolve_device(device: str | torch.device) -> torch.device:
    """`cuda` without CUDA falls back to CPU with a warning; `auto` picks CUDA when available."""
    device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device {device!r} requested but CUDA is not available: running on CPU", stacklevel=2)
        return torch.device("cpu")
    return torch.device(device)


def resolve_backend(env_name: str, backend: str, device: torch.device) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown env backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if device.type == "cuda":
        from .isaacgym_env import isaacgym_available

        if isaacgym_available():
            return "isaacgym"
    return "torch" if env_name in TORCH_ENVS else "gymnasium"


def make_env(
    env_name: str,
    num_envs: int,
    *,
    device: str | torch.device = "cpu",
    backend: str = "auto",
    seed: int | None = None,
    render: bool = False,
    headless: bool = True,
    isaac_gym_path: str = "",
    isaac_gym_envs_path: str = "",
    **options,
) -> VecEnv:
    """Build `num_envs` copies of `env_name` on `device` with the chosen backend (see module docstring).

    `options` go to the backend (torch Cartpole: max_effort, reset_dist, max_episode_length, reset_mode).
    """
    dev = resolve_device(device)
    chosen = resolve_backend(env_name, backend, dev)
    if chosen == "torch":
        if env_name not in TORCH_ENVS:
            raise ValueError(
                f"the torch backend only simulates {', '.join(TORCH_ENVS)}; env {env_name!r} needs backend "
                "'gymnasium' (MuJoCo on CPU) or 'isaacgym'"
            )
        from .torch_cartpole import TorchCartpole

        return TorchCartpole(num_envs, dev, seed=seed, **options)
    if chosen == "gymnasium":
        from .gymnasium_vec import GymnasiumVecEnv

        if dev.type != "cpu":
            warnings.warn("the gymnasium backend simulates on CPU; tensors are moved to " + str(dev), stacklevel=2)
        return GymnasiumVecEnv(env_name, num_envs, dev, seed=seed, render=render)
    from .isaacgym_env import IsaacGymVecEnv

    return IsaacGymVecEnv(
        env_name,
        num_envs,
        dev,
        seed=seed,
        headless=headless and not render,
        isaac_gym_path=isaac_gym_path,
        isaac_gym_envs_path=isaac_gym_envs_path,
    )
