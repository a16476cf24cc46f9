"""The node-declaration API (dnne.runtime.declare): derivations, the constructor check, run-time config checks."""

from __future__ import annotations

import json

import pytest

from dnne.runtime import Choice, Float, In, Input, Int, Out, Param, QueueNode, run_main
from dnne.runtime.config_check import ConfigError

pytestmark = pytest.mark.timeout(60)


class Optim(QueueNode):
    """Optim: a declared node for the tests."""

    params = In("PARAMS", Input.STICKY)
    learning_rate = Float(0.001, min=1e-7, max=1.0)
    kind = Choice(("adam", "sgd"), default="adam")
    trigger = In("SYNC", Input.TRIGGER, optional=True, primed=True)
    steps = Int(3, min=1, optional=True)
    layers = Param(list, default=None)
    optimizer = Out("OPTIMIZER")
    params_out = Out("PARAMS", name="params", seed=True)

    async def compute(self, params, trigger):
        return {"optimizer": (self.kind, self.learning_rate)}


def test_derived_attributes():
    assert Optim.INPUTS == {"params": Input.STICKY, "trigger": Input.TRIGGER}
    assert Optim.OUTPUTS == ("optimizer", "params")
    assert Optim.SEEDS == ("params",) and Optim.PRIMED == ("trigger",)
    assert list(Optim.WIDGETS) == ["learning_rate", "kind", "steps"] and list(Optim.PARAMS) == ["layers"]


def test_constructor_casts_and_defaults():
    node = Optim("7", "adam", learning_rate=1, kind="sgd")
    assert node.learning_rate == 1.0 and isinstance(node.learning_rate, float)
    assert node.steps == 3 and node.layers is None and node.initial_outputs() == {"params": True}


def test_every_problem_in_one_error():
    with pytest.raises(ConfigError) as err:
        Optim("7", "adam", learning_rate=3.0, kind="rmsprop", stepz=2)
    text = str(err.value)
    assert text.startswith("node 7 (Optim 'adam'): ")
    assert "field 'learning_rate': expected 1e-07 ≤ value ≤ 1.0, got 3.0" in text
    assert "field 'kind': expected one of 'adam', 'sgd', got 'rmsprop'" in text
    assert "unknown field 'stepz'; did you mean 'steps'?" in text


def test_missing_and_wrong_type():
    with pytest.raises(ConfigError, match="field 'learning_rate' is missing"):
        Optim("7", kind="adam")
    with pytest.raises(ConfigError, match="field 'layers': expected a list, got 5"):
        Optim("7", learning_rate=0.1, kind="adam", layers=5)


def test_compute_signature_is_checked_when_the_class_is_made():
    with pytest.raises(TypeError, match=r"compute\(\) parameters \['y'\] differ from the inputs \['x'\]"):

        class Bad(QueueNode):
            x = In("TENSOR")

            async def compute(self, y):
                return None


def test_required_after_optional_is_refused():
    with pytest.raises(TypeError, match="required input 'b' comes after an optional one"):

        class Bad(QueueNode):
            a = In("TENSOR", optional=True)
            b = Int(1)

            async def compute(self, a):
                return None


def build(runner, config):
    runner.add(Optim("7", "adam", **config["nodes"]["7"]))


def test_config_json_out_of_range_exits_2_naming_node_and_field(tmp_path, capsys):
    """Issue 15: a hand-edited config.json value is re-checked at run time against the declared range."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"nodes": {"7": {"learning_rate": -5, "kind": "adam"}}}))
    code = run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "r"), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "node 7 (Optim 'adam')" in err and "field 'learning_rate': expected 1e-07 ≤ value ≤ 1.0, got -5" in err
    assert "Traceback" not in err
