"""Run and watch: a real exported MNIST run (tiny generated IDX data) relayed as ComfyUI execution messages."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run
from test_server_prompt import _collect_until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mnist_mlp.json"


def _idx_data(root: Path, n_train: int = 3000, n_test: int = 200) -> Path:
    from dnne.runtime.data.idx import write_idx

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(root / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(root / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, (n,), dtype=np.uint8))
    return root


def _set_widget(node: dict, index: int, name: str, value) -> None:
    node["widgets_values"][index] = value
    if isinstance(node.get("widgets_values_named"), dict):
        node["widgets_values_named"][name] = value


def _tiny_mnist_workflow(data_dir: Path) -> dict:
    workflow = json.loads(EXAMPLE.read_text())
    for node in workflow["nodes"]:
        if node["type"] == "MNISTDataset":
            _set_widget(node, 0, "data_path", str(data_dir))
            _set_widget(node, 2, "download", False)
        elif node["type"] == "BatchSampler":
            _set_widget(node, 0, "batch_size", 16)  # many short steps: a run of a few seconds
    return workflow


@pytest.mark.slow
def test_run_relays_active_nodes_progress_and_executed(workdir, client_for, tmp_path, catalog):
    if not EXAMPLE.is_file():
        pytest.skip("examples/mnist_mlp.json is missing")
    workflow = _tiny_mnist_workflow(_idx_data(tmp_path / "data"))
    workflow_ids = {str(node["id"]) for node in workflow["nodes"]}

    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws")
            await ws.receive_json()
            body = {"prompt": {}, "extra_data": {"extra_pnginfo": {"workflow": workflow}}}
            body["extra_data"]["dnne"] = {"name": "tiny_mnist", "run": True, "run_args": {"epochs": 2, "threads": 1}}
            answer = await (await client.post("/api/prompt", json=body)).json()
            return answer, await _collect_until(ws, timeout=240)

    answer, messages = run(go())
    kinds = [m["type"] for m in messages]
    assert answer["run"] is True and kinds[-1] == "execution_success", [m for m in messages if "error" in m["type"]]
    during = messages[kinds.index("dnne.run_started") :]
    report_node = next(m["data"]["node"] for m in during if m["type"] == "executing")
    executing = [m["data"]["node"] for m in during if m["type"] == "executing" and m["data"]["node"] is not None]
    assert set(executing) <= workflow_ids, executing
    assert set(executing) - {report_node}, f"only the report node {report_node} was shown as executing"

    # progress along the training steps (2 epochs × 188 steps of 16 images), moving within each epoch
    step_progress = [m["data"] for m in during if m["type"] == "progress"]
    values = [p["value"] for p in step_progress]
    assert len(values) >= 3 and values == sorted(values) and len(set(values)) == len(values), values
    top = step_progress[-1]["max"]
    assert {p["max"] for p in step_progress} == {top} and values[-1] == top and values[0] < top / 2 and top > 100
    assert {p["node"] for p in step_progress} <= workflow_ids
    epochs = [m["data"]["record"] for m in during if m["type"] == "dnne.metrics"]
    assert [r["epoch"] for r in epochs if r.get("event") == "epoch"] == [1, 2]

    executed = {m["data"]["node"]: m["data"]["output"] for m in during if m["type"] == "executed"}
    assert set(executed) <= workflow_ids and report_node in executed
    assert executed[report_node]["exit_code"] == [0]
    assert any(out.get("firings", [0])[0] > 100 for out in executed.values()), executed
    latest = executed[report_node]["latest_metrics"][0]
    assert latest["epoch"] == 2 and 0.0 <= latest["train_accuracy"] <= 1.0, latest
    events = [json.loads(line) for line in open(executed[report_node]["events"][0])]
    assert {e["node_id"] for e in events if e["event"] == "node_start"} == set(executed)
    assert events[-1]["event"] == "end" and events[-1]["exit_code"] == 0
