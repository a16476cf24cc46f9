"""The ComfyUI node pack's Python surface, checked against ComfyUI's documented V1 custom-node API."""

import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conftest import run

from dnne.catalog import Catalog
from dnne.comfyui.nodes import KEY_PREFIX, DnneNodeNotExecutable, build_mappings, unprefixed


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
    assert cls.OUTPUT_NODE is True  # ComfyUI's Run must reach every dnne node (and stop there with the hint)
    assert isinstance(cls.FUNCTION, str) and callable(getattr(cls, cls.FUNCTION))
    with pytest.raises(DnneNodeNotExecutable, match="dnne ▸ Export"):
        getattr(cls(), cls.FUNCTION)()


def test_v1_classes_match_object_info():
    catalog = _utils_catalog()
    classes, names = build_mappings(catalog)
    info = catalog.object_info()
    assert set(classes) == set(names) == {KEY_PREFIX + key for key in info}
    for key, cls in classes.items():
        _check_v1_class(cls, info[key.removeprefix(KEY_PREFIX)])
        assert names[key] == info[key.removeprefix(KEY_PREFIX)]["display_name"]


def test_pack_module_uses_the_default_catalog(catalog):
    import dnne.comfyui as pack

    assert set(pack.NODE_CLASS_MAPPINGS) == {KEY_PREFIX + key for key in catalog.keys()}
    info = catalog.object_info()
    for key, cls in pack.NODE_CLASS_MAPPINGS.items():
        _check_v1_class(cls, info[key.removeprefix(KEY_PREFIX)])
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
        assert set(mappings) == {KEY_PREFIX + key for key in catalog.keys()}
        assert module.NODE_DISPLAY_NAME_MAPPINGS[KEY_PREFIX + catalog.keys()[0]]
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
            prefixed = await client.post("/dnne/export", json={"prompt": comfyui_prompt, "name": "in_comfyui"})
            return info, bad_json.status, no_graph.status, unknown.status, await unknown.json(), prefixed

    comfyui_prompt = {  # what ComfyUI's frontend sends for a dnne graph: the pack's prefixed keys
        "1": {"class_type": "dnne.IntConstant", "inputs": {"value": 3}},
        "2": {"class_type": "dnne.PrintValue", "inputs": {"value": ["1", 0], "prefix": "Value:"}},
    }
    if not {"IntConstant", "PrintValue"} <= set(catalog.keys()):
        pytest.skip("IntConstant/PrintValue are not in the catalog")
    info, bad_json, no_graph, status, body, prefixed = run(go())
    assert prefixed.status == 200 and (tmp_path / "dnne_exports" / "in_comfyui" / "runner.py").is_file()
    assert info["run"] is False  # no "Export and run" inside ComfyUI
    assert info["host"] == "comfyui"
    assert (bad_json, no_graph, status) == (400, 400, 400)
    assert "1" in body["node_errors"]
    assert not (tmp_path / "dnne_exports" / "t").exists()


class _OtherPack:
    """A class of another custom-node pack that defines the same common names as dnne."""

    RETURN_TYPES = ("FLOAT",)


def test_keys_do_not_collide_with_other_packs_in_comfyuis_registry(catalog):
    """ComfyUI merges every pack's NODE_CLASS_MAPPINGS into one dict (nodes.NODE_CLASS_MAPPINGS.update)."""
    import dnne.comfyui as pack

    other = {"FloatConstant": _OtherPack, "StringConstant": _OtherPack, "IntConstant": _OtherPack}
    assert {"FloatConstant", "StringConstant"} <= set(catalog.keys())  # the names other packs use too
    registry: dict[str, type] = {}
    collisions = []
    for mappings in (other, pack.NODE_CLASS_MAPPINGS):
        collisions += sorted(set(registry) & set(mappings))
        registry.update(mappings)
    assert collisions == []
    assert registry["FloatConstant"] is _OtherPack and registry["dnne.FloatConstant"].DNNE_TYPE == "FloatConstant"
    workflow = {"nodes": [{"id": 1, "type": "dnne.FloatConstant"}, {"id": 2, "type": "FloatConstant"}],
                "links": [[1, 1, 0, 2, 0, "FLOAT"]]}  # fmt: skip
    plain = unprefixed(workflow, set(catalog.keys()))
    assert [n["type"] for n in plain["nodes"]] == ["FloatConstant", "FloatConstant"] and plain["links"][0][5] == "FLOAT"


COMFYUI_VALIDATION = """
# The shape of ComfyUI's execution.py validation: every OUTPUT_NODE is validated; a node's INPUT_TYPES is read, then
# each linked input's source is validated first, recursively (a loop recurses forever); exceptions become errors.
def validate_inputs(prompt, item, validated):
    if item in validated:
        return validated[item]
    node = prompt[item]
    class_inputs = NODE_CLASS_MAPPINGS[node["class_type"]].INPUT_TYPES()
    for name in class_inputs["required"]:
        value = node["inputs"].get(name)
        if isinstance(value, list):
            validate_inputs(prompt, value[0], validated)
    validated[item] = (True, [], item)
    return validated[item]

def validate_prompt(prompt):
    outputs = [x for x in prompt if getattr(NODE_CLASS_MAPPINGS[prompt[x]["class_type"]], "OUTPUT_NODE", False)]
    if not outputs:
        return {"type": "prompt_no_outputs", "message": "Prompt has no outputs"}, {}
    node_errors = {}
    for o in outputs:
        try:
            validate_inputs(prompt, o, {})
        except Exception as ex:
            node_errors[o] = {"type": "exception_during_validation", "details": str(ex), "class": type(ex).__name__}
    return None, node_errors
"""


def test_comfyuis_own_run_fails_at_once_with_the_export_hint(catalog):
    """Two dnne nodes in a loop (as in every training graph) run with ComfyUI's Run: each says "use dnne ▸ Export"."""
    import sys
    import types

    import dnne.comfyui as pack

    execution = types.ModuleType("execution")
    execution.NODE_CLASS_MAPPINGS = pack.NODE_CLASS_MAPPINGS
    previous = sys.modules.get("execution")
    sys.modules["execution"] = execution
    try:
        exec(compile(COMFYUI_VALIDATION, "execution.py", "exec"), execution.__dict__)
        keys = [k for k, cls in pack.NODE_CLASS_MAPPINGS.items() if cls.INPUT_TYPES()["required"]][:2]
        first_input = [next(iter(pack.NODE_CLASS_MAPPINGS[k].INPUT_TYPES()["required"])) for k in keys]
        loop = {"1": {"class_type": keys[0], "inputs": {first_input[0]: ["2", 0]}},
                "2": {"class_type": keys[1], "inputs": {first_input[1]: ["1", 0]}}}  # fmt: skip
        error, node_errors = execution.validate_prompt(loop)
    finally:
        if previous is None:
            del sys.modules["execution"]
        else:
            sys.modules["execution"] = previous
    assert error is None  # not "Prompt has no outputs"
    assert set(node_errors) == {"1", "2"}
    for entry in node_errors.values():
        assert entry["class"] == "DnneNodeNotExecutable" and "dnne ▸ Export" in entry["details"], entry
        assert "recursion" not in entry["details"].lower()
    assert pack.NODE_CLASS_MAPPINGS[keys[0]].INPUT_TYPES()["required"]  # /object_info still gets the inputs
