"""config.json values are re-checked at run time against its `limits` section (the ranges and choices the export was
checked against): a hand edit out of range is exit 2 naming node, field, expected and got, before any node runs."""

from __future__ import annotations

import json

import pytest

from dnne.runtime import QueueNode, run_main

pytestmark = pytest.mark.timeout(60)


class Optim(QueueNode):
    OUTPUTS = ()
    built = 0

    def __init__(self, node_id, title="adam", *, learning_rate: float = 0.001, kind: str = "adam"):
        super().__init__(node_id, title)
        Optim.built += 1

    async def compute(self):
        return None


def build(runner, config):
    runner.add(Optim("7", **config["nodes"]["7"]))


LIMITS = {"7": {"learning_rate": {"min": 1e-7, "max": 1.0}, "kind": {"choices": ["adam", "sgd"]}}}


def _run(tmp_path, capsys, params, limits=LIMITS):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"nodes": {"7": params}, "limits": limits}))
    code = run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "r"), "-q"])
    return code, capsys.readouterr().err


def test_a_value_out_of_range_names_node_field_range_and_value(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {"learning_rate": -5})
    assert code == 2, err
    assert "node 7 (Optim 'adam')" in err and "field 'learning_rate': expected 1e-07 ≤ value ≤ 1.0, got -5" in err
    assert "Traceback" not in err and "run ended" not in err


def test_every_problem_of_the_node_is_in_the_one_message(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {"learning_rate": 3.0, "kind": "rmsprop"})
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "'learning_rate': expected 1e-07 ≤ value ≤ 1.0, got 3.0" in err
    assert "'kind': expected one of 'adam', 'sgd', got 'rmsprop'" in err


def test_values_within_the_limits_run(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {"learning_rate": 1.0, "kind": "sgd"})
    assert code == 0, err


def test_one_sided_limits_and_a_config_without_limits(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {"learning_rate": -1}, {"7": {"learning_rate": {"min": 0}}})
    assert code == 2 and "expected value ≥ 0, got -1" in err, err
    code, err = _run(tmp_path, capsys, {"learning_rate": -1}, None)  # older exports: no limits, no range check
    assert code == 0, err


def test_a_malformed_limits_section_is_a_usage_error(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {"learning_rate": 0.1}, ["min", 0])
    assert code == 2 and "'limits' must be an object" in err, err
    code, err = _run(tmp_path, capsys, {"learning_rate": 0.1}, {"7": {"learning_rate": 5}})
    assert code == 2 and "'limits' of field 'learning_rate' must be an object" in err, err
