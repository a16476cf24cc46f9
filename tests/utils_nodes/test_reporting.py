import json

import numpy as np
import pytest
import torch
from PIL import Image

from dnne.runtime.reporting import plots, summary, tensorboard
from dnne.runtime.reporting.images import encode_png, save_tensor_image, tensor_grid, write_png
from dnne.runtime.reporting.values import format_value


def test_format_value_summarises_tensors_and_keeps_scalars():
    assert format_value(0.1234567891) == "0.123457"
    assert format_value(torch.tensor(3)) == "3 (int64)"
    assert format_value(torch.tensor([1.0, 2.0])) == "tensor[2] float32 min=1 max=2 mean=1.5 [1.0, 2.0]"
    assert format_value(torch.zeros(100, 100)) == "tensor[100x100] float32 min=0 max=0 mean=0"
    assert format_value(np.arange(3)).startswith("array[3] int64")
    assert format_value({"loss": 0.5, "ok": True}) == "{'loss': 0.5, 'ok': True}"
    assert format_value(list(range(100))).startswith("list of 100 items")
    assert len(format_value("x" * 10_000)) == 400


def test_png_decodes_to_the_same_pixels(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (13, 7, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (5, 9), dtype=np.uint8)
    with Image.open(write_png(tmp_path / "rgb.png", rgb, {"Title": "é"})) as img:
        assert np.array_equal(np.asarray(img), rgb) and img.info["Title"] == "é"
    with Image.open(write_png(tmp_path / "gray.png", gray)) as img:
        assert img.mode == "L" and np.array_equal(np.asarray(img), gray)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2), dtype=np.float32))


@pytest.mark.parametrize(
    "shape, tiles",
    [
        ((8, 1, 28, 28), 8),
        ((8, 28, 28, 3), 8),
        ((3, 28, 28), 1),
        ((5, 12, 12), 5),
        ((16, 784), 16),
        ((100, 64, 5, 5), 64),
    ],
)
def test_tensor_grid_layouts(shape, tiles):
    grid = tensor_grid(torch.rand(shape))
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    assert grid.min() >= 0 and grid.max() <= 255
    cols = int(np.ceil(np.sqrt(tiles)))
    assert grid.shape[1] >= cols  # one column per tile at least


def test_tensor_grid_scales_min_max_and_survives_nan_and_constant():
    grid = tensor_grid(torch.tensor([[0.0, 1.0], [2.0, float("nan")]]), min_size=2)
    assert grid[0, 0, 0] == 0 and grid[1, 0, 0] == 255 and grid[1, 1, 0] == 0
    assert tensor_grid(torch.ones(4, 4)).max() == 0
    with pytest.raises(ValueError, match="empty"):
        tensor_grid(torch.zeros(0))


def test_save_tensor_image_names_and_cap(tmp_path):
    for count in (1, 2, 3, 4):
        path, _ = save_tensor_image(torch.rand(2, 1, 4, 4), tmp_path, "12", count, 2, "c")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "node_12_00001.png",
        "node_12_00002.png",
        "node_12_latest.png",
    ]
    assert path.name == "node_12_latest.png"


def test_summary_tables():
    records = [{"step": i, "loss": 1.0 / (i + 1), "accuracy": i / 10, "note": "x"} for i in range(10)]
    stats = summary.metric_stats(records)
    assert set(stats) == {"loss", "accuracy"} and stats["loss"]["last"] == 0.1 and stats["accuracy"]["count"] == 10
    text = summary.metrics_table(records)
    lines = text.splitlines()
    assert lines[0] == "Metrics" and lines[1].split() == ["metric", "last", "min", "max", "mean", "n"]
    assert lines[3].split()[:2] == ["accuracy", "0.9"]
    kv = summary.key_values({"reason": "done", "steps": 938})
    assert kv.splitlines() == ["Run summary", "reason  done", "steps   938"]


def test_plot_metrics_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    records = [{"step": i, "loss": 1.0 / (i + 1), "accuracy": i / 50} for i in range(50)]
    records.insert(10, {"event": "epoch", "epoch": 1})
    path = plots.plot_metrics(records, tmp_path / "curves.png", title="run")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size[0] > 500
    x_label, series = plots.curves(records)
    assert x_label == "step" and set(series) == {"loss", "accuracy"} and len(series["loss"][0]) == 50
    assert plots.plot_metrics([{"event": "start"}], tmp_path / "none.png") is None


def test_plot_cli_from_jsonl(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(
        "\n".join(json.dumps({"env_steps": i * 100, "episode_return": i * 2.0}) for i in range(20)) + "\nbad\n"
    )
    assert plots.read_metrics(metrics)[3] == {"env_steps": 300, "episode_return": 6.0}
    assert plots.main([str(metrics)]) == 0
    assert (tmp_path / "metrics.png").is_file()
    assert plots.curves(plots.read_metrics(metrics))[0] == "env_steps"


def test_plots_skip_cleanly_without_matplotlib(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert "pip install matplotlib" in plots.unavailable_reason()
    assert plots.plot_metrics([{"step": 1, "loss": 1.0}], tmp_path / "x.png") is None
    assert not (tmp_path / "x.png").exists()


def test_tensorboard_optional(tmp_path):
    messages = []
    logger = tensorboard.open_logger(tmp_path / "tb", log=messages.append)
    if tensorboard.unavailable_reason():
        assert logger is None and "pip install tensorboard" in messages[0]
        with pytest.raises(RuntimeError, match="pip install tensorboard"):
            tensorboard.TensorBoardLogger(tmp_path)
        return
    assert logger.write({"step": 3, "loss": 0.5, "accuracy": 0.9, "tag": "x"}) == 2
    logger.close()
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())
