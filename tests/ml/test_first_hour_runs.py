"""An exported MNIST program as a first-hour user runs it: a `--max-steps` run reports loss/accuracy, the end-of-run
table is short unless `--verbose`, a data error is one message with no traceback and no table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import EXAMPLES, export, records
from .synthetic_idx import write_synthetic_mnist

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    return export(EXAMPLES / "mnist_mlp.json", tmp_path_factory.mktemp("first_hour") / "mnist_mlp")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_synthetic_mnist(tmp_path_factory.mktemp("mnist_data"))


def run(export_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """runner.py as a user starts it (no --quiet), one torch thread."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "runner.py", "--threads", "1", *args],
        cwd=export_dir, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_a_max_steps_run_prints_loss_and_accuracy_and_a_short_table(mlp, data_dir, tmp_path):
    proc = run(mlp, "--data-dir", str(data_dir), "--max-steps", "4", "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "stopped at step 4 (--max-steps), in epoch 1/" in err and "train loss" in err and "acc" in err, err
    (partial,) = records(tmp_path / "r" / "metrics.jsonl", "partial_epoch")
    assert partial["step"] == 4 and partial["batches"] == 4 and 0 <= partial["train_accuracy"] <= 1
    assert "test_accuracy" in partial  # the workflow's Evaluate node ran on the weights it stopped with
    assert "final metrics: partial_epoch (epoch 1 step 4): train_loss" in err, err
    table = err[err.index("run ended: max_steps") :]
    assert "more nodes and queues: --verbose shows them all" in table
    node_rows = [line for line in table.splitlines() if line.startswith("  ") and "'" in line]
    assert len(node_rows) <= 5, table
    assert "to resume:" not in err  # it finished what it was asked to do


def test_verbose_shows_the_whole_node_and_queue_table(mlp, data_dir, tmp_path):
    proc = run(mlp, "--data-dir", str(data_dir), "--max-steps", "2", "--run-dir", str(tmp_path / "r"), "--verbose")
    assert proc.returncode == 0, proc.stderr
    table = proc.stderr[proc.stderr.index("run ended: max_steps") :]
    nodes = len(json.loads((mlp / "config.json").read_text())["nodes"])
    assert sum(1 for line in table.splitlines() if "'" in line) >= nodes and "--verbose shows" not in table


def test_a_data_error_is_one_message_with_the_problem_and_no_traceback(mlp, data_dir, tmp_path):
    """Before: the message twice around a ~60-line traceback, then the node table."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in data_dir.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    (bad / "train-images-idx3-ubyte.gz").write_bytes(b"not an idx file")
    proc = run(mlp, "--data-dir", str(bad), "--max-steps", "2", "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "train-images-idx3-ubyte.gz is not an IDX file" in errors[0], proc.stderr
    assert "node 1 (MNISTDataset" in errors[0]
    assert "Traceback" not in proc.stderr and "run ended" not in proc.stderr, proc.stderr
    assert proc.stderr.count("is not an IDX file") == 1


def test_a_learning_rate_out_of_the_exported_limits_is_exit_2_before_torch_sees_it(mlp, data_dir, tmp_path):
    """config.json with a `limits` section (hand-written here, the way the exporter is to write it from the catalog's
    widget ranges): `learning_rate: -5` is refused naming node, field, range and value."""
    config = json.loads((mlp / "config.json").read_text())
    config["nodes"]["13"]["learning_rate"] = -5
    config["limits"] = {"13": {"learning_rate": {"min": 1e-7, "max": 1.0}}}
    edited = tmp_path / "config.json"
    edited.write_text(json.dumps(config))
    proc = run(mlp, "--config", str(edited), "--data-dir", str(data_dir), "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stderr
    assert "node 13 (AdamOptimizer" in proc.stderr, proc.stderr
    assert "field 'learning_rate': expected 1e-07 ≤ value ≤ 1.0, got -5" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _without_evaluate() -> dict:
    """examples/mnist_mlp.json with its Evaluate node removed: the shape of the original DNNE's MNIST workflows."""
    workflow = json.loads((EXAMPLES / "mnist_mlp.json").read_text())
    gone = {n["id"] for n in workflow["nodes"] if n["type"] == "Evaluate"}
    assert gone
    dropped = {link[0] for link in workflow["links"] if link[1] in gone or link[3] in gone}
    workflow["nodes"] = [n for n in workflow["nodes"] if n["id"] not in gone]
    workflow["links"] = [link for link in workflow["links"] if link[0] not in dropped]
    for node in workflow["nodes"]:
        for port in node.get("outputs") or []:
            if port.get("links"):
                port["links"] = [k for k in port["links"] if k not in dropped]
    return workflow


@pytest.fixture(scope="module")
def no_evaluate(tmp_path_factory):
    return export(_without_evaluate(), tmp_path_factory.mktemp("first_hour") / "no_evaluate")


def test_a_workflow_without_evaluate_still_reports_test_metrics_marked_implicit(no_evaluate, data_dir, tmp_path):
    proc = run(no_evaluate, "--data-dir", str(data_dir), "--epochs", "1", "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    (epoch,) = records(tmp_path / "r" / "metrics.jsonl", "epoch")
    assert epoch["implicit_eval"] is True and 0 <= epoch["test_accuracy"] <= 1 and epoch["test_loss"] > 0, epoch
    (implicit,) = records(tmp_path / "r" / "metrics.jsonl", "implicit_eval")
    assert implicit["test_accuracy"] == epoch["test_accuracy"] and implicit["epoch"] == 1
    assert "test loss" in proc.stderr  # in the epoch line
    off = run(no_evaluate, "--data-dir", str(data_dir), "--epochs", "1", "--run-dir", str(tmp_path / "off"),
              "--no-implicit-eval")  # fmt: skip
    assert off.returncode == 0, off.stderr
    (epoch_off,) = records(tmp_path / "off" / "metrics.jsonl", "epoch")
    assert "test_accuracy" not in epoch_off and not records(tmp_path / "off" / "metrics.jsonl", "implicit_eval")
    assert epoch_off["train_loss"] == epoch["train_loss"]  # the evaluation does not change the training


def test_a_workflow_with_evaluate_gets_no_implicit_evaluation(mlp, data_dir, tmp_path):
    proc = run(mlp, "--data-dir", str(data_dir), "--epochs", "1", "--run-dir", str(tmp_path / "r"), "-q")
    assert proc.returncode == 0, proc.stderr
    (epoch,) = records(tmp_path / "r" / "metrics.jsonl", "epoch")
    assert "test_accuracy" in epoch and "implicit_eval" not in epoch
