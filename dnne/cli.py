"""The `dnne` command line: export, validate, nodes, examples, run (and serve when the editor extra is present).

Exit codes: 0 ok (warnings allowed), 1 invalid workflow or stale export (--check), 2 usage or internal error.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import dnne
from dnne.errors import Diagnostic, DiagnosticError, DnneError

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2
PIPED_WIDTH = 100_000  # a table printed to a pipe takes its natural width (rich would assume 80 columns)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn node-graph workflows (ComfyUI JSON) into standalone Python programs.",
)
_state = {"verbose": False}


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n")


def _terminal_safe(text: str) -> str:
    """Workflow text for the terminal: control characters (ESC, bidi overrides, …) shown as escapes, markup escaped."""
    return escape("".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text))


def _print_diagnostics(diagnostics: list[Diagnostic], strict: bool = False) -> None:
    console = _err()
    for diag in sorted(diagnostics, key=Diagnostic.sort_key):
        colour = "red" if diag.is_error else "yellow"
        head, _, rest = _terminal_safe(diag.format()).partition("\n")
        console.print(f"[{colour}]{head}[/{colour}]" + ("\n" + rest if rest else ""))
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if diagnostics:
        why = " (--strict: warnings count as errors)" if strict and warnings and not errors else ""
        console.print(f"{errors} error(s), {warnings} warning(s){why}")


def _fail(exc: BaseException, as_json: bool, strict: bool = False) -> typer.Exit:
    """Report an error and return the Exit to raise (1 for an invalid workflow, 2 otherwise)."""
    code, report = _failure_report(exc, strict)
    if as_json:
        _print_json(report)
        if _state["verbose"] and not isinstance(exc, DiagnosticError):
            _err().print(escape("".join(traceback.format_exception(exc))), end="")
    else:
        _print_failure(exc, strict)
    return typer.Exit(code)


def _failure_report(exc: BaseException, strict: bool = False) -> tuple[int, dict[str, Any]]:
    """The exit code and the JSON report of an error: 1 for an invalid workflow, 2 otherwise."""
    from dnne.codegen.validate import node_errors_report

    if isinstance(exc, DiagnosticError):
        return EXIT_INVALID, node_errors_report(exc.diagnostics, strict=strict)
    internal = not isinstance(exc, DnneError)
    kind = "internal_error" if internal else "error"
    return EXIT_ERROR, {"ok": False, "error": {"type": kind, "message": _error_message(exc)}}


def _error_message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, DnneError) else f"{type(exc).__name__}: {exc}"


def _print_failure(exc: BaseException, strict: bool = False) -> None:
    if isinstance(exc, DiagnosticError):
        _print_diagnostics(exc.diagnostics, strict)
        return
    internal = not isinstance(exc, DnneError)
    console = _err()
    if _state["verbose"]:
        console.print(escape("".join(traceback.format_exception(exc))), end="")
    console.print(("[red]internal error:[/red] " if internal else "[red]error:[/red] ") + escape(_error_message(exc)))
    if internal and not _state["verbose"]:
        console.print("Run with --verbose to see the full traceback.")


def _workflow_path(path: Path) -> Path:
    if not path.is_file():
        raise typer.BadParameter(f"workflow file {str(path)!r} does not exist or is not a file", param_hint="WORKFLOW")
    return path


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"dnne {dnne.__version__}\n")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Full tracebacks on internal errors."),
) -> None:
    _state["verbose"] = verbose


DEPLOY_PANEL = "Deploy targets (dnne export --list-targets)"


@app.command("export")
def export_cmd(
    workflow: Optional[Path] = typer.Argument(None, help="Workflow JSON file (UI or API format).", show_default=False),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default: exports/<workflow name>)."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the existing export is stale."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace a hand-edited config.json too (the edited one is kept as config.json.edited).",
    ),
    targets: str = typer.Option(
        "python",
        "--target",
        help="What to write, comma-separated: python (the program, always written), docker, kubernetes.",
        rich_help_panel=DEPLOY_PANEL,
    ),
    list_targets: bool = typer.Option(
        False,
        "--list-targets",
        help="List the targets (what each writes, needs) and exit.",
        rich_help_panel=DEPLOY_PANEL,
    ),
    base_image: Optional[str] = typer.Option(
        None, "--base-image", help="docker: default BASE_IMAGE (python:3.11-slim).", rich_help_panel=DEPLOY_PANEL
    ),
    image: Optional[str] = typer.Option(
        None, "--image", help="kubernetes: image the pods run (NAME:latest).", rich_help_panel=DEPLOY_PANEL
    ),
    namespace: Optional[str] = typer.Option(
        None, "--namespace", help="kubernetes: metadata.namespace (none).", rich_help_panel=DEPLOY_PANEL
    ),
    cpu: Optional[str] = typer.Option(None, "--cpu", help="kubernetes: CPU per pod (2).", rich_help_panel=DEPLOY_PANEL),
    memory: Optional[str] = typer.Option(
        None, "--memory", help="kubernetes: memory per pod (4Gi).", rich_help_panel=DEPLOY_PANEL
    ),
    gpus: Optional[int] = typer.Option(
        None, "--gpus", help="kubernetes: nvidia.com/gpu per pod (0).", rich_help_panel=DEPLOY_PANEL
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", help="kubernetes: PyTorchJob pods, 1 Master + N-1 Workers (2).", rich_help_panel=DEPLOY_PANEL
    ),
    nproc_per_node: Optional[int] = typer.Option(
        None, "--nproc-per-node", help="kubernetes: torchrun processes per pod (1).", rich_help_panel=DEPLOY_PANEL
    ),
    restart_policy: Optional[str] = typer.Option(
        None, "--restart-policy", help="kubernetes: OnFailure or Never (OnFailure).", rich_help_panel=DEPLOY_PANEL
    ),
    backoff_limit: Optional[int] = typer.Option(
        None, "--backoff-limit", help="kubernetes: retries before the job fails (3).", rich_help_panel=DEPLOY_PANEL
    ),
    data_volume: Optional[str] = typer.Option(
        None,
        "--data-volume",
        help="kubernetes: /data as pvc:CLAIM, host:/path or empty (pvc:NAME-data).",
        rich_help_panel=DEPLOY_PANEL,
    ),
    runs_volume: Optional[str] = typer.Option(
        None, "--runs-volume", help="kubernetes: /workspace/runs (pvc:NAME-runs).", rich_help_panel=DEPLOY_PANEL
    ),
    checkpoints_volume: Optional[str] = typer.Option(
        None,
        "--checkpoints-volume",
        help="kubernetes: /checkpoints (pvc:NAME-checkpoints).",
        rich_help_panel=DEPLOY_PANEL,
    ),
    run_args: Optional[str] = typer.Option(
        None,
        "--run-args",
        help="kubernetes: extra runner flags in the pods, one shell-quoted string, e.g. '--epochs 3'.",
        rich_help_panel=DEPLOY_PANEL,
    ),
) -> None:
    """Export WORKFLOW to a folder with runner.py, config.json, requirements.txt, README.md and dnne_runtime/.

    Re-exporting into an existing export replaces only the files dnne generates (listed in .dnne-export.json);
    runs/, checkpoints and your own files stay. A config.json edited by hand since the last export is kept and
    the new one is written as config.json.new (warning W_CONFIG_KEPT); --force replaces it instead."""
    from dnne.codegen.export import ExportCommand, build_workflow, export_workflow
    from dnne.codegen.writer import default_out_dir, plan_tree
    from dnne.targets import build_with_targets, export_command, export_with_targets

    if list_targets:
        _print_targets(as_json)
        raise typer.Exit(EXIT_OK)
    if workflow is None:
        raise typer.BadParameter("missing the WORKFLOW file to export", param_hint="WORKFLOW")
    path = _workflow_path(workflow)
    command = ExportCommand(workflow, out, strict)
    deploy = {
        "base_image": base_image,
        "image": image,
        "namespace": namespace,
        "cpu": cpu,
        "memory": memory,
        "gpus": gpus,
        "workers": workers,
        "nproc_per_node": nproc_per_node,
        "restart_policy": restart_policy,
        "backoff_limit": backoff_limit,
        "data_volume": data_volume,
        "runs_volume": runs_volume,
        "checkpoints_volume": checkpoints_volume,
        "run_args": run_args,
    }
    try:
        chosen, options = _target_choice(targets, deploy)
        if options is not None:  # runner.py's `# Regenerate:` line then names the targets and their options too
            command = export_command(workflow, out, strict, chosen, options)
        if check:
            if options is None:
                result = build_workflow(path, strict=strict, command=command)
            else:
                result = build_with_targets(path, targets=chosen, options=options, strict=strict, command=command)
            target = out if out is not None else default_out_dir(result.workflow_name)
            stale = _stale_files(plan_tree(result.contents, target, force=force), target)
            if as_json:
                _print_json({"ok": not stale, "out_dir": str(target), "stale": stale})
            else:
                _print_diagnostics(result.diagnostics)
                if stale:
                    _err().print(
                        f"[red]{escape(str(target))} is stale[/red] ({len(stale)} file(s) differ: "
                        + escape(", ".join(stale[:10]))
                        + (" …" if len(stale) > 10 else "")
                        + f"); run `dnne export {escape(str(workflow))} -o {escape(str(target))}`"
                    )
                else:
                    _err().print(f"{escape(str(target))} is up to date")
            raise typer.Exit(EXIT_INVALID if stale else EXIT_OK)
        if options is None:
            result = export_workflow(path, out, strict=strict, command=command, force=force)
        else:
            result = export_with_targets(
                path, out, targets=chosen, options=options, strict=strict, command=command, force=force
            )
    except typer.Exit:
        raise
    except Exception as exc:
        raise _fail(exc, as_json, strict) from None
    if as_json:
        _print_json(
            {
                "ok": True,
                "out_dir": str(result.out_dir),
                "files": result.files,
                "graph_hash": result.graph_hash,
                "diagnostics": [d.to_json() for d in result.diagnostics],
            }
        )
    else:
        _print_diagnostics(result.diagnostics)
        _err().print(f"exported to {escape(str(result.out_dir))} ({len(result.files)} files)")


def _target_choice(names: str, deploy: dict[str, Any]) -> tuple[tuple[Any, ...], Any]:
    """The targets named by --target and their options; options None: only the program (today's export)."""
    import shlex

    from dnne.targets import DeployOptions, TargetError, select_targets

    chosen = select_targets(names)
    given = {key: value for key, value in deploy.items() if value is not None}
    if "run_args" in given:
        try:
            given["program_args"] = tuple(shlex.split(given.pop("run_args")))
        except ValueError as exc:
            raise TargetError(f"--run-args: {exc} (one shell-quoted string, e.g. '--epochs 3')") from None
    if len(chosen) == 1 and not given:
        return chosen, None
    if len(chosen) == 1:
        raise TargetError(
            f"--{next(iter(given)).replace('_', '-')} is an option of the docker/kubernetes targets; "
            "add --target docker or --target kubernetes"
        )
    return chosen, DeployOptions(**given).checked()


def _print_targets(as_json: bool) -> None:
    from dnne.targets import TARGETS

    rows = [{"name": t.name, "writes": t.writes, "needs": t.needs} for t in TARGETS]
    if as_json:
        _print_json({"targets": rows})
        return
    table = Table("target", "writes", "needs", box=None, pad_edge=False)
    for row in rows:
        table.add_row(escape(row["name"]), escape(row["writes"]), escape(row["needs"]))
    width = None if sys.stdout.isatty() else PIPED_WIDTH
    Console(highlight=False, width=width).print(table)


def _stale_files(plan: Any, target: Path) -> list[str]:
    """Generated files an export would change or remove; runner.py's `# Regenerate:` line is ignored (it depends
    on how the paths were typed). Files dnne did not generate (runs, checkpoints, yours) are never stale."""

    def current(path: str) -> bytes | None:
        try:
            return (target / path).read_bytes()
        except OSError:
            return None

    def same(path: str, expected: bytes) -> bool:
        actual = current(path)
        if path == "runner.py" and actual is not None:
            return _without_regenerate_line(expected) == _without_regenerate_line(actual)
        return expected == actual

    changed = [p for p, data in plan.files.items() if not same(p, data)]
    return sorted(changed + list(plan.remove))


def _without_regenerate_line(runner: bytes) -> list[bytes]:
    return [line for line in runner.splitlines() if not line.startswith(b"# Regenerate: ")]


# Per-file outcome of `dnne validate`, from best to worst; the command exits with the worst file's code.
VALIDATE_STATUSES = {"ok": EXIT_OK, "warnings": EXIT_OK, "invalid": EXIT_INVALID, "error": EXIT_ERROR}


@app.command("validate")
def validate_cmd(
    workflows: list[Path] = typer.Argument(..., help="Workflow JSON file(s).", metavar="WORKFLOW..."),
    as_json: bool = typer.Option(
        False, "--json", help="A JSON list on stdout: per file its name, status and ComfyUI node_errors report."
    ),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check each WORKFLOW without writing anything; exit with the worst file's code.

    0 all valid (warnings allowed), 1 one cannot be exported, 2 a file is missing or unreadable, or an internal
    error. With several files each one's diagnostics come under its name, then a summary line."""
    several = len(workflows) > 1
    entries = []
    for workflow in workflows:
        if several and not as_json:
            _err().print(f"[bold]{_terminal_safe(str(workflow))}[/bold]")
        entries.append({"file": str(workflow)} | _validate_one(workflow, strict, as_json, several))
    if as_json:
        _print_json(entries)
    elif several:
        counts = {status: sum(e["status"] == status for e in entries) for status in VALIDATE_STATUSES}
        parts = [f"{counts['ok']} ok", f"{counts['warnings']} with warnings", f"{counts['invalid']} invalid"]
        parts += [f"{counts['error']} unreadable or failed"] if counts["error"] else []
        _err().print(f"{len(entries)} files: " + ", ".join(parts))
    raise typer.Exit(max(VALIDATE_STATUSES[e["status"]] for e in entries))


def _validate_one(workflow: Path, strict: bool, as_json: bool, several: bool) -> dict[str, Any]:
    """Validate one file and print its diagnostics (unless `as_json`); returns its status and JSON report."""
    from dnne.codegen.validate import is_failure, node_errors_report, validate_workflow

    if not workflow.is_file():
        message = f"workflow file {str(workflow)!r} does not exist or is not a file"
        if not as_json:
            _err().print(f"[red]error:[/red] {_terminal_safe(message)}")
        return {"status": "error", "ok": False, "error": {"type": "error", "message": message}}
    try:
        diagnostics = validate_workflow(workflow, strict=strict)
    except Exception as exc:
        code, report = _failure_report(exc, strict)
        if not as_json:
            _print_failure(exc, strict)
        return {"status": "invalid" if code == EXIT_INVALID else "error"} | report
    failed = is_failure(diagnostics, strict)
    status = "invalid" if failed else ("warnings" if diagnostics else "ok")
    if not as_json:
        _print_diagnostics(diagnostics, strict and failed)
        if not failed:
            _err().print("valid" if several else "workflow is valid")
    return {"status": status} | node_errors_report(diagnostics, strict=strict)


@app.command("nodes")
def nodes_cmd(as_json: bool = typer.Option(False, "--json", help="The /api/object_info document on stdout.")) -> None:
    """List the node types dnne knows."""
    from dnne.catalog.registry import default_catalog

    try:
        catalog = default_catalog()
    except Exception as exc:
        raise _fail(exc, as_json) from None
    if as_json:
        _print_json(catalog.object_info())
        return
    table = Table("type", "display name", "category", "inputs", "outputs")
    table.columns[0].no_wrap = True
    for node_type in catalog:
        table.add_row(
            escape(node_type.key),
            escape(node_type.display_name),
            escape(node_type.category),
            escape(", ".join(i.name for i in node_type.inputs)),
            escape(", ".join(o.name for o in node_type.outputs)),
        )
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or redirected: no screen to fit, so no row is cut or wrapped at 80 columns
        console = Console(highlight=False, width=PIPED_WIDTH)
    console.print(table)


def bundled_examples() -> dict[str, bytes]:
    """The example workflows shipped inside the package (`dnne/examples/*.json`), by file name."""
    folder = importlib.resources.files("dnne") / "examples"
    if not folder.is_dir():
        return {}
    return {e.name: e.read_bytes() for e in sorted(folder.iterdir(), key=lambda e: e.name) if e.name.endswith(".json")}


@app.command("examples")
def examples_cmd(
    directory: Path = typer.Argument(Path("dnne-examples"), help="Where to copy them (created if needed)."),
    force: bool = typer.Option(False, "--force", help="Overwrite example files that were changed there."),
) -> None:
    """Copy the bundled example workflows into DIRECTORY (default ./dnne-examples) and list what was written.

    A file already there with other content is never overwritten without --force (nothing is written then)."""
    examples = bundled_examples()
    if not examples:
        _err().print("[red]error:[/red] this dnne installation has no bundled examples (dnne/examples is missing)")
        raise typer.Exit(EXIT_ERROR)
    if directory.exists() and not directory.is_dir():
        _err().print(f"[red]error:[/red] {_terminal_safe(str(directory))} exists and is not a folder")
        raise typer.Exit(EXIT_ERROR)
    targets = {name: directory / name for name in examples}
    unchanged = [n for n, t in targets.items() if t.is_file() and t.read_bytes() == examples[n]]
    differ = [n for n, t in targets.items() if t.exists() and n not in unchanged]
    if differ and not force:
        _err().print(
            f"[red]error:[/red] {len(differ)} file(s) in {_terminal_safe(str(directory))} differ from the bundled "
            f"examples and would be overwritten: {_terminal_safe(', '.join(differ))}; nothing was written "
            "(rerun with --force to overwrite them, or choose another folder)"
        )
        raise typer.Exit(EXIT_ERROR)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, target in targets.items():
            if name not in unchanged:
                target.write_bytes(examples[name])
    except OSError as exc:
        raise _fail(DnneError(f"could not write the examples into {directory}: {exc}"), False) from None
    for name, target in targets.items():  # stdout: the paths, one per line, for scripts
        sys.stdout.write(str(target) + ("  (already there, unchanged)" if name in unchanged else "") + "\n")
    written = len(targets) - len(unchanged)
    _err().print(f"{written} example(s) written to {_terminal_safe(str(directory))}, {len(unchanged)} unchanged")


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run_cmd(
    workflow: Path = typer.Argument(..., help="Workflow JSON file."),
    runner_args: Optional[list[str]] = typer.Argument(None, help="Arguments for runner.py (after --)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Keep the export in this folder."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Export WORKFLOW (to a temp folder unless -o) and run it with this Python: `dnne run wf.json -- --epochs 1`."""
    from dnne.codegen.export import ExportCommand, export_workflow

    path = _workflow_path(workflow)
    tmp = None if out is not None else Path(tempfile.mkdtemp(prefix="dnne-run-"))
    command = ExportCommand(workflow, out, strict) if out is not None else None  # a temp folder is not worth naming
    try:
        try:
            result = export_workflow(path, out if out is not None else tmp / "export", strict=strict, command=command)
        except Exception as exc:
            raise _fail(exc, False, strict) from None
        _print_diagnostics(result.diagnostics)
        code = _run_child([sys.executable, str(Path(result.out_dir) / "runner.py"), *(runner_args or [])])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    raise typer.Exit(code)


FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _run_child(argv: list[str]) -> int:
    """Run the exported program and return its exit code (128 + N if signal N killed it).

    The child gets its own process group, so a Ctrl-C at the terminal reaches it once, through us: SIGINT, SIGTERM
    and SIGHUP sent to dnne are forwarded to it and dnne waits for it to stop (it writes a final checkpoint), then
    exits with its code. If dnne itself dies without a chance to forward (SIGKILL, or dies with its parent), Linux
    sends the child SIGTERM (PR_SET_PDEATHSIG), so the runner never keeps running on its own."""
    parent = os.getpid()

    def in_child() -> None:  # runs in the child between fork and exec
        os.setpgid(0, 0)
        if sys.platform.startswith("linux"):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != parent:  # dnne died before prctl took effect
                os.kill(os.getpid(), signal.SIGTERM)

    child = subprocess.Popen(argv, env=os.environ.copy(), preexec_fn=in_child)

    def forward(signum: int, _frame: Any) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        returncode = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:  # only on an unexpected error while waiting: never leave the child behind
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return 128 - returncode if returncode < 0 else returncode


def _register_serve() -> None:
    if any(c.name == "serve" for c in app.registered_commands):
        return
    if importlib.util.find_spec("dnne.server") is None or importlib.util.find_spec("dnne.server.cli") is None:
        return
    from dnne.server.cli import serve

    app.command("serve")(serve)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `dnne` script and `python -m dnne`."""
    _register_serve()
    app(args=argv, prog_name="dnne")
