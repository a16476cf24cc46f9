"""ExportModel in a real exported run: examples/mnist_mlp.json's wiring plus an ExportModel node, 1 epoch on small
synthetic IDX data; the TorchScript file must reproduce the checkpointed weights, the ONNX file must exist (when onnx
is installed), and a --inference run without onnx exports the loaded model as TorchScript with a warning."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dnne.codegen.export import export_workflow
from dnne.errors import DiagnosticError
from dnne.runtime.checkpoint import load_checkpoint
from dnne.runtime.data.datasets import load_mnist
from tests.ml.helpers import export, records, run_runner
from tests.ml.make_examples import ADAM, MLP_LAYERS
from tests.ml.synthetic_idx import write_synthetic_mnist
from tests.ml.ui_workflow import supervised_workflow

PARITY = 1e-4
HAS_ONNX = importlib.util.find_spec("onnx") is not None


def _workflow(**export_widgets):
    wf = supervised_workflow(MLP_LAYERS, optimizer=ADAM, batch_size=64, max_epochs=1)
    node = wf.add("ExportModel", export_widgets)
    wf.link(wf.find("Network"), "model", node, "model")
    return wf


@pytest.mark.parametrize("bad", ["../model", "sub/model", "a\\b", "", ".hidden"])
def test_filename_must_be_a_base_name(tmp_path, bad):
    with pytest.raises(DiagnosticError) as info:
        export_workflow(_workflow(filename=bad).to_dict(), tmp_path / "out")
    text = str(info.value)
    assert "E_BAD_VALUE" in text and "filename" in text
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_synthetic_mnist(tmp_path_factory.mktemp("data"), n_train=320, n_test=100, noise=200.0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir):
    out = export(_workflow(format="both").to_dict(), tmp_path_factory.mktemp("export") / "export")
    run_dir = tmp_path_factory.mktemp("run")
    proc = run_runner(out, "--data-dir", str(data_dir), "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr
    return out, run_dir


def model_class(export_dir: Path) -> type:
    """The network's nn.Module class as runner.py defines it."""
    tree = ast.parse((export_dir / "runner.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and ast.unparse(n.bases[0]) == "nn.Module"]
    namespace: dict = {}
    exec(compile("from torch import nn\n" + ast.unparse(cls), "runner.py", "exec"), namespace)
    return namespace[cls.name]


def _checkpointed_model(export_dir: Path, run_dir: Path) -> torch.nn.Module:
    ckpt = load_checkpoint(run_dir / "checkpoints" / "latest")
    ((tensors, _meta),) = [s for s in ckpt.nodes.values() if any(k.startswith("w.") for k in s[0])]  # the Network
    model = model_class(export_dir)()
    model.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("w.")})
    return model.eval()


def _test_images(data_dir: Path) -> torch.Tensor:
    return load_mnist(data_dir).split(train=False).images[:64]


def test_torchscript_reproduces_the_checkpointed_weights(trained, data_dir):
    out, run_dir = trained
    pt = run_dir / "exported" / "model.pt"
    scripted = torch.jit.load(str(pt))
    model = _checkpointed_model(out, run_dir)
    x = _test_images(data_dir)
    with torch.no_grad():
        diff = (scripted(x) - model(x)).abs().max().item()
    print(f"TorchScript vs checkpointed weights on {len(x)} test images: max |diff| = {diff:.3g}")
    assert diff < PARITY
    (rec,) = [r for r in records(run_dir / "metrics.jsonl", "model_exported") if r["format"] == "torchscript"]
    print(f"runner's own TorchScript parity check: max |diff| = {rec['max_abs_diff']:.3g} ({rec['checked_with']})")
    assert rec["path"] == str(pt) and rec["max_abs_diff"] < PARITY and rec["parity_ok"] is True
    assert rec["reason"] == "done" and rec["epoch"] == 1 and rec["sample"] == "training batch"


@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
def test_onnx_file_is_written_and_checked(trained, data_dir):
    import onnx
    from onnx.reference import ReferenceEvaluator

    out, run_dir = trained
    path = run_dir / "exported" / "model.onnx"
    onnx.checker.check_model(onnx.load(str(path)))
    (rec,) = [r for r in records(run_dir / "metrics.jsonl", "model_exported") if r["format"] == "onnx"]
    print(f"runner's own ONNX parity check: max |diff| = {rec['max_abs_diff']:.3g} ({rec['checked_with']})")
    assert rec["path"] == str(path) and rec["max_abs_diff"] < PARITY
    x = _test_images(data_dir)
    (got,) = ReferenceEvaluator(onnx.load(str(path))).run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = _checkpointed_model(out, run_dir)(x)
    diff = (torch.as_tensor(got) - want).abs().max().item()
    print(f"ONNX vs checkpointed weights on {len(x)} test images: max |diff| = {diff:.3g}")
    assert diff < PARITY


def test_inference_without_onnx_exports_the_loaded_model_as_torchscript(trained, data_dir, tmp_path):
    out, run_dir = trained
    run2 = tmp_path / "inference"
    hide_onnx = (
        "import runpy, sys; sys.modules['onnx'] = None; sys.argv = ['runner.py'] + sys.argv[1:]; "
        "runpy.run_path('runner.py', run_name='__main__')"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", hide_onnx, "--quiet", "--threads", "1", "--data-dir", str(data_dir)]
        + ["--run-dir", str(run2), "--inference", "--resume", str(run_dir / "checkpoints")],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ONNX export skipped" in proc.stderr and "pip install onnx" in proc.stderr
    assert not (run2 / "exported" / "model.onnx").exists()
    x = _test_images(data_dir)
    with torch.no_grad():
        diff = (
            (torch.jit.load(str(run2 / "exported" / "model.pt"))(x) - _checkpointed_model(out, run_dir)(x)).abs().max()
        )
    assert diff.item() < PARITY
    (rec,) = records(run2 / "metrics.jsonl", "model_exported")
    assert rec["format"] == "torchscript" and rec["sample"] == "random normal" and rec["max_abs_diff"] < PARITY


def test_every_epoch_exports_after_each_epoch_with_dataset_samples(tmp_path):
    wf = supervised_workflow(MLP_LAYERS[-1:], optimizer=ADAM, batch_size=64, max_epochs=2, evaluate=False)
    node = wf.add("ExportModel", {"when": "every_epoch", "filename": "mlp-v1"})
    wf.link(wf.find("Network"), "model", node, "model")
    wf.link(wf.find("MNISTDataset"), "dataset", node, "dataset")
    out = export(wf.to_dict(), tmp_path / "export")
    data = write_synthetic_mnist(tmp_path / "data", n_train=128, n_test=32)
    proc = run_runner(out, "--data-dir", str(data), "--run-dir", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    recs = records(tmp_path / "run" / "metrics.jsonl", "model_exported")
    # one export per epoch; the end of the run adds none (the last epoch's weights are already written)
    assert [(r["epoch"], r["step"], r["reason"], r["sample"]) for r in recs] == [
        (1, 2, "epoch 1", "dataset"),
        (2, 4, "epoch 2", "dataset"),
    ]
    assert all(r["max_abs_diff"] < PARITY for r in recs)
    scripted = torch.jit.load(str(tmp_path / "run" / "exported" / "mlp-v1.pt"))
    assert scripted(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
