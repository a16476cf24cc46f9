import pytest
import torch
from torch import nn

from dnne.runtime.ml.export_model import (
    ExportError,
    export_model,
    export_onnx,
    export_torchscript,
    onnx_unavailable_reason,
)


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))


@pytest.mark.parametrize("method", ["trace", "script"])
def test_torchscript_parity_and_mode_restored(tmp_path, method):
    model = _mlp().train()
    example = torch.randn(4, 1, 28, 28)
    report = export_torchscript(model, example, tmp_path / "m.pt", method=method)
    assert report.ok and report.max_abs_diff < 1e-4 and report.path.is_file()
    assert model.training  # eval only during the export (dropout off for the parity check)
    loaded = torch.jit.load(str(report.path))
    assert torch.allclose(loaded(example), model.eval()(example), atol=1e-5)
    assert "parity ok" in report.describe()


def test_parity_failure_is_reported(tmp_path):
    class Noisy(nn.Module):
        def forward(self, x):
            return x + torch.rand_like(x)  # different on every call: the reloaded copy cannot match

    report = export_torchscript(Noisy(), torch.zeros(2, 3), tmp_path / "n.pt", strict=False)
    assert not report.ok and "MISMATCH" in report.describe()
    with pytest.raises(ExportError, match="does not match the model"):
        export_torchscript(Noisy(), torch.zeros(2, 3), tmp_path / "n.pt")


def test_untraceable_model_gives_clear_error(tmp_path):
    class Branchy(nn.Module):
        def forward(self, x):
            return {"a": x} if x.sum() > 0 else [x]

    with pytest.raises(ExportError, match="TorchScript script failed"):
        export_torchscript(Branchy(), torch.ones(2), tmp_path / "b.pt", method="script")


@pytest.mark.skipif(onnx_unavailable_reason() is not None, reason="onnx is not installed")
def test_onnx_parity_with_dynamic_batch(tmp_path):
    model = _mlp()
    report = export_onnx(model, torch.randn(4, 1, 28, 28), tmp_path / "m.onnx")
    assert report.ok and report.max_abs_diff < 1e-4 and report.checked_with in ("onnxruntime", "onnx.reference")
    import onnx

    graph = onnx.load(str(report.path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_export_model_both_formats(tmp_path):
    lines = []
    reports = export_model(_mlp(), torch.randn(2, 1, 28, 28), tmp_path, log=lines.append)
    formats = [r.format for r in reports]
    assert formats[0] == "torchscript" and (tmp_path / "model.torchscript.pt").is_file()
    if onnx_unavailable_reason() is None:
        assert formats == ["torchscript", "onnx"] and (tmp_path / "model.onnx").is_file()
    else:
        assert any("ONNX export skipped" in line for line in lines)
    with pytest.raises(ExportError, match="unknown export format"):
        export_model(_mlp(), torch.randn(2, 1, 28, 28), tmp_path, formats=("tflite",))
