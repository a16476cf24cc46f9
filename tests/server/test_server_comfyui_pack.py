"""The ComfyUI node pack's Python surface, checked against ComfyUI's documented V1 custom-node API."""

import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conftest import run

from dnne.catalog import Catalog
from dnne.comfyui.nodes import DnneNodeNotExecutable, build_mappings


def _utils_catalog() -> Catalog:
    from dnne.catalog import utils

    return Catalog(utils.NODE_TYPES)


def _v1_as_object_info_input(cls) -> dict:
    """What ComfyUI's server makes of INPUT_TYPES for /object_info (tuples become JSON lists)."""
    return json.loads(json.dumps(cls.INPUT_TYPES()))


def _check_v1_class(cls, info: dict) -> None:
    assert _v1_as_object_info_input(cls) == info["input"]
    assert list(cls.RETURN_TYPES) == info["output"]
    assert list(cls.RETURN_NAMES) == info["output_name"]
    assert cls.CATEGORY == info["category"]
    assert cls.OUTPUT_NODE == info["output_node"]
    assert isinstance(cls.FUNCTION, str) and callable(getattr(cls, cls.FUNCTION))
    with pytest.raises(DnneNodeNotExecutable, match="export the graph with dnne"):
        getattr(cls(), cls.FUNCTION)()


def test_v1_classes_match_object_info():
    catalog = _utils_catalog()
    classes, names = build_mappings(catalog)
    info = catalog.object_info()
    assert set(classes) == set(info) == set(names)
    for key, cls in classes.items():
        _check_v1_class(cls, info[key])
        assert names[key] == info[key]["display_name"]


def test_pack_module_uses_the_default_catalog(catalog):
    import dnne.comfyui as pack

    assert set(pack.NODE_CLASS_MAPPINGS) == set(catalog.keys())
    info = catalog.object_info()
    for key, cls in pack.NODE_CLASS_MAPPINGS.items():
        _check_v1_class(cls, info[key])
    web_dir = Path(pack.WEB_DIRECTORY)
    assert web_dir.is_absolute() and (web_dir / "dnne_export.js").is_file()
    from dnne.comfyui.pack import register_with_comfyui

    assert register_with_comfyui() is False  # not inside ComfyUI: nothing to register on


def test_pack_folder_loads_the_way_comfyui_loads_custom_nodes(catalog):
    """ComfyUI imports custom_nodes/<dir>/__init__.py by file location under the folder's name."""
    import importlib.util
    import sys

    import dnne.comfyui

    init = Path(dnne.comfyui.__file__)
    spec = importlib.util.spec_from_file_location("dnne_nodes_link", init)
    module = importlib.util.module_from_spec(spec)
    sys.modules["dnne_nodes_link"] = module
    try:
        spec.loader.exec_module(module)
        mappings = module.NODE_CLASS_MAPPINGS
        assert set(mappings) == set(catalog.keys())
        assert module.NODE_DISPLAY_NAME_MAPPINGS[catalog.keys()[0]]
        web_dir = Path(init.parent, module.WEB_DIRECTORY)  # ComfyUI joins it onto the pack folder
        assert (web_dir / "dnne_export.js").is_file()
    finally:
        del sys.modules["dnne_nodes_link"]


def test_export_route_added_to_a_route_table(tmp_path, monkeypatch, catalog):
    """The pack's routes on a plain aiohttp RouteTableDef (what ComfyUI's PromptServer.routes is)."""
    from dnne.comfyui import pack

    monkeypatch.chdir(tmp_path)  # outside ComfyUI, exports go to ./dnne_exports
    routes = web.RouteTableDef()
    pack.add_routes(routes)
    app = web.Application()
    app.add_routes(routes)

    async def go():
        async with TestClient(TestServer(app)) as client:
            info = await (await client.get("/dnne/info")).json()
            bad_json = await client.post("/dnne/export", data=b"{nope")
            no_graph = await client.post("/dnne/export", json={"name": "x"})
            unknown = await client.post(
                "/dnne/export", json={"prompt": {"1": {"class_type": "NoSuchNode", "inputs": {}}}, "name": "t"}
            )
            return info, bad_json.status, no_graph.status, unknown.status, await unknown.json()

    info, bad_json, no_graph, status, body = run(go())
    assert info["host"] == "comfyui"
    assert (bad_json, no_graph, status) == (400, 400, 400)
    assert "1" in body["node_errors"]
    assert not (tmp_path / "dnne_exports" / "t").exists()
