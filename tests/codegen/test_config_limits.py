"""config.json carries the declared ranges and choices; a hand edit outside them exits 2 before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dnne.codegen.export import export_workflow

REPO = Path(__file__).resolve().parents[2]


def test_limits_are_written_from_the_widget_declarations(tmp_path):
    export_workflow(REPO / "examples" / "mnist_mlp.json", tmp_path / "out")
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    adam = next(i for i, p in config["nodes"].items() if "beta1" in p)
    assert config["limits"][adam]["learning_rate"] == {"min": 1e-07, "max": 1.0}
    evaluate = next(i for i, p in config["nodes"].items() if "split" in p)
    assert config["limits"][evaluate]["split"] == {"choices": ["test", "train"]}
    # exporter-made values (the Network's folded layers) get no limits of a widget
    assert all("layers" not in fields for fields in config["limits"].values())


def test_out_of_range_hand_edit_exits_2_naming_node_and_field(tmp_path):
    out = tmp_path / "out"
    export_workflow(REPO / "examples" / "mnist_mlp.json", out)
    config = json.loads((out / "config.json").read_text())
    adam = next(i for i, p in config["nodes"].items() if "beta1" in p)
    config["nodes"][adam]["learning_rate"] = -5
    (out / "config.json").write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, str(out / "runner.py"), "--max-steps", "1"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert f"node {adam}" in result.stderr and "'learning_rate'" in result.stderr
    assert "1e-07 ≤ value ≤ 1.0" in result.stderr and "got -5" in result.stderr
    assert "Traceback" not in result.stderr
