"""Checkpoints: safetensors + JSON layout, atomic rotation, pickle refusal, unwritable dirs, nested state packing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from dnne.runtime import GraphRunner, QueueNode
from dnne.runtime.checkpoint import (
    CheckpointError,
    load_checkpoint,
    node_dir_name,
    pack_state,
    save_checkpoint,
    unpack_state,
)

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]


class Holder(QueueNode):
    OUTPUTS = ()

    def __init__(self, node_id, tensors=None, meta=None):
        super().__init__(node_id, "holder")
        self.tensors, self.meta = tensors or {}, meta or {}
        self.loaded = None

    async def compute(self):
        return None

    def state_dict(self):
        return self.tensors, self.meta

    def load_state_dict(self, tensors, meta):
        self.loaded = (tensors, meta)


def test_layout_roundtrip_and_id_sanitising(tmp_path):
    nodes = [
        Holder("5:3", {"w": torch.arange(6.0).reshape(2, 3)}, {"epoch": 2}),
        Holder("../../etc", {"b": torch.ones(2)}),
        Holder("9"),  # no state: no folder
    ]
    path = save_checkpoint(tmp_path, nodes, step=12, epoch=2, reason="test", graph_hash="abc", seed=7)
    assert path == tmp_path / "latest"
    assert sorted(p.name for p in path.iterdir()) == ["checkpoint.json", "node_5_3", "node___.._etc", "rng.safetensors"]
    assert not (tmp_path / "etc").exists() and not (tmp_path.parent / "etc").exists()
    assert (path / "node_5_3" / "weights.safetensors").is_file()
    assert json.loads((path / "node_5_3" / "meta.json").read_text())["meta"] == {"epoch": 2}
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.meta["step"] == 12 and ckpt.meta["reason"] == "test" and ckpt.meta["seed"] == 7
    assert ckpt.meta["dnne_runtime"]
    tensors, meta = ckpt.nodes["5:3"]
    assert torch.equal(tensors["w"], torch.arange(6.0).reshape(2, 3)) and meta == {"epoch": 2}
    assert torch.equal(ckpt.nodes["../../etc"][0]["b"], torch.ones(2))
    assert "9" not in ckpt.nodes


def test_dir_names_never_escape_and_stay_unique():
    taken: set[str] = set()
    names = [node_dir_name(i, taken) for i in ["5:3", "5_3", "..", "a/b", "", "é"]]
    assert len(set(names)) == len(names)
    assert all("/" not in n and n.startswith("node_") and n not in (".", "..") for n in names)


def test_rotation_keeps_previous(tmp_path):
    for i in range(3):
        save_checkpoint(tmp_path, [Holder("1", {"w": torch.full((2,), float(i))})], step=i)
    assert load_checkpoint(tmp_path / "latest").meta["step"] == 2
    assert load_checkpoint(tmp_path / "previous").meta["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "previous"]


def test_refuses_pickle_files(tmp_path):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(1)})])
    torch.save({"w": torch.ones(1)}, tmp_path / "latest" / "node_1" / "model.pt")
    with pytest.raises(CheckpointError, match=r"refusing to load .*pickle files \(node_1/model.pt\)"):
        load_checkpoint(tmp_path)


def test_non_tensor_state_is_a_clear_error_and_previous_stays(tmp_path):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(1)})], step=1)
    with pytest.raises(CheckpointError, match=r"node 1 \(Holder 'holder'\): state_dict\(\) tensor 'w' is a list"):
        save_checkpoint(tmp_path, [Holder("1", {"w": [1, 2]})], step=2)
    assert load_checkpoint(tmp_path).meta["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"]  # the temp folder was removed


def test_unwritable_checkpoint_dir_names_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match=f"cannot write checkpoint to {blocker / 'ck'}"):
        save_checkpoint(blocker / "ck", [Holder("1", {"w": torch.ones(1)})])


def test_disk_full_keeps_previous_checkpoint(tmp_path):
    """A real write failure (file-size limit → EFBIG, like ENOSPC) mid-save: clear error, previous intact."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import torch
        from dnne.runtime.checkpoint import save_checkpoint, load_checkpoint, CheckpointError
        from tests.runtime.test_checkpoint import Holder
        root = {str(tmp_path)!r}
        save_checkpoint(root, [Holder("1", {{"w": torch.ones(10)}})], step=1)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        try:
            save_checkpoint(root, [Holder("1", {{"w": torch.ones(1 << 20)}})], step=2)
        except CheckpointError as exc:
            print("ERROR:", exc)
        print("STEP:", load_checkpoint(root).meta["step"])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert f"ERROR: cannot write checkpoint to {tmp_path}" in out.stdout
    assert "File too large" in out.stdout
    assert "STEP: 1" in out.stdout


def test_pack_unpack_optimizer_state():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, skeleton = pack_state(opt.state_dict())
    json.dumps(skeleton)  # JSON-safe
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())
    restored = unpack_state(tensors, skeleton)
    opt2 = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    opt2.load_state_dict(restored)
    assert opt2.param_groups[0]["lr"] == 0.01
    for k, v in opt.state_dict()["state"][0].items():
        assert torch.equal(v, opt2.state_dict()["state"][0][k])


def test_runner_final_checkpoint_and_no_checkpoint_on_error(tmp_path):
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.checkpoint_dir = tmp_path / "ok"
    r.add(Holder("1", {"w": torch.ones(3)}))
    assert r.run() == 0
    assert load_checkpoint(tmp_path / "ok").meta["reason"] == "final"

    class Boom(Holder):
        async def compute(self):
            raise RuntimeError("boom")

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.checkpoint_dir = tmp_path / "err"
    r.add(Boom("1", {"w": torch.ones(3)}))
    assert r.run() == 1
    assert not (tmp_path / "err" / "latest").exists()
