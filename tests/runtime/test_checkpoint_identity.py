"""A checkpoint of another workflow / node type, special files inside it, tampered RNG state: refused before any
node fires, with a message naming what does not match (exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import threading

import pytest
import torch

from dnne.runtime import GraphRunner
from dnne.runtime.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from .test_checkpoint import Holder

pytestmark = pytest.mark.timeout(60)


class OtherHolder(Holder):
    """Same state layout as Holder, another node type."""


def _resume(tmp_path, capsys, *nodes, workflow_id=None):
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.resume_dir = tmp_path
    if workflow_id is not None:
        r.ctx.config = {"workflow_id": workflow_id, "nodes": {}}
    for node in nodes:
        r.add(node)
    code = r.run()
    return code, capsys.readouterr().err, nodes


def test_checkpoint_of_another_node_type_is_refused(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)})])
    code, err, (node,) = _resume(tmp_path, capsys, OtherHolder("1", {"w": torch.zeros(2)}))
    assert code == 2 and "node 1 was a Holder when checkpointed" in err and "OtherHolder" in err, err
    assert node.loaded is None


def test_checkpoint_of_another_workflow_is_refused(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)})], workflow_id="wf-a")
    code, err, _ = _resume(tmp_path, capsys, Holder("1"), workflow_id="wf-b")
    assert code == 2 and "another workflow" in err and "'wf-a'" in err and "'wf-b'" in err, err


def test_node_state_that_does_not_load_is_a_resume_error_not_a_node_crash(tmp_path, capsys):
    class Picky(Holder):
        def load_state_dict(self, tensors, meta):
            if tensors["w"].shape != (3,):
                raise ValueError(f"weights of shape {list(tensors['w'].shape)}, this layer needs [3]")

    save_checkpoint(tmp_path, [Picky("1", {"w": torch.ones(5)})])
    code, err, _ = _resume(tmp_path, capsys, Picky("1"))
    assert code == 2 and "cannot resume from" in err and "needs [3]" in err, err
    assert "Traceback" not in err


def test_shapes_are_stored_in_the_checkpoint_metadata(tmp_path):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2, 3)})], workflow_id="wf")
    meta = load_checkpoint(tmp_path).meta
    assert meta["workflow_id"] == "wf"
    assert meta["nodes"]["1"]["shapes"] == {"w": [[2, 3], "torch.float32"]}


def test_a_fifo_in_the_checkpoint_is_refused_without_opening_it(tmp_path):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)})])
    weights = tmp_path / "latest" / "node_1" / "weights.safetensors"
    weights.unlink()
    os.mkfifo(weights)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("exc", _load_error(tmp_path)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "load_checkpoint opened the FIFO and hangs"
    assert "node_1/weights.safetensors is a FIFO" in str(result["exc"])


def test_a_symlink_out_of_the_checkpoint_is_refused(tmp_path):
    save_checkpoint(tmp_path / "c", [Holder("1", {"w": torch.ones(2)})])
    outside = tmp_path / "outside.safetensors"
    weights = tmp_path / "c" / "latest" / "node_1" / "weights.safetensors"
    weights.rename(outside)
    weights.symlink_to(outside)
    assert "is a symlink" in str(_load_error(tmp_path / "c"))


def _load_error(path):
    try:
        load_checkpoint(path)
    except CheckpointError as exc:
        return exc
    return None


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (lambda rng: rng.__setitem__("python", [3, [1, 2], None]), "invalid RNG state"),
        (lambda rng: rng.__setitem__("numpy", ["MT19937", [1], 0, 0, 0.0]), "invalid RNG state"),
    ],
)
def test_tampered_rng_state_is_a_clear_resume_error(tmp_path, capsys, tamper, expected):
    import numpy  # noqa: F401 - the numpy state is only saved when numpy is loaded

    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)})])
    info_path = tmp_path / "latest" / "checkpoint.json"
    info = json.loads(info_path.read_text())
    tamper(info["rng"])
    info_path.write_text(json.dumps(info))
    code, err, _ = _resume(tmp_path, capsys, Holder("1"))
    assert code == 2 and expected in err and str(info_path) in err, err
    assert "Traceback" not in err


def test_garbage_checkpoint_json_names_the_file(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)})])
    (tmp_path / "latest" / "checkpoint.json").write_text("{not json")
    code, err, _ = _resume(tmp_path, capsys, Holder("1"))
    assert code == 2 and "checkpoint.json" in err and "Traceback" not in err, err
