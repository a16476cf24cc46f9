import math

import pytest
import torch

from dnne.runtime.envs import make_env, resolve_backend
from dnne.runtime.envs.torch_cartpole import TorchCartpole


def test_shapes_reset_ranges_and_obs_layout():
    env = TorchCartpole(64, seed=0)
    obs = env.reset()
    assert obs.shape == (64, 4) and obs.dtype == torch.float32
    assert obs[:, 0::2].abs().max() <= 0.1 and obs[:, 1::2].abs().max() <= 0.25
    obs, rew, done, extras = env.step(torch.zeros(64, 1))
    assert obs.shape == (64, 4) and rew.shape == (64,) and done.shape == (64,) and done.dtype == torch.bool
    assert extras["time_outs"].shape == (64,)


def test_each_env_applies_its_own_action():
    env = TorchCartpole(4, seed=0)
    env.reset()
    env.state.zero_()
    forces = torch.tensor([[10.0], [-10.0], [0.0], [5.0]])
    obs, *_ = env.step(forces)
    cart_vel = obs[:, 1]
    assert cart_vel[0] > 0 > cart_vel[1]
    assert cart_vel[2] == 0
    assert 0 < cart_vel[3] < cart_vel[0]
    # pushing the cart right tips an upright pole to the left (negative angular velocity) and vice versa
    assert obs[0, 3] < 0 < obs[1, 3]


def test_force_is_clamped_to_max_effort():
    a, b = TorchCartpole(1, seed=0, max_effort=10.0), TorchCartpole(1, seed=0, max_effort=10.0)
    a.reset(), b.reset()
    oa, *_ = a.step(torch.tensor([[1000.0]]))
    ob, *_ = b.step(torch.tensor([[10.0]]))
    assert torch.equal(oa, ob)
    assert torch.allclose(a.scale_actions(torch.tensor([[0.5], [3.0]])), torch.tensor([[5.0], [10.0]]))


def test_dynamics_match_the_analytic_model():
    """From rest at angle θ0 (no force), the first substep's angular acceleration is the closed-form one."""
    env = TorchCartpole(1, seed=0, substeps=1)
    env.reset()
    theta0 = 0.1
    env.state = torch.tensor([[0.0, 0.0, theta0, 0.0]])
    obs, *_ = env.step(torch.zeros(1, 1))
    m, mc, com, g = 1.0, 1.0, 0.47, 9.81
    inertia = m * 1.0 / 12 + m * com * com
    b = m * com * math.cos(theta0)
    det = (m + mc) * inertia - b * b
    th_acc = (m + mc) * m * g * com * math.sin(theta0) / det
    x_acc = -b * m * g * com * math.sin(theta0) / det
    assert obs[0, 3].item() == pytest.approx(th_acc * env.dt, rel=1e-5)
    assert obs[0, 1].item() == pytest.approx(x_acc * env.dt, rel=1e-5)
    assert obs[0, 1] < 0 < obs[0, 3]  # the pole falls to its side, the cart recoils


def test_reward_formula_and_failure_reward():
    env = TorchCartpole(2, seed=0, substeps=1)
    env.reset()
    env.state = torch.tensor([[0.0, 0.5, 0.2, -1.0], [2.99, 10.0, 0.0, 0.0]])
    obs, rew, done, _ = env.step(torch.zeros(2, 1))
    x, xd, th, thd = obs[0]
    assert rew[0].item() == pytest.approx(
        1 - th.item() ** 2 - 0.01 * abs(xd.item()) - 0.005 * abs(thd.item()), rel=1e-5
    )
    assert not done[0]
    assert rew[1].item() == -2.0 and done[1]  # the cart left the ±3 m range


def test_isaacgym_reset_ordering():
    """The step that raises done returns the terminal observation; the fresh state appears on the next step."""
    env = TorchCartpole(2, seed=0)
    env.reset()
    env.state[0] = torch.tensor([0.0, 0.0, 1.6, 0.0])  # beyond π/2: fails on this step
    obs, rew, done, extras = env.step(torch.zeros(2, 1))
    assert done.tolist() == [True, False] and rew[0] == -2.0
    assert obs[0, 2] > math.pi / 2  # terminal observation
    assert extras["episode_lengths"].tolist() == [1]
    obs, rew, done, _ = env.step(torch.zeros(2, 1))
    assert obs[0, 0].abs() <= 0.1 and obs[0, 2].abs() <= 0.1  # fresh state (reset at the start of this step)
    assert not done[0] and env.progress[0] == 0


def test_same_step_reset_mode_returns_fresh_state_and_final_observation():
    env = TorchCartpole(2, seed=0, reset_mode="same_step")
    env.reset()
    env.state[0] = torch.tensor([0.0, 0.0, 1.6, 0.0])
    obs, _, done, extras = env.step(torch.zeros(2, 1))
    assert done[0] and obs[0, 2].abs() <= 0.1
    assert extras["final_observations"][0, 2] > math.pi / 2


def test_time_limit_sets_time_outs_and_episode_length_500():
    env = TorchCartpole(3, seed=0, max_effort=0.0)
    env.reset()
    lengths = []
    for _ in range(1000):
        env.state[:, 2:] = 0.0  # hold the pole upright: only the time limit can end the episode
        env.state[:, :2] = 0.0
        _, _, done, extras = env.step(torch.zeros(3, 1))
        if done.any():
            assert extras["time_outs"].all() and done.all()
            lengths.append(extras["episode_lengths"].tolist())
    # the first episode starts at reset(); later ones include the step that resets them (IsaacGymEnvs ordering)
    assert lengths == [[499, 499, 499], [500, 500, 500]]


def test_wrong_action_rows_are_rejected():
    env = TorchCartpole(4, seed=0)
    env.reset()
    with pytest.raises(ValueError, match="one row per env"):
        env.step(torch.zeros(1, 1))


def test_seeded_envs_are_reproducible():
    runs = []
    for _ in range(2):
        env = make_env("Cartpole", 8, seed=3, backend="torch")
        obs = [env.reset()]
        for _ in range(50):
            obs.append(env.step(torch.ones(8, 1) * 3.0)[0])
        runs.append(torch.stack(obs))
    assert torch.equal(runs[0], runs[1])


def test_auto_backend_and_cuda_fallback():
    assert resolve_backend("Cartpole", "auto", torch.device("cpu")) == "torch"
    assert resolve_backend("Ant", "auto", torch.device("cpu")) == "gymnasium"
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            env = make_env("Cartpole", 2, device="cuda", seed=0)
        assert env.device.type == "cpu"
    with pytest.raises(ValueError, match="only simulates Cartpole"):
        make_env("Ant", 2, backend="torch")
    with pytest.raises(ValueError, match="unknown env backend"):
        make_env("Cartpole", 2, backend="bullet")


def test_isaacgym_backend_explains_itself_when_missing():
    from dnne.runtime.envs.isaacgym_env import isaacgym_available

    if isaacgym_available():
        pytest.skip("Isaac Gym is installed here")
    with pytest.raises(RuntimeError, match="isaacgym backend needs CUDA"):  # refused before importing anything
        make_env("Cartpole", 2, backend="isaacgym", device="cpu")


def test_episode_statistics_are_tracked():
    env = TorchCartpole(16, seed=0)
    env.reset()
    for _ in range(200):
        env.step(torch.zeros(16, 1))
    s = env.stats.summary()
    assert s["env_steps"] == 3200 and s["episodes"] > 16
    assert 10 < s["mean_episode_length"] < 200 and s["mean_return"] is not None
