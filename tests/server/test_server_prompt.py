"""Export from the editor: POST /api/prompt and /dnne/export with the real loader, exporter and catalog."""

import asyncio
import json
import py_compile

import pytest
from conftest import run


def ui_workflow(value=3, first_type="IntConstant"):
    """A two-node UI (0.4) workflow: IntConstant → PrintValue, as the frontend saves it."""
    return {
        "version": 0.4,
        "last_node_id": 2,
        "last_link_id": 1,
        "nodes": [
            {
                "id": 1,
                "type": first_type,
                "pos": [0, 0],
                "size": [200, 60],
                "flags": {},
                "order": 0,
                "mode": 0,
                "inputs": [],
                "outputs": [{"name": "INT", "type": "INT", "links": [1]}],
                "properties": {},
                "widgets_values": [value],
            },
            {
                "id": 2,
                "type": "PrintValue",
                "pos": [300, 0],
                "size": [200, 60],
                "flags": {},
                "order": 1,
                "mode": 0,
                "inputs": [{"name": "value", "type": "*", "link": 1}],
                "outputs": [{"name": "value", "type": "*", "links": []}],
                "properties": {},
                "widgets_values": ["Value:"],
            },
        ],  # fmt: skip
        "links": [[1, 1, 0, 2, 0, "INT"]],
        "groups": [],
        "config": {},
        "extra": {},
    }


def api_prompt(value=3):
    return {
        "1": {"class_type": "IntConstant", "inputs": {"value": value}},
        "2": {"class_type": "PrintValue", "inputs": {"value": ["1", 0], "prefix": "Value:"}},
    }


def prompt_body(workflow, **dnne):
    body = {"client_id": "c1", "prompt": api_prompt(), "extra_data": {"extra_pnginfo": {"workflow": workflow}}}
    if dnne:
        body["extra_data"]["dnne"] = dnne
    return body


@pytest.fixture(autouse=True)
def _needs_pipeline(catalog):
    missing = [key for key in ("IntConstant", "PrintValue") if key not in catalog]
    assert not missing, f"the catalog lacks the node types these tests queue: {missing}"


async def _collect_until(ws, kinds_done=("execution_success", "execution_error", "execution_interrupted"), timeout=90):
    messages = []

    async def collect():
        while True:
            msg = await ws.receive_json()
            messages.append(msg)
            if msg["type"] in kinds_done:
                return messages

    return await asyncio.wait_for(collect(), timeout)


def test_prompt_exports_and_reports_progress(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws?clientId=c1")
            await ws.receive_json()  # status
            response = await client.post("/api/prompt", json=prompt_body(ui_workflow(), name="tiny graph", run=False))
            body = await response.json()
            messages = await _collect_until(ws)
            history = await (await client.get("/api/history")).json()
            jobs = await (await client.get("/api/jobs?status=completed")).json()
            return response.status, body, messages, history, jobs

    status, body, messages, history, jobs = run(go())
    assert status == 200, body
    assert body["node_errors"] == {} and body["number"] == 1 and body["prompt_id"]
    export_dir = workdir / "exports" / "tiny_graph"
    assert body["export_path"] == str(export_dir)
    assert "runner.py" in body["files"] and "config.json" in body["files"]
    py_compile.compile(str(export_dir / "runner.py"), doraise=True)
    assert messages[0] == {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}}}  # running
    messages = messages[1:]
    kinds = [m["type"] for m in messages]
    assert kinds[:2] == ["execution_start", "executing"] and kinds[-1] == "execution_success"
    assert "progress" in kinds
    state = next(m["data"] for m in messages if m["type"] == "progress_state")  # what the frontend highlights
    assert state["nodes"]["2"]["state"] == "running" and state["nodes"]["2"]["display_node_id"] == "2"
    executed = next(m["data"] for m in messages if m["type"] == "executed")
    assert executed["node"] == "2" and executed["output"]["export_path"] == [str(export_dir)]
    assert all(m["data"].get("prompt_id") == body["prompt_id"] for m in messages)
    assert history[body["prompt_id"]]["status"]["completed"] is True
    assert [j["id"] for j in jobs["jobs"]] == [body["prompt_id"]]


