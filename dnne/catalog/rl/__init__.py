"""RL pack: PPO agent (actor-critic) and PPO trainer."""

from dnne.catalog.rl import ppo_agent_node, ppo_trainer_node

NODE_TYPES = (ppo_agent_node.NODE_TYPE, ppo_trainer_node.NODE_TYPE)
