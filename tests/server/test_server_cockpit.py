"""The cockpit routes without a browser: templates, run history, logs, and what /api/system_stats tells the frontend."""

from __future__ import annotations

import json

from conftest import run

from dnne.server.examples import EXAMPLES, examples_dirs


def test_templates_index_lists_every_bundled_example(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            index = await (await client.get("/templates/index.json")).json()
            first = index[0]["templates"][0]["name"]
            workflow = await client.get(f"/templates/{first}.json")
            card = await client.get(f"/templates/{first}-1.svg")
            logos = await client.get("/templates/index_logo.json")
            missing = await client.get("/templates/nope.json")
            return index, first, workflow.status, await workflow.json(), card.status, card.content_type, \
                logos.status, missing.status  # fmt: skip

    index, first, status, workflow, card_status, card_type, logos, missing = run(go())
    names = {t["name"] for t in index[0]["templates"]}
    shipped = {p.stem for folder in examples_dirs() for p in folder.glob("*.json")}
    assert names == shipped and shipped
    for template in index[0]["templates"]:
        assert template["description"] and template["title"], template
        if template["name"] in EXAMPLES:
            assert (template["title"], template["description"]) == EXAMPLES[template["name"]]
    assert status == 200 and workflow["nodes"]
    assert (card_status, card_type, logos, missing) == (200, "image/svg+xml", 200, 404)


def test_run_history_lists_runs_with_their_final_numbers(workdir, client_for):
    run_dir = workdir / "runs" / "mnist_mlp" / "20260101-000000-abcdef12"
    run_dir.mkdir(parents=True)
    records = [{"event": "start"}, {"event": "epoch", "epoch": 1, "step": 10, "train_loss": 0.5},
               {"event": "epoch", "epoch": 2, "step": 20, "train_loss": 0.25, "test_accuracy": 0.97},
               {"event": "done", "exit_code": 0}]  # fmt: skip
    (run_dir / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n{partial")
    (workdir / "runs" / "other").mkdir()

    async def go():
        async with client_for(workdir) as client:
            listed = await (await client.get("/dnne/runs?export=mnist_mlp")).json()
            every = await (await client.get("/api/dnne/runs")).json()
            metrics = await (await client.get("/dnne/runs/mnist_mlp/20260101-000000-abcdef12/metrics")).json()
            escape = await client.get("/dnne/runs/..%2F..%2Fetc/passwd/metrics")
            absent = await client.get("/dnne/runs/mnist_mlp/none/metrics")
            return listed, every, metrics, escape.status, absent.status

    listed, every, metrics, escape, absent = run(go())
    (entry,) = listed["runs"]
    assert entry["export"] == "mnist_mlp" and entry["records"] == 4 and not entry["running"]
    assert entry["final"]["train_loss"] == 0.25 and entry["final"]["test_accuracy"] == 0.97
    assert every["runs"] == listed["runs"]
    assert metrics["records"] == records  # the partial last line is left out
    assert escape in (403, 404) and absent == 404


def test_logs_panel_routes_and_local_only_system_stats(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            raw = await (await client.get("/internal/logs/raw")).json()
            text = await (await client.get("/internal/logs")).json()
            subscribe = await client.patch("/internal/logs/subscribe", json={"enabled": True, "clientId": "c"})
            stats = await (await client.get("/api/system_stats")).json()
            settings = await (await client.get("/api/settings")).json()
            return raw, text, subscribe.status, stats, settings

    raw, text, subscribed, stats, settings = run(go())
    assert raw["entries"] == [] and text == "" and subscribed == 200
    assert "--disable-api-nodes" in stats["system"]["argv"]  # the frontend's release check stays off
    assert settings["LiteGraph.Canvas.MinFontSizeForLOD"] == 6
