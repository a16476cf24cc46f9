"""--inference without --resume evaluates untrained weights: the runner says so instead of reporting ~10 % silently."""

from __future__ import annotations

import pytest
import torch

from dnne.runtime.context import RunContext
from dnne.runtime.flags import parse_args
from dnne.runtime.ml.network import NetworkModel
from dnne.runtime.node import QueueNode


def _setup(ctx: RunContext) -> None:
    net = NetworkModel(QueueNode("4", "net"), lambda: torch.nn.Linear(2, 3), [2], load_on_start=False)
    net.setup(ctx)


@pytest.mark.parametrize(
    ("argv", "resume_dir", "warned"),
    [(["--inference"], None, True), (["--inference"], "ckpt", False), ([], None, False)],
)
def test_inference_without_resume_warns(tmp_path, capsys, argv, resume_dir, warned):
    ctx = RunContext(args=parse_args(argv), resume_dir=tmp_path / resume_dir if resume_dir else None)
    _setup(ctx)
    err = capsys.readouterr().err
    assert ("--inference without --resume DIR uses untrained weights" in err) is warned
    assert not warned or "network 4 (QueueNode 'net')" in err
