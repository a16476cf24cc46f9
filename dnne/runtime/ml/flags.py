"""Runner flags of the ml pack (supervised training)."""

from __future__ import annotations

import argparse

from ..flags import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int, help="number of epochs (overrides the workflow value)")
    group.add_argument(
        "--no-implicit-eval",
        action="store_true",
        help="a workflow without an Evaluate node whose data set has a test split is evaluated on it after each "
        "epoch (records marked implicit_eval); this turns that off",
    )
