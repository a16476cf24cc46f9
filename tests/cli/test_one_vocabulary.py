"""Concepts with one home: the duration text a runner flag accepts is the one a checkpoint trigger accepts, and
every "did you mean" comes from one helper."""

from __future__ import annotations

import pytest

from dnne.runtime.durations import parse_duration
from dnne.runtime.flags import parse_args
from dnne.runtime.ml.triggers import CheckpointTrigger
from dnne.runtime.suggest import close_matches, did_you_mean

ACCEPTED = {"30s": 30, "5m": 300, "1h30m": 5400, "1h 30m": 5400, "90": 90, "1.5": 1.5, " 2M ": 120, "1H": 3600}
REFUSED = ("", "abc", "5x", "0", "0s", "m", "-5", "1h-30m", "5 minutes", "1e3")


@pytest.mark.parametrize("text", sorted(ACCEPTED))
def test_runner_flags_and_checkpoint_triggers_accept_the_same_durations(text):
    assert parse_duration(text) == ACCEPTED[text]
    assert parse_args(["--timeout", text]).timeout == ACCEPTED[text]
    assert parse_args(["--stall-timeout", text]).stall_timeout == ACCEPTED[text]
    assert CheckpointTrigger("time", text).every_s == ACCEPTED[text]


@pytest.mark.parametrize("text", REFUSED)
def test_runner_flags_and_checkpoint_triggers_refuse_the_same_durations(text, capsys):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--timeout", text])
    assert exit_info.value.code == 2 and "invalid duration" in capsys.readouterr().err
    with pytest.raises(ValueError, match="checkpoint_trigger_value: invalid duration"):
        CheckpointTrigger("time", text)


def test_the_export_check_of_a_network_uses_the_same_parser():
    """The Network exporter validates its checkpoint widgets with CheckpointTrigger, i.e. with parse_duration."""
    import inspect

    from dnne.runtime.ml import triggers

    assert triggers.parse_duration is parse_duration
    assert "_DURATION" not in inspect.getsource(triggers)


def test_did_you_mean():
    assert did_you_mean("epocs", ["epochs", "steps"]) == "did you mean 'epochs'?"
    assert did_you_mean("lr", ["learning_rate", "momentum"]) == ""
    assert did_you_mean("Linear", ["LinearLayer", "LinearLayers", "Conv2d"], n=3) == (
        "did you mean 'LinearLayer' or 'LinearLayers'?"
    )
    assert close_matches("x", []) == []


def test_only_the_helper_calls_difflib():
    from pathlib import Path

    dnne = Path(__file__).resolve().parents[2] / "dnne"
    users = sorted(str(p.relative_to(dnne)) for p in dnne.rglob("*.py") if "get_close_matches" in p.read_text())
    assert users == ["runtime/suggest.py"], users
