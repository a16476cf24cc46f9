"""A checkpoint of another workflow / node type, special files inside it, tampered RNG state: refused before any
node fires, with a message naming what does not match (exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import threading

import pytest
import torch
from torch import nn

from dnne.runtime import GraphRunner, Input, QueueNode
from dnne.runtime.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dnne.runtime.ml.network import NetworkModel
from dnne.runtime.ml.optim import make_optimizer, optimizer_state

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


# -- shapes: the Network and optimizer build lazily (first batch), so a resume checks their saved state up front -----
def architecture(*sizes):
    """An nn.Module class like the one the export writes: Linear layers of these sizes, ReLU between them."""

    class Architecture(nn.Module):
        def __init__(self):
            super().__init__()
            for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
                setattr(self, f"linear{i}", nn.Linear(a, b))

        def forward(self, x):
            for i in range(1, len(sizes)):
                x = torch.relu(getattr(self, f"linear{i}")(x))
            return x

    return Architecture


class Net(QueueNode):
    """What the Network node class does with NetworkModel (built at the first batch, state delegated)."""

    INPUTS = {"input": Input.CONSUME}
    OUTPUTS = ("output", "model")

    def __init__(self, node_id, sizes=(4, 3)):
        super().__init__(node_id, "net")
        self.net = NetworkModel(self, architecture(*sizes), [sizes[0]], load_on_start=False)

    async def setup(self):
        self.net.setup(self.ctx)

    async def compute(self, input):
        self.ctx.request_stop("done")  # unconnected here: resume is what these tests look at
        return None

    def state_dict(self):
        return self.net.state_dict()

    def load_state_dict(self, tensors, meta):
        self.net.load_state_dict(tensors, meta)


class Opt(QueueNode):
    """What the optimizer node templates do: the state waits for the model (first batch)."""

    INPUTS = {"network": Input.STICKY}
    OUTPUTS = ("optimizer",)

    def __init__(self, node_id, state=None):
        super().__init__(node_id, "adam")
        self.pending = state

    async def compute(self, network):
        return None

    def state_dict(self):
        return self.pending or ({}, {})

    def load_state_dict(self, tensors, meta):
        self.pending = (tensors, meta)


def _trained_state(*sizes):
    """(network tensors, network meta), (optimizer tensors, optimizer meta) after one real Adam step."""
    model = architecture(*sizes)()
    handle = make_optimizer("Adam", model, lr=0.01)
    model(torch.randn(5, sizes[0])).sum().backward()
    handle.step()
    shapes = [list(p.shape) for p in model.parameters()]
    net = ({f"w.{k}": v for k, v in model.state_dict().items()}, {"input_shape": [sizes[0]], "param_shapes": shapes})
    return net, optimizer_state(handle)


def _save_net_and_opt(tmp_path, net_state, opt_state):
    save_checkpoint(tmp_path, [Holder("1", *net_state), Holder("2", *opt_state)])
    info_path = tmp_path / "latest" / "checkpoint.json"
    info = json.loads(info_path.read_text())
    info["nodes"]["1"]["class"], info["nodes"]["2"]["class"] = "Net", "Opt"
    info_path.write_text(json.dumps(info))


def _resume_net_and_opt(tmp_path, capsys):
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.resume_dir = tmp_path
    net, opt = r.add(Net("1")), r.add(Opt("2"))
    r.connect(net, "model", opt, "network")
    code = r.run()
    return code, capsys.readouterr().err, net


def test_a_consistent_network_and_optimizer_checkpoint_resumes(tmp_path, capsys):
    _save_net_and_opt(tmp_path, *_trained_state(4, 3))
    code, err, net = _resume_net_and_opt(tmp_path, capsys)
    assert code == 0, err
    assert net.net._pending is not None and "Traceback" not in err


def test_network_weights_for_another_input_shape_are_refused_before_training(tmp_path, capsys):
    net, opt = _trained_state(6, 3)  # saved by a network for 6 input features; this one takes 4
    _save_net_and_opt(tmp_path, net, opt)
    code, err, _ = _resume_net_and_opt(tmp_path, capsys)
    assert code == 2, err
    assert "node 1 (Net 'net')" in err and "'w.linear1.weight' has shape [3, 6]" in err and "needs [3, 4]" in err, err
    assert "Traceback" not in err


def test_a_network_checkpoint_without_weights_is_refused_not_trained_from_fresh_weights(tmp_path, capsys):
    """Before: the Network's load found no `w.` tensors, kept its fresh weights and the run "resumed"."""
    (tensors, meta), opt = _trained_state(4, 3)
    rng_only = {k: v for k, v in tensors.items() if not k.startswith("w.")} or {"rng.cpu": torch.get_rng_state()}
    _save_net_and_opt(tmp_path, (rng_only, meta), opt)
    code, err, _ = _resume_net_and_opt(tmp_path, capsys)
    assert code == 2 and "holds no weights for this network" in err and "node 1 (Net 'net')" in err, err


