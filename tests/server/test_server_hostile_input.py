"""Hostile or broken input gets a coded 4xx JSON answer, never a 500: non-strict JSON, deep nesting, oversized
bodies, very long names and ids, error floods; a broken settings file never stops the editor from loading."""

import json
import logging

import pytest
from conftest import run

NAN_BODY = b'{"Comfy.Value": NaN}'


def _code(body: dict) -> str:
    return body["error"]["extra_info"]["dnne_code"]


def test_settings_and_userdata_writes_must_be_strict_json(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            before = (workdir / "comfy.settings.json").read_bytes()
            answers = {}
            for label, path, data in (
                ("settings NaN", "/api/settings", NAN_BODY),
                ("setting Infinity", "/api/settings/Comfy.Value", b"Infinity"),
                ("settings duplicate key", "/api/settings", b'{"a": 1, "a": 2}'),
                ("settings not JSON", "/api/settings", b"{nope"),
                ("workflow NaN", "/api/userdata/workflows%2Fnan.json", b'{"nodes": [NaN]}'),
            ):
                response = await client.post(path, data=data)
                answers[label] = (response.status, _code(await response.json()))
            css = await client.post("/api/userdata/user.css", data=b"body { color: red }")  # not JSON: fine
            after = (workdir / "comfy.settings.json").read_bytes()
            settings = await (await client.get("/api/settings")).text()
            return answers, css.status, before, after, settings

    answers, css, before, after, settings = run(go())
    assert answers == {
        "settings NaN": (400, "E_NONFINITE"),
        "setting Infinity": (400, "E_NONFINITE"),
        "settings duplicate key": (400, "E_DUP_KEY"),
        "settings not JSON": (400, "E_PARSE"),
        "workflow NaN": (400, "E_NONFINITE"),
    }
    assert css == 200 and after == before
    assert not (workdir / "workflows" / "nan.json").exists()
    json.loads(settings, parse_constant=lambda name: pytest.fail(f"{name} in the settings answer"))


@pytest.mark.parametrize(
    "content",
    [NAN_BODY, b"{broken", b"[1, 2]", b"\xff\xfe", b"[" * 100_000],
    ids=["nan", "syntax", "list", "utf8", "deep"],
)
def test_a_broken_settings_file_never_stops_the_editor(workdir, client_for, caplog, content):
    workdir.mkdir(parents=True)
    (workdir / "comfy.settings.json").write_bytes(content)

    async def go():
        async with client_for(workdir) as client:
            page = await client.get("/")
            saved = await client.post("/api/settings/Comfy.After", data=b"1")
            settings = await client.get("/api/settings")
            return settings.status, await settings.text(), page.status, saved.status

    with caplog.at_level(logging.WARNING, logger="dnne.server"):
        status, text, page, saved = run(go())
    assert (status, page, saved) == (200, 200, 200)
    values = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the settings answer"))
    assert values["Comfy.TutorialCompleted"] is True and values["Comfy.After"] == 1
    assert any("W_SETTINGS_UNREADABLE" in r.getMessage() for r in caplog.records), caplog.text
    aside = [p for p in workdir.iterdir() if p.name.startswith("comfy.settings.json.broken-")]
    assert len(aside) == 1 and aside[0].read_bytes() == content  # kept for the user to repair, not lost


def test_deep_oversized_and_long_inputs_get_coded_4xx(workdir, client_for):
    deep = b"[" * 5000 + b"]" * 5000  # parses in Python's json, but deeper than any workflow
    long_name = "workflows%2F" + "a" * 300 + ".json"

    async def go():
        async with client_for(workdir, max_body=64 * 1024) as client:
            answers = {}
            for label, method, path, data in (
                ("deep prompt", "POST", "/api/prompt", deep),
                ("deep export", "POST", "/dnne/export", deep),
                ("deep settings", "POST", "/api/settings", deep),
                ("oversized export", "POST", "/dnne/export", b" " * (70 * 1024)),
                ("oversized prompt", "POST", "/api/prompt", b" " * (70 * 1024)),
                ("oversized settings", "POST", "/api/settings", b" " * (70 * 1024)),
                ("long file name", "POST", f"/api/userdata/{long_name}", b"{}"),
                ("long file name get", "GET", f"/api/userdata/{long_name}", None),
                ("long file name delete", "DELETE", f"/api/userdata/{long_name}", None),
                ("long move dest", "POST", f"/api/userdata/user.css/move/{long_name}", None),
                ("long dir", "GET", "/api/userdata?dir=" + "d" * 300, None),
                ("long setting id", "POST", "/api/settings/" + "s" * 1000, b"1"),
                ("long prompt id", "POST", "/api/prompt", json.dumps({"prompt": {}, "prompt_id": "p" * 1000}).encode()),
                ("long client id", "GET", "/ws?clientId=" + "c" * 1000, None),
            ):
                response = await client.request(method, path, data=data)
                body = await response.json()  # always JSON
                answers[label] = (response.status, _code(body))
            return answers

    answers = run(go())
    assert answers == {
        "deep prompt": (400, "E_TOO_LARGE"),
        "deep export": (400, "E_TOO_LARGE"),
        "deep settings": (400, "E_TOO_LARGE"),
        "oversized export": (413, "E_BODY_TOO_LARGE"),
        "oversized prompt": (413, "E_BODY_TOO_LARGE"),
        "oversized settings": (413, "E_BODY_TOO_LARGE"),
        "long file name": (400, "E_NAME_TOO_LONG"),
        "long file name get": (400, "E_NAME_TOO_LONG"),
        "long file name delete": (400, "E_NAME_TOO_LONG"),
        "long move dest": (400, "E_NAME_TOO_LONG"),
        "long dir": (400, "E_NAME_TOO_LONG"),
        "long setting id": (400, "E_NAME_TOO_LONG"),
        "long prompt id": (400, "E_NAME_TOO_LONG"),
        "long client id": (400, "E_NAME_TOO_LONG"),
    }


def test_nesting_beyond_the_recursion_limit_is_a_400(workdir, client_for):
    very_deep = b"[" * 200_000 + b"]" * 200_000

    async def go():
        async with client_for(workdir) as client:
            response = await client.post("/api/prompt", data=very_deep)
            return response.status, _code(await response.json())

    assert run(go()) == (400, "E_TOO_LARGE")


def _flood_workflow(n: int) -> dict:
    """`n` invalid nodes of three kinds (missing input, unknown type, bad widget): hundreds of errors.

    The loader already lists at most a few dozen per code; the server caps what one answer lists in all.
    """
    nodes = []
    for i in range(1, n + 1):
        node = {"id": i, "type": "PrintValue", "pos": [0, 0], "size": [200, 60], "flags": {}, "order": i, "mode": 0,
                "inputs": [{"name": "value", "type": "*", "link": None}], "outputs": [], "properties": {},
                "widgets_values": ["x" * 200]}  # fmt: skip
        if i % 3 == 1:
            node["type"] = f"NoSuchType{i}"
        elif i % 3 == 2:
            node.update(type="IntConstant", inputs=[], widgets_values=["abc"])
        nodes.append(node)
    return {"version": 0.4, "last_node_id": n, "last_link_id": 0, "nodes": nodes, "links": [], "groups": []}


def test_error_body_lists_a_bounded_number(catalog):
    from dnne.errors import Diagnostic
    from dnne.server.node_errors import MAX_LISTED_DIAGNOSTICS, error_body

    flood = [Diagnostic(f"E_CODE_{i % 500}", "m" * 10_000, node_id=str(i), got="g" * 10_000) for i in range(100_000)]
    body = error_body(flood)
    size = len(json.dumps(body))
    print(f"100,000 diagnostics of 20 KB each → {size:,} bytes")
    assert len(body["diagnostics"]) == MAX_LISTED_DIAGNOSTICS and body["diagnostics_omitted"] == 100_000 - 50
    assert "100000 problem(s)" in body["error"]["message"] and size < 1_000_000


def test_error_answers_are_capped(workdir, client_for, catalog):
    from dnne.server.node_errors import MAX_LISTED_DIAGNOSTICS

    for key in ("PrintValue", "IntConstant"):
        if key not in catalog:
            pytest.skip(f"{key} is not in the catalog")
    workflow = _flood_workflow(600)
    request = json.dumps({"prompt": {}, "extra_data": {"extra_pnginfo": {"workflow": workflow}}}).encode()

    async def go():
        async with client_for(workdir) as client:
            prompt = await client.post("/api/prompt", data=request)
            export = await client.post("/dnne/export", json={"workflow": workflow})
            return prompt.status, await prompt.read(), export.status, await export.read()

    prompt_status, prompt_raw, export_status, export_raw = run(go())
    print(f"request {len(request):,} bytes → error answer {len(prompt_raw):,} bytes")
    for status, raw in ((prompt_status, prompt_raw), (export_status, export_raw)):
        body = json.loads(raw)
        assert status == 400
        assert len(body["diagnostics"]) == MAX_LISTED_DIAGNOSTICS
        assert body["diagnostics_omitted"] > 0
        assert sum(len(e["errors"]) for e in body["node_errors"].values()) <= MAX_LISTED_DIAGNOSTICS
        assert len(raw) < 200_000, len(raw)
