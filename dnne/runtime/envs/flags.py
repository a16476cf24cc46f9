"""Runner flags of the envs pack (batched RL environments)."""

from __future__ import annotations

import argparse

from ..flags import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("environments")
    group.add_argument("--num-envs", type=positive_int, help="number of parallel environments")
    group.add_argument(
        "--episodes",
        type=positive_int,
        help="with --inference: run this many episodes, then report the mean and spread of their return (default 10)",
    )
    group.add_argument("--render", "--visual", action="store_true", help="show the environment")
    group.add_argument("--headless", action="store_false", dest="render", help=argparse.SUPPRESS)
    group.add_argument("--realtime", action="store_true", help="step environments at wall-clock speed")
    group.add_argument(
        "--isaacgym-path",
        metavar="DIRS",
        help="folders to import Isaac Gym from (isaacgym/python, IsaacGymEnvs; ':'-separated); "
        "default $DNNE_ISAACGYM_PATH. Never taken from the workflow",
    )
