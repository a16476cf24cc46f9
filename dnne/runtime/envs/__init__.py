"""Batched RL environments behind one VecTask-shaped interface (torch Cartpole, gymnasium, Isaac Gym).

The names are imported lazily: `env_ids` (the env-name rules) is used at export time, which needs no torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "EnvSpec": ".base",
    "VecEnv": ".base",
    "EpisodeStats": ".episode_stats",
    "BACKENDS": ".factory",
    "make_env": ".factory",
    "resolve_backend": ".factory",
    "resolve_device": ".factory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
