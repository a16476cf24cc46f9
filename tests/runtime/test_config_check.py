"""A hand-edited config.json with a wrong value type, an unknown or a missing node entry: exit 2 naming node and field."""

from __future__ import annotations

import json

import pytest

from dnne.runtime import QueueNode, run_main
from dnne.runtime.config_check import ConfigError, NodeParams, check_node_params

pytestmark = pytest.mark.timeout(60)


class Tuned(QueueNode):
    """A node with typed parameters, as the generated node classes have."""

    OUTPUTS = ()

    def __init__(self, node_id, title="", *, rate: float = 0.1, size: int = 4, on: bool = True, mode: str = "a"):
        super().__init__(node_id, title)
        self.options = (rate, size, on, mode)

    async def compute(self):
        self.ctx.request_stop("done")


def build(runner, config):
    runner.add(Tuned("7", "My Node", **config["nodes"]["7"]))


def run_with(tmp_path, params) -> int:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"nodes": params}))
    return run_main(build, config_path=path, argv=["--run-dir", str(tmp_path / "r"), "--quiet"])


def test_valid_values_run(tmp_path):
    assert run_with(tmp_path, {"7": {"rate": 1, "size": 8, "on": False, "mode": "b"}}) == 0  # an int is a float


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rate": "fast"}, "node 7 (Tuned 'My Node'), field 'rate': expected a number, got 'fast'"),
        ({"size": True}, "node 7 (Tuned 'My Node'), field 'size': expected an integer, got True"),
        ({"size": 2.5}, "field 'size': expected an integer, got 2.5"),
        ({"on": "true"}, "field 'on': expected true or false, got 'true'"),
        ({"mode": 3}, "field 'mode': expected a string, got 3"),
        (
            {"rtae": 0.2},
            "node 7 (Tuned): unknown parameter 'rtae'; did you mean 'rate'? (it takes: mode, on, rate, size)",
        ),
    ],
)
def test_bad_values_exit_2_naming_node_and_field(tmp_path, capsys, params, message):
    assert run_with(tmp_path, {"7": params}) == 2
    err = capsys.readouterr().err
    assert message in err and str(tmp_path / "config.json") in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("nodes", "message"),
    [({}, "node 7: no parameters under 'nodes'"), ({"7": [1]}, "node 7: its entry under 'nodes' must be an object")],
)
def test_missing_or_malformed_entry_exit_2(tmp_path, capsys, nodes, message):
    assert run_with(tmp_path, nodes) == 2
    assert message in capsys.readouterr().err


def test_check_node_params_ignores_unannotated_and_unknown_annotations():
    class Loose(QueueNode):
        OUTPUTS = ()

        def __init__(self, node_id, title="", *, anything=None, maybe: int | None = None):
            super().__init__(node_id, title)

        async def compute(self):
            return None

    check_node_params(Loose("1"), {"anything": "x", "maybe": None})
    with pytest.raises(ConfigError, match="must be an object"):
        check_node_params(Loose("1"), ["x"])


def test_node_params_remembers_the_last_lookup():
    nodes = NodeParams({"1": {}, "2": {}})
    assert nodes["2"] == {} and nodes.last == "2"
    assert json.dumps(nodes) == '{"1": {}, "2": {}}'
