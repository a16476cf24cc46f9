"""Every route the ComfyUI frontend calls while starting answers 200 with the shape it expects."""

import json

from conftest import run

STARTUP_GETS = [
    "/",
    "/user.css",
    "/api/userdata/user.css",
    "/api/features",
    "/api/users",
    "/api/system_stats",
    "/api/settings",
    "/api/userdata?dir=workflows&recurse=true&split=false&full_info=true",
    "/api/i18n",
    "/api/extensions",
    "/api/userdata/comfy.templates.json",
    "/api/userdata?dir=subgraphs&recurse=true&split=false&full_info=true",
    "/api/object_info",
    "/api/global_subgraphs",
    "/api/jobs?status=in_progress,pending&limit=200&offset=0",
    "/api/jobs?status=completed,failed,cancelled&limit=200&offset=0",
    "/api/experiment/models",
    # not hit at start-up, but used by the frontend
    "/api/history",
    "/api/queue",
    "/api/embeddings",
    "/internal/logs",
    "/internal/folder_paths",
    "/api/workflow_templates",
    "/api/node_replacements",
    "/api/prompt",
]


def test_startup_routes_all_answer_200(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            answers = {}
            for path in STARTUP_GETS:
                response = await client.get(path)
                assert response.status == 200, (path, response.status, await response.text())
                answers[path] = await response.read()
            return answers

    answers = run(go())
    assert answers["/"].startswith(b"<!doctype html>")
    assert json.loads(answers["/api/users"]) == {"storage": "server", "migrated": True}
    settings = json.loads(answers["/api/settings"])
    assert settings["Comfy.TutorialCompleted"] is True
    stats = json.loads(answers["/api/system_stats"])
    assert {"os", "ram_total", "ram_free", "comfyui_version", "python_version", "pytorch_version"} <= set(
        stats["system"]
    )
    assert json.loads(answers["/api/extensions"]) == ["/extensions/dnne/dnne_export.js",
                                                      "/extensions/dnne/dnne_training.js"]  # fmt: skip
    assert json.loads(answers["/api/userdata/comfy.templates.json"]) == []
    jobs = json.loads(answers["/api/jobs?status=in_progress,pending&limit=200&offset=0"])
    assert jobs == {"jobs": [], "pagination": {"offset": 0, "limit": 200, "total": 0, "has_more": False}}
    assert json.loads(answers["/api/prompt"]) == {"exec_info": {"queue_remaining": 0}}
    assert json.loads(answers["/api/queue"]) == {"queue_running": [], "queue_pending": []}


def test_static_frontend_and_extension_are_served(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            app_shim = await client.get("/scripts/app.js")
            ext = await client.get("/extensions/dnne/dnne_export.js")
            missing = await client.get("/extensions/dnne/nope.js")
            return app_shim.status, ext.status, await ext.text(), missing.status

    shim, ext_status, ext_text, missing = run(go())
    assert (shim, ext_status, missing) == (200, 200, 404)
    assert 'import { app } from "../../scripts/app.js"' in ext_text
    assert "dnne.ExportPython" in ext_text and "/dnne/export" in ext_text


def test_object_info_comes_from_the_catalog(workdir, client_for, catalog):
    async def go():
        async with client_for(workdir) as client:
            full = await (await client.get("/api/object_info")).json()
            key = catalog.keys()[0]
            one = await (await client.get(f"/api/object_info/{key}")).json()
            unknown = await (await client.get("/api/object_info/NoSuchNode")).json()
            return full, key, one, unknown

    full, key, one, unknown = run(go())
    assert full == json.loads(json.dumps(catalog.object_info()))
    assert one == {key: full[key]}
    assert unknown == {}
    for entry in full.values():
        assert {"name", "display_name", "description", "category", "output_node", "python_module"} <= set(entry)


def test_settings_persist_in_the_workdir(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            assert (await client.post("/api/settings/Comfy.ColorPalette", json="dark")).status == 200
            assert (await client.post("/api/settings", json={"dnne.RunAfterExport": True})).status == 200
            one = await (await client.get("/api/settings/Comfy.ColorPalette")).json()
        async with client_for(workdir) as client:  # a new server on the same folder
            return one, await (await client.get("/api/settings")).json()

    one, settings = run(go())
    assert one == "dark"
    assert settings["Comfy.ColorPalette"] == "dark" and settings["dnne.RunAfterExport"] is True
    assert json.loads((workdir / "comfy.settings.json").read_text())["Comfy.TutorialCompleted"] is True


def test_websocket_sends_status_first(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            ws = await client.ws_connect("/ws?clientId=abc123")
            first = await ws.receive_json(timeout=5)
            await ws.send_json({"type": "feature_flags", "data": {"supports_preview_metadata": True}})
            second = await ws.receive_json(timeout=5)
            await ws.close()
            return first, second

    first, second = run(go())
    assert first == {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "abc123"}}
    assert second["type"] == "feature_flags"


def test_examples_are_copied_once(workdir, client_for):
    from dnne.server.examples import examples_dirs

    bundled = sorted(p.name for d in examples_dirs() for p in d.glob("*.json"))

    async def go():
        async with client_for(workdir) as client:
            listing = await (await client.get("/api/userdata?dir=workflows&full_info=false")).json()
        return listing

    listing = run(go())
    assert sorted(listing) == bundled
    if bundled:  # a deleted example does not come back on the next start
        (workdir / "workflows" / bundled[0]).unlink()
        assert bundled[0] not in run(go())