def test_tampered_optimizer_moments_are_refused_at_resume_not_at_the_first_step(tmp_path, capsys):
    net, (tensors, meta) = _trained_state(4, 3)
    tensors = dict(tensors)
    key = next(k for k in tensors if k.endswith(".exp_avg"))
    tensors[key] = torch.zeros(7)
    _save_net_and_opt(tmp_path, net, (tensors, meta))
    code, err, _ = _resume_net_and_opt(tmp_path, capsys)
    assert code == 2, err
    assert "node 2 (Opt 'adam')" in err and "exp_avg' has shape [7], its parameter needs [" in err, err


def test_optimizer_state_of_another_network_is_refused(tmp_path, capsys):
    """The optimizer state is self-consistent but for a 2-layer network; the network it trains has 1 layer."""
    net, _ = _trained_state(4, 3)
    _, opt = _trained_state(4, 3, 2)
    _save_net_and_opt(tmp_path, net, opt)
    code, err, _ = _resume_net_and_opt(tmp_path, capsys)
    assert code == 2 and "node 2 (Opt 'adam')" in err and "for 4 parameter tensors" in err and "has 2" in err, err


def test_weights_file_that_does_not_match_checkpoint_json_is_refused(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2, 3)})])
    info_path = tmp_path / "latest" / "checkpoint.json"
    info = json.loads(info_path.read_text())
    info["nodes"]["1"]["shapes"]["w"] = [[4, 3], "torch.float32"]
    info_path.write_text(json.dumps(info))
    code, err, _ = _resume(tmp_path, capsys, Holder("1", {"w": torch.ones(2, 3)}))
    assert code == 2 and "tensor 'w' is [2, 3] torch.float32" in err and "records [4, 3]" in err, err


def test_saved_tensor_of_another_shape_than_the_node_holds_is_refused(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(5)})])
    code, err, (node,) = _resume(tmp_path, capsys, Holder("1", {"w": torch.zeros(3)}))
    assert code == 2 and "node 1 (Holder 'holder'): tensor 'w' has shape [5]" in err and "expects [3]" in err, err
    assert node.loaded is None


def test_state_of_a_node_id_that_no_longer_exists_names_it(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)}), Holder("7", {"w": torch.ones(2)})])
    code, err, _ = _resume(tmp_path, capsys, Holder("1"))
    assert code == 2 and "nodes not in this graph: 7 (Holder)" in err, err


def test_a_graph_node_without_saved_state_is_reported_as_starting_fresh(tmp_path, capsys):
    save_checkpoint(tmp_path, [Holder("1", {"w": torch.ones(2)})])
    code, err, _ = _resume(tmp_path, capsys, Holder("1"), OtherHolder("2"))
    assert code == 0 and "no saved state for 2 (OtherHolder 'holder'): they start fresh" in err, err
