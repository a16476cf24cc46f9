import numpy as np
import pytest
import torch

gym = pytest.importorskip("gymnasium")

from dnne.runtime.envs import make_env  # noqa: E402
from dnne.runtime.envs.env_ids import EnvIdError  # noqa: E402


def test_discrete_cartpole_same_step_autoreset():
    env = make_env("CartPole-v1", 3, backend="gymnasium", seed=0)
    assert env.spec.discrete and env.spec.action_dim == 2 and env.spec.obs_dim == 4
    obs = env.reset()
    assert obs.shape == (3, 4)
    finished = False
    for _ in range(60):
        obs, rew, done, extras = env.step(torch.ones(3, dtype=torch.long))  # always push right: falls quickly
        assert rew.shape == (3,) and done.dtype == torch.bool
        if done.any():
            finished = True
            i = int(done.nonzero()[0])
            # SAME_STEP: the returned observation is already the fresh state; the terminal one is in extras
            assert obs[i].abs().max() <= 0.05
            assert not torch.equal(extras["final_observations"][i], obs[i])
            assert extras["episode_lengths"].numel() == int(done.sum())
            break
    assert finished


def test_continuous_actions_are_scaled_to_the_box():
    env = make_env("Pendulum", 2, backend="gymnasium", seed=0)
    assert not env.spec.discrete and env.spec.action_dim == 1
    scaled = env.scale_actions(torch.tensor([[1.0], [-0.5]]))
    assert torch.allclose(scaled, torch.tensor([[2.0], [-1.0]]))
    env.reset()
    obs, rew, done, extras = env.step(scaled)
    assert obs.shape == (2, 3) and extras["time_outs"].shape == (2,)


def test_each_env_gets_its_own_action():
    env = make_env("Pendulum", 2, backend="gymnasium", seed=0)
    env.reset()
    same = env.env.envs[0].unwrapped.state.copy()
    env.env.envs[1].unwrapped.state = same.copy()
    obs, *_ = env.step(torch.tensor([[2.0], [-2.0]]))
    thdot = obs[:, 2].numpy()
    assert thdot[0] > thdot[1]  # opposite torques from the same state give different velocities
    assert not np.isclose(thdot[0], thdot[1])


def test_mujoco_ant_steps():
    pytest.importorskip("mujoco")
    env = make_env("Ant", 2, backend="gymnasium", seed=0)
    assert env.spec.action_dim == 8 and env.spec.max_episode_length == 1000
    obs = env.reset()
    obs2, rew, done, _ = env.step(env.scale_actions(torch.zeros(2, 8)))
    assert obs.shape == obs2.shape == (2, env.spec.obs_dim) and rew.shape == (2,)


def test_unknown_env_name_is_reported():
    with pytest.raises(EnvIdError, match="not a registered gymnasium id"):
        make_env("NoSuchEnv-v9", 1, backend="gymnasium")
