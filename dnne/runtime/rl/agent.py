"""What the PPO Agent node does: build the actor-critic on the first observations, act, save/restore weights."""

from __future__ import annotations

import torch

from .networks import ActorCritic, parse_hidden_sizes


class PolicyAgent:
    def __init__(
        self,
        *,
        hidden_sizes: str = "64,64",
        activation: str = "elu",
        action_space: str = "continuous",
        action_dim: int = 1,
        init_log_std: float = 0.0,
        shared_trunk: bool = False,
        normalize_observations: bool = False,
        device: torch.device | str = "cpu",
    ):
        if action_space not in ("continuous", "discrete"):
            raise ValueError(f"action_space must be 'continuous' or 'discrete', got {action_space!r}")
        self.sizes = parse_hidden_sizes(hidden_sizes)
        self.activation = activation
        self.discrete = action_space == "discrete"
        self.action_dim = int(action_dim)
        self.init_log_std = float(init_log_std)
        self.shared = bool(shared_trunk)
        self.normalize_obs = bool(normalize_observations)
        self.device = torch.device(device)
        self.model: ActorCritic | None = None
        self._pending: dict | None = None

    def ensure_model(self, obs_dim: int) -> tuple[ActorCritic, bool]:
        """The model (built on first use for `obs_dim`); the flag is True when it was just built."""
        if self.model is not None:
            if obs_dim != self.model.obs_dim:
                raise ValueError(
                    f"observations have {obs_dim} features but the policy was built for {self.model.obs_dim}"
                )
            return self.model, False
        self.model = ActorCritic(
            obs_dim,
            self.action_dim,
            hidden_sizes=self.sizes,
            activation=self.activation,
            discrete=self.discrete,
            shared=self.shared,
            init_log_std=self.init_log_std,
            normalize_obs=self.normalize_obs,
        ).to(self.device)
        if self._pending is not None:
            self.model.load_state_dict(self._pending)
            self._pending = None
        return self.model, True

    def act(self, obs: torch.Tensor, deterministic: bool = False) -> tuple[dict, ActorCritic, bool]:
        obs = torch.as_tensor(obs, dtype=torch.float32)
        self.device = obs.device  # the policy lives where the env's tensors are
        if obs.ndim == 1:
            obs = obs.unsqueeze(0)
        model, built = self.ensure_model(obs.shape[-1])
        out = model.act(obs, deterministic=deterministic)
        out["obs"] = obs
        return out, model, built

    # -- checkpoint ----------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        if self.model is None:
            return {}, {}
        tensors = {f"policy.{k}": v.detach().clone() for k, v in self.model.state_dict().items()}
        return tensors, {"obs_dim": self.model.obs_dim, "action_dim": self.action_dim, "discrete": self.discrete}

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        weights = {k[len("policy.") :]: v for k, v in tensors.items() if k.startswith("policy.")}
        if not weights:
            return
        if meta.get("obs_dim"):
            self.model = None
            self._pending = weights
            self.ensure_model(int(meta["obs_dim"]))
        else:
            self._pending = weights