def test_validation_errors_come_back_as_node_errors(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            too_big = await client.post("/api/prompt", json=prompt_body(ui_workflow(value=10**6)))
            unknown = await client.post("/api/prompt", json=prompt_body(ui_workflow(first_type="NoSuchNode")))
            return too_big.status, await too_big.json(), unknown.status, await unknown.json()

    status, body, status2, body2 = run(go())
    assert status == 400
    errors = body["node_errors"]["1"]
    assert errors["class_type"] == "IntConstant"
    assert errors["errors"][0]["extra_info"]["input_name"] == "value"
    assert {"type", "message", "details", "extra_info"} <= set(errors["errors"][0])
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert status2 == 400 and "1" in body2["node_errors"]
    unknown = body2["node_errors"]["1"]["errors"][0]
    assert unknown["type"] == "exception_during_validation"  # a type whose details the frontend shows verbatim
    assert unknown["details"].startswith("E_UNKNOWN_TYPE: ") and "NoSuchNode" in unknown["details"]
    assert list((workdir / "exports").iterdir()) == []


def test_api_format_prompt_without_ui_workflow(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            body = {"prompt": api_prompt(5), "client_id": "x", "extra_data": {"dnne": {"run": False}}}
            response = await client.post("/api/prompt", json=body)
            return response.status, await response.json()

    status, body = run(go())
    assert status == 200, body
    assert body["export_path"].startswith(str(workdir / "exports" / "workflow_"))


def test_dnne_export_route_returns_the_runner(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            ok = await client.post("/dnne/export", json={"workflow": ui_workflow(), "name": "../../evil name"})
            api = await client.post("/api/dnne/export", json={"prompt": api_prompt(), "name": "api"})
            bad = await client.post("/dnne/export", json={"workflow": ui_workflow(value="x"), "name": "bad"})
            return await ok.json(), api.status, bad.status, await bad.json()

    ok, api_status, bad_status, bad = run(go())
    assert ok["export_path"] == str(workdir / "exports" / "evil_name")
    assert ok["runner_py"] == (workdir / "exports" / "evil_name" / "runner.py").read_text()
    compile(ok["runner_py"], "runner.py", "exec")
    assert api_status == 200
    assert bad_status == 400 and bad["node_errors"]["1"]["errors"][0]["extra_info"]["input_name"] == "value"
    assert not (workdir / "exports" / "bad").exists()


def test_run_after_export_relays_the_run(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws")
            await ws.receive_json()
            body = prompt_body(ui_workflow(), name="tiny_run", run=True, run_args={"timeout": "60s", "threads": 1})
            response = await client.post("/api/prompt", json=body)
            answer = await response.json()
            messages = await _collect_until(ws, timeout=120)
            runs = await (await client.get("/dnne/runs?export=tiny_run")).json()
            return response.status, answer, messages, runs

    status, answer, messages, runs = run(go())
    assert status == 200 and answer["run"] is True, answer
    kinds = [m["type"] for m in messages]
    assert "dnne.run_started" in kinds
    started = next(m["data"] for m in messages if m["type"] == "dnne.run_started")
    assert (started["export"], runs["runs"][0]["run"]) == ("tiny_run", started["run"])
    assert runs["runs"][0]["final"]["exit_code"] == 0
    assert kinds[-1] == "execution_success", [m for m in messages if m["type"] == "execution_error"]
    records = [m["data"]["record"] for m in messages if m["type"] == "dnne.metrics"]
    assert any(r.get("event") == "done" and r.get("exit_code") == 0 for r in records), records
    run_output = [m["data"]["output"] for m in messages if m["type"] == "executed"][-1]
    assert run_output["exit_code"] == [0]
    metrics_file = run_output["metrics"][0]
    assert [json.loads(line) for line in open(metrics_file)] == records


def test_bad_run_args_are_refused_before_export(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            body = prompt_body(ui_workflow(), run=True, run_args={"resume": "/etc/passwd"})
            response = await client.post("/api/prompt", json=body)
            return response.status, await response.json()

    status, body = run(go())
    assert status == 400 and body["error"]["type"] == "invalid_run_args"
    assert list((workdir / "exports").iterdir()) == []


@pytest.mark.slow
def test_interrupt_stops_a_real_run(workdir, client_for):
    """Export the bundled MNIST example, run it, and stop it from the editor's Interrupt (SIGINT → exit 130)."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "mnist_mlp.json"
    if not example.is_file():
        pytest.skip("examples/mnist_mlp.json is missing")
    workflow = json.loads(example.read_text())

    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws")
            await ws.receive_json()
            body = {"prompt": {}, "extra_data": {"extra_pnginfo": {"workflow": workflow}}}
            body["extra_data"]["dnne"] = {"name": "mnist", "run": True, "run_args": {"epochs": 50, "threads": 1}}
            answer = await (await client.post("/api/prompt", json=body)).json()
            seen = await _collect_until(ws, kinds_done=("dnne.run_started",), timeout=60)
            busy = await client.post("/api/prompt", json=body)  # one run at a time
            seen += await _collect_until(ws, kinds_done=("dnne.metrics",), timeout=120)  # the runtime's start record
            await asyncio.sleep(2)
            assert (await client.post("/api/interrupt", json={})).status == 200
            seen += await _collect_until(ws, timeout=120)
            jobs = await (await client.get("/api/jobs?status=cancelled")).json()
            return answer, busy.status, seen, jobs

    answer, busy, messages, jobs = run(go())
    assert answer["run"] is True and busy == 409
    assert messages[-1]["type"] == "execution_interrupted"
    assert [j["id"] for j in jobs["jobs"]] == [answer["prompt_id"]]
    records = [m["data"]["record"] for m in messages if m["type"] == "dnne.metrics"]
    kinds = [m["type"] for m in messages]
    assert any(r.get("event") == "done" and r.get("reason") == "sigint" for r in records), kinds
