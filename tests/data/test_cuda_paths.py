"""The data, reporting and export helpers on a CUDA device (skipped on machines without one)."""

import pytest
import torch

from dnne.runtime.data import BatchIterator, make_synthetic
from dnne.runtime.reporting.images import tensor_grid
from dnne.runtime.reporting.values import format_value

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_dataset_moves_once_and_batches_stay_on_device():
    ds = make_synthetic(100, 20, seed=1).to("cuda")
    train = ds.train
    assert train.images.is_cuda and ds.test.labels.is_cuda
    assert ds.to("cuda").train is train  # already there: nothing copied
    it = BatchIterator(ds.train, 32, seed=4, device="cuda")
    images, labels, complete, stats = it.next()
    assert images.is_cuda and labels.is_cuda and not complete and stats["batch"] == 1


def test_cuda_batches_equal_cpu_batches_and_resume():
    ds = make_synthetic(50, 0, seed=2)
    cpu = BatchIterator(ds.train, 8, seed=9)
    gpu = BatchIterator(ds.train, 8, seed=9, device="cuda")
    for _ in range(3):
        gpu.next()
        cpu.next()
    state = gpu.state_dict()
    expected = [gpu.next() for _ in range(10)]
    resumed = BatchIterator(ds.train, 8, seed=0, device="cuda")
    resumed.load_state_dict(state)
    for exp in expected:
        got = resumed.next()
        want_cpu = cpu.next()
        assert torch.equal(got[1], exp[1]) and torch.equal(got[1].cpu(), want_cpu[1]) and got[3] == exp[3]


def test_reporting_accepts_cuda_tensors():
    x = torch.rand(4, 1, 28, 28, device="cuda")
    assert tensor_grid(x).shape[2] == 3
    assert "on cuda" in format_value(x)


def test_export_of_a_cuda_model(tmp_path):
    from dnne.runtime.ml.export_model import export_onnx, export_torchscript, onnx_unavailable_reason

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    model = model.cuda()
    example = torch.randn(4, 1, 28, 28, device="cuda")
    assert export_torchscript(model, example, tmp_path / "m.pt").ok
    if onnx_unavailable_reason() is None:
        report = export_onnx(model, example, tmp_path / "m.onnx")
        assert report.ok, report.describe()
