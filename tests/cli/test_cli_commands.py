"""The `dnne` command line: exit codes 0/1/2, --json shapes, --check, run, --version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from testpack import chain_workflow, pack_catalog, ui_workflow
from typer.testing import CliRunner

import dnne
from dnne.catalog import registry
from dnne.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setattr(registry, "_DEFAULT", pack_catalog())
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def _write(tmp_path: Path, doc: dict, name: str = "flow.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _no_sink() -> dict:
    return ui_workflow([(1, "TestCounter", "N", [3, "c"]), (2, "TestScale", "S", [2.0])], [(1, "value", 2, "x")])


def _bad_widget() -> dict:
    doc = chain_workflow()
    doc["nodes"][0]["widgets_values"] = ["3", "c"]
    return doc


def test_export_ok(cli, tmp_path):
    wf = _write(tmp_path, chain_workflow())
    result = cli("export", wf, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "runner.py").is_file()
    result = cli("export", wf, "-o", tmp_path / "out", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["ok"] is True and "runner.py" in data["files"]
    assert data["out_dir"] == str(tmp_path / "out") and data["diagnostics"] == []


def test_export_default_dir_from_file_name(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wf = _write(tmp_path, chain_workflow(), "My Flow.json")
    assert cli("export", wf).exit_code == 0
    assert (tmp_path / "exports" / "My_Flow" / "runner.py").is_file()


def test_export_invalid_workflow_exits_1(cli, tmp_path):
    result = cli("export", _write(tmp_path, _bad_widget()), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "E_WIDGET_TYPE" in result.output and not (tmp_path / "out").exists()
    result = cli("export", _write(tmp_path, _no_sink()), "-o", tmp_path / "out", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["ok"] is False
    assert data["error"]["type"] == "prompt_no_outputs"
    assert "E_NO_SINK" in {d["code"] for d in data["diagnostics"]}


def test_warnings_pass_unless_strict(cli, tmp_path):
    doc = ui_workflow(
        [(6, "TestBundle", "B", []), (1, "TestCounter", "N", [1, "c"]), (3, "TestCollect", "C", [1, "x"])],
        [(1, "value", 3, "x"), (6, "total", 3, "extra")],
    )
    wf = _write(tmp_path, doc)
    result = cli("export", wf, "-o", tmp_path / "out")
    assert result.exit_code == 0 and "W_EMPTY_BUNDLE" in result.output
    strict = cli("export", wf, "-o", tmp_path / "strict", "--strict")
    assert strict.exit_code == 1 and "(--strict: warnings count as errors)" in strict.output
    assert not (tmp_path / "strict").exists()
    validated = cli("validate", wf, "--strict")
    assert validated.exit_code == 1 and "(--strict: warnings count as errors)" in validated.output
    assert "--strict" not in cli("validate", wf).output


def test_export_check(cli, tmp_path):
    wf = _write(tmp_path, chain_workflow())
    out = tmp_path / "out"
    assert cli("export", wf, "-o", out, "--check").exit_code == 1  # nothing there yet
    assert not out.exists()
    assert cli("export", wf, "-o", out).exit_code == 0
    result = cli("export", wf, "-o", out, "--check")
    assert result.exit_code == 0, result.output
    config = out / "config.json"
    config.write_text(config.read_text().replace('"factor": 0.5', '"factor": 0.25'))
    result = cli("export", wf, "-o", out, "--check", "--json")  # the edit would be kept: the new config goes beside it
    assert result.exit_code == 1 and json.loads(result.stdout)["stale"] == ["config.json.new"]
    result = cli("export", wf, "-o", out, "--check", "--json", "--force")
    assert result.exit_code == 1 and json.loads(result.stdout)["stale"] == ["config.json"]


def test_validate(cli, tmp_path):
    result = cli("validate", _write(tmp_path, chain_workflow()))
    assert result.exit_code == 0 and "valid" in result.output
    result = cli("validate", _write(tmp_path, _bad_widget()), "--json")
    assert result.exit_code == 1
    [entry] = json.loads(result.stdout)
    assert entry["file"] == str(tmp_path / "flow.json") and entry["status"] == "invalid"
    assert entry["ok"] is False and entry["error"]["type"] == "prompt_outputs_failed_validation"
    errors = entry["node_errors"]["1"]["errors"]
    assert entry["node_errors"]["1"]["class_type"] == "TestCounter"
    assert errors[0]["type"] == "exception_during_inner_validation"  # as the editor server sends it
    assert errors[0]["extra_info"]["code"] == "E_WIDGET_TYPE"
    assert errors[0]["extra_info"]["input_name"] == "count"
    result = cli("validate", _write(tmp_path, _no_sink()), "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["error"]["type"] == "prompt_no_outputs"


def _warning_workflow() -> dict:
    """Valid, with warnings only (W_EMPTY_BUNDLE, W_UNREACHABLE)."""
    return ui_workflow(
        [(6, "TestBundle", "B", []), (1, "TestCounter", "N", [1, "c"]), (3, "TestCollect", "C", [1, "x"])],
        [(1, "value", 3, "x")],
    )


def test_validate_several_files_reports_each_and_exits_with_the_worst(cli, tmp_path):
    ok = _write(tmp_path, chain_workflow(), "ok.json")
    warned = _write(tmp_path, _warning_workflow(), "warned.json")
    bad = _write(tmp_path, _bad_widget(), "bad.json")
    missing = tmp_path / "missing.json"
    alone = cli("validate", warned)
    assert alone.exit_code == 0 and "W_EMPTY_BUNDLE" in alone.output and "workflow is valid" in alone.output

    result = cli("validate", ok, warned)
    assert result.exit_code == 0, result.output
    assert "2 files: 1 ok, 1 with warnings, 0 invalid" in result.output

    result = cli("validate", ok, bad, warned)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    # each file's diagnostics come under its own name, in the order given
    at = {
        name: next(i for i, line in enumerate(lines) if line == str(tmp_path / name))
        for name in ("ok.json", "bad.json", "warned.json")
    }
    assert at["ok.json"] < at["bad.json"] < at["warned.json"]
    assert any("E_WIDGET_TYPE" in line for line in lines[at["bad.json"] : at["warned.json"]])
    assert not any("E_WIDGET_TYPE" in line for line in lines[at["warned.json"] :])
    assert "3 files: 1 ok, 1 with warnings, 1 invalid" in result.output

    result = cli("validate", ok, missing, bad)
    assert result.exit_code == 2, result.output  # a missing file is a usage error, the worst outcome
    assert "does not exist" in result.output and "E_WIDGET_TYPE" in result.output  # the others are still checked
    assert "3 files: 1 ok, 0 with warnings, 1 invalid, 1 unreadable or failed" in result.output

    result = cli("validate", ok, warned, bad, missing, "--json")
    assert result.exit_code == 2
    entries = json.loads(result.stdout)
    assert [(e["file"], e["status"], e["ok"]) for e in entries] == [
        (str(ok), "ok", True),
        (str(warned), "warnings", True),
        (str(bad), "invalid", False),
        (str(missing), "error", False),
    ]
    assert entries[1]["diagnostics"] and entries[1]["node_errors"] == {}
    assert entries[2]["node_errors"]["1"]["errors"][0]["extra_info"]["code"] == "E_WIDGET_TYPE"
    assert "does not exist" in entries[3]["error"]["message"]

    result = cli("validate", ok, warned, "--strict", "--json")
    assert result.exit_code == 1 and [e["status"] for e in json.loads(result.stdout)] == ["ok", "invalid"]


def test_nodes(cli):
    result = cli("nodes", "--json")
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert sorted(info) == ["TestBundle", "TestCollect", "TestCounter", "TestLayer", "TestScale"]
    assert info["TestCounter"]["output_name"] == ["value"]
    result = cli("nodes")
    assert result.exit_code == 0 and "TestScale" in result.stdout


def test_nodes_piped_is_not_cut_at_80_columns():
    from dnne.catalog.registry import default_catalog

    proc = _dnne("nodes", cwd=REPO)  # stdout is a pipe, as in `dnne nodes | grep …`
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.splitlines()
    widest = max(len(row) for row in rows)
    assert widest > 80, f"widest row {widest} columns"
    for node_type in default_catalog():  # every row whole, on one line: nothing wrapped or elided
        inputs = ", ".join(i.name for i in node_type.inputs)
        assert any(node_type.key in row and inputs in row for row in rows), (node_type.key, inputs)
    print(f"dnne nodes | …: {len(rows)} lines, widest {widest} columns")


def test_export_help_shows_the_default_out_dir(cli):
    result = cli("export", "--help")
    assert result.exit_code == 0
    assert "exports/<workflow name>" in " ".join(result.stdout.split())  # not eaten as rich markup


def test_usage_errors_exit_2(cli, tmp_path):
    assert cli("export", tmp_path / "missing.json").exit_code == 2
    assert cli("export").exit_code == 2
    assert cli("bogus").exit_code == 2
    assert cli("export", _write(tmp_path, chain_workflow()), "--no-such-flag").exit_code == 2


def test_internal_errors_exit_2_with_traceback_only_when_verbose(cli, tmp_path, monkeypatch):
    import dnne.codegen.export as export

    def broken(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(export, "build_export", broken)
    wf = _write(tmp_path, chain_workflow())
    result = cli("export", wf, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "kaboom" in result.output and "Traceback" not in result.output
    assert "--verbose" in result.output
    result = cli("--verbose", "export", wf, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" in result.output


def test_refusing_to_overwrite_exits_2(cli, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.txt").write_text("x")
    result = cli("export", _write(tmp_path, chain_workflow()), "-o", tmp_path / "mine")
    assert result.exit_code == 2 and "not a dnne export" in result.output


def test_run_forwards_exit_codes(cli, tmp_path):
    wf = _write(tmp_path, chain_workflow())
    result = cli("run", wf, "-o", tmp_path / "out", "--", "--quiet", "--run-dir", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "runner.py").is_file()
    result = cli("run", wf, "--", "--no-such-runner-flag")
    assert result.exit_code == 2


def _dnne(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "dnne", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_python_m_dnne(tmp_path):
    proc = _dnne("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"dnne {dnne.__version__}"
    proc = _dnne("export", "nope.json", cwd=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_terminal_escapes_in_workflow_text_are_neutralised(cli, tmp_path):
    doc = _bad_widget()
    doc["nodes"][0]["title"] = "evil\x1b[2J\u202etitle [bold]x[/bold]"
    result = cli("export", _write(tmp_path, doc), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "E_WIDGET_TYPE" in result.output


def test_export_header_names_the_command_and_check_ignores_how_paths_were_typed(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, chain_workflow(), "my flow.json")
    assert cli("export", "./my flow.json", "-o", "out", "--strict").exit_code == 0
    runner = (tmp_path / "out" / "runner.py").read_text()
    assert "# Regenerate: dnne export 'my flow.json' -o out --strict\n" in runner
    assert cli("export", tmp_path / "my flow.json").exit_code == 0  # absolute path under the current folder
    assert (
        "# Regenerate: dnne export 'my flow.json' -o exports/my_flow\n"
        in (tmp_path / "exports" / "my_flow" / "runner.py").read_text()
    )
    result = cli("export", tmp_path / "my flow.json", "-o", tmp_path / "out", "--check")
    assert result.exit_code == 0, result.output
