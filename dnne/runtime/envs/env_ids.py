"""Which environment names a workflow may ask for, checked the same way at export and at run time.

An env name is data from a workflow (or a hand-edited config.json), so it must never choose code to import.
gymnasium's `make("some.module:Env-v0")` imports `some.module` first (its entry-point shorthand), and Isaac Gym task
names become config lookups; so a name is accepted only if it is one of our aliases, a gymnasium id already
registered in the installed environment (never with a `module:` prefix), or, for Isaac Gym, a plain task name.
This module imports neither torch nor gymnasium at import time (exporting needs neither).
"""

from __future__ import annotations

import re

TORCH_ENVS = ("Cartpole",)

# Isaac-Gym-style names → gymnasium ids; any other name must be a registered gymnasium id (e.g. "Hopper-v5").
GYM_IDS = {
    "Cartpole": "CartPole-v1",
    "CartPole": "CartPole-v1",
    "Pendulum": "Pendulum-v1",
    "Ant": "Ant-v5",
    "HalfCheetah": "HalfCheetah-v5",
    "Humanoid": "Humanoid-v5",
    "Hopper": "Hopper-v5",
    "Walker2d": "Walker2d-v5",
}

ISAACGYM_TASK = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
HINT = (
    "use Cartpole (torch), an alias such as Ant or HalfCheetah, or a gymnasium id registered in the installed "
    "environment, e.g. CartPole-v1 or Hopper-v5 (list them: python -c 'import gymnasium; gymnasium.pprint_registry()');"
    " a custom env must be registered by a package you install, never named as module:Env"
)


class EnvIdError(ValueError):
    """An env name that is not allowed (see the module docstring); the message says why."""


def gym_id(env_name: str) -> str:
    return GYM_IDS.get(env_name, env_name)


def registered_gym_ids() -> frozenset[str] | None:
    """The ids registered in the installed gymnasium, or None when gymnasium is not installed."""
    try:
        import gymnasium
    except ImportError:
        return None
    return frozenset(gymnasium.registry)


def env_name_problem(env_name: object, backend: str = "auto", registered: frozenset[str] | None = None) -> str | None:
    """Why `env_name` may not be used with `backend` (None when it may). `registered`: gymnasium's ids (looked up
    when needed and not given). A name that only gymnasium could resolve is refused when gymnasium is missing."""
    if not isinstance(env_name, str) or not env_name.strip():
        return f"the env name must be a non-empty string, got {env_name!r}"
    if ":" in env_name:
        return (
            f"env name {env_name!r} has a 'module:' prefix, which would make gymnasium import that module; "
            "environments come only from the installed packages"
        )
    if backend == "torch":
        return None if env_name in TORCH_ENVS else f"the torch backend only simulates {', '.join(TORCH_ENVS)}"
    if backend == "isaacgym":
        return None if ISAACGYM_TASK.fullmatch(env_name) else f"{env_name!r} is not an Isaac Gym task name"
    if env_name in TORCH_ENVS or env_name in GYM_IDS:
        return None
    registered = registered_gym_ids() if registered is None else registered
    if registered is None:
        return f"env {env_name!r} is not one of dnne's names and gymnasium is not installed to look it up"
    if env_name not in registered:
        return f"env {env_name!r} is not a registered gymnasium id"
    return None


def check_env_name(env_name: object, backend: str = "auto") -> str:
    """`env_name` if allowed, else raise EnvIdError (message + hint)."""
    problem = env_name_problem(env_name, backend)
    if problem is not None:
        raise EnvIdError(f"{problem}; {HINT}")
    return env_name  # type: ignore[return-value]
