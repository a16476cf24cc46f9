"""Robotics pack: Isaac-Gym-style environment, step, OR router and Cartpole helper nodes."""

from dnne.catalog.robotics import (
    cartpole_action_node,
    cartpole_reward_node,
    isaac_gym_env_node,
    isaac_gym_step_node,
    or_node,
)

NODE_TYPES = (
    isaac_gym_env_node.NODE_TYPE,
    isaac_gym_step_node.NODE_TYPE,
    or_node.NODE_TYPE,
    cartpole_action_node.NODE_TYPE,
    cartpole_reward_node.NODE_TYPE,
)
