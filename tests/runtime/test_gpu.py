"""CUDA checks (skipped without a GPU): device auto → cuda, CUDA tensors and CUDA RNG state through a checkpoint."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
    pytest.mark.timeout(120),
]

from dnne.runtime import QueueNode, run_main  # noqa: E402
from dnne.runtime.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402


class OnDevice(QueueNode):
    OUTPUTS = ()
    device = None

    async def setup(self):
        self.w = torch.randn(4, 4, device=self.ctx.device)

    async def compute(self):
        OnDevice.device = self.ctx.device

    def state_dict(self):
        return {"w": self.w}, {}

    def load_state_dict(self, tensors, meta):
        self.w = tensors["w"].to(self.ctx.device)


def test_device_auto_is_cuda_and_checkpoint_holds_cpu_tensors(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"nodes": {}}))

    def build(runner, cfg):
        runner.add(OnDevice("1"))

    argv = ["--run-dir", str(tmp_path / "r"), "--checkpoint-dir", str(tmp_path / "ck"), "-q"]
    assert run_main(build, config_path=config, argv=argv) == 0
    assert OnDevice.device.type == "cuda"
    ckpt = load_checkpoint(tmp_path / "ck")
    assert ckpt.nodes["1"][0]["w"].device.type == "cpu"
    assert any(k.startswith("torch_cuda_") for k in ckpt.torch_rng)


def test_cuda_rng_state_is_restored(tmp_path):
    torch.manual_seed(5)
    torch.randn(3, device="cuda")
    node = OnDevice("1")
    node.w = torch.ones(2, device="cuda")
    save_checkpoint(tmp_path, [node])
    expected = torch.randn(3, device="cuda")
    torch.randn(100, device="cuda")
    load_checkpoint(tmp_path).restore_rng()
    assert torch.equal(torch.randn(3, device="cuda"), expected)
