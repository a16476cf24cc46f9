"""Assembling runner.py: one class per node type (rendered once), hoisted imports, `build_graph`, `__main__`."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dnne.catalog.spec import NodeType
from dnne.codegen.literals import command_comment, comment_text
from dnne.codegen.names import Namespace
from dnne.codegen.render import RenderError, literal, render, render_node_class, trusted
from dnne.workflow.model import Edge, GraphNode

# Imports the runner template itself makes: (binding → import statement).
RUNNER_IMPORTS = {
    "annotations": "from __future__ import annotations",
    "sys": "import sys",
    "Path": "from pathlib import Path",
    "GraphRunner": "from dnne_runtime import GraphRunner",
    "run_main": "from dnne_runtime import run_main",
}


@dataclass
class RenderedClass:
    node_type: NodeType
    class_name: str
    body: str  # the template's output without its top-level import lines
    imports: dict[str, str] = field(default_factory=dict)  # bound name → normalised single-name import statement
    top_names: set[str] = field(default_factory=set)  # other top-level names the template defines


def render_classes(
    types: Sequence[NodeType], instances: dict[str, list[GraphNode]], ns: Namespace
) -> list[RenderedClass]:
    """Render each type's template once; mint class names that clash with no import or other definition."""
    reserved: set[str] = set()
    for _attempt in range(3):
        trial = Namespace(reserved=set(reserved))
        names = {t.key: trial.mint(t.key) for t in types}
        rendered = [_render_one(t, names[t.key], instances[t.key]) for t in types]
        clashes = _check_bindings(rendered)
        if not clashes:
            for name in names.values():
                ns.reserve(name)
            for item in rendered:
                for binding in item.imports:
                    ns.reserve(binding)
                for name in item.top_names:
                    ns.reserve(name)
            return rendered
        reserved |= clashes
    raise RenderError(f"cannot find class names that do not clash with imported names {sorted(reserved)}")


def _render_one(node_type: NodeType, class_name: str, nodes: list[GraphNode]) -> RenderedClass:
    try:
        type_vars = dict(node_type.type_vars(nodes)) if node_type.type_vars is not None else {}
    except Exception as exc:
        raise RenderError(
            f"type_vars of node type {node_type.key!r} failed ({type(exc).__name__}: {exc}); this is a bug in the node pack"
        ) from exc
    if node_type.node_class is not None:
        source = class_source(node_type.node_class, class_name)
    else:
        source = render_node_class(node_type.template_path, class_name, type_vars)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RenderError(
            f"template {node_type.template_path} (type {node_type.key!r}) renders invalid Python: "
            f"line {exc.lineno}: {exc.msg}"
        ) from exc
    lines = source.splitlines()
    drop: set[int] = set()
    imports: dict[str, str] = {}
    top_names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            drop.update(range(stmt.lineno - 1, stmt.end_lineno or stmt.lineno))
            for binding, statement in _import_bindings(stmt, node_type):
                if imports.get(binding, statement) != statement:
                    raise RenderError(f"template {node_type.template_path} binds {binding!r} twice")
                imports[binding] = statement
        elif isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            top_names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            top_names.update(t.id for t in targets if isinstance(t, ast.Name))
    if class_name not in top_names:
        raise RenderError(f"template {node_type.template_path} does not define the class {{{{ class_name }}}}")
    top_names.discard(class_name)
    body = "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")
    return RenderedClass(node_type, class_name, body, imports, top_names)


def class_source(node_class: type, class_name: str) -> str:
    """A declared node class's source, copied by AST from its pack module: the module-top imports it uses
    (`dnne.runtime` rewritten to `dnne_runtime`), then the class renamed to `class_name`. A free name that is neither
    builtin, imported at the module's top nor the class's own is a registration error."""
    import builtins
    import inspect
    import symtable

    path = inspect.getsourcefile(node_class)
    where = f"node class {node_class.__module__}.{node_class.__qualname__}"
    if path is None:
        raise RenderError(f"{where}: its source file cannot be found")
    with open(path, encoding="utf-8") as handle:
        module_text = handle.read()
    tree = ast.parse(module_text)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == node_class.__name__), None)
    if cls is None:
        raise RenderError(f"{where}: not defined at the top level of {path}")
    imports: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if isinstance(stmt, ast.Import):
                    binding = alias.asname or alias.name.split(".")[0]
                    single: ast.stmt = ast.Import(names=[ast.alias(_vendored(alias.name), alias.asname)])
                else:
                    binding = alias.asname or alias.name
                    single = ast.ImportFrom(module=_vendored(stmt.module or ""), names=[alias], level=stmt.level)
                imports[binding] = ast.unparse(single)
    text = ast.get_source_segment(module_text, cls) or ""
    text = "".join("@" + ast.unparse(d) + "\n" for d in cls.decorator_list) + text
    free = _free_names(symtable.symtable(text, path, "exec"), node_class.__name__)
    used = sorted(free & set(imports))
    unknown = sorted(free - set(imports) - set(dir(builtins)))
    if unknown:
        raise RenderError(
            f"{where} uses {', '.join(repr(n) for n in unknown)}, which is neither builtin, imported at the top of its "
            "module nor its own member (helpers belong in dnne/runtime/<pack>/)"
        )
    renamed = re.sub(rf"^class {re.escape(node_class.__name__)}\b", f"class {class_name}", text, count=1, flags=re.M)
    return "\n".join(imports[name] for name in used) + "\n\n\n" + renamed + "\n"


def _vendored(module: str) -> str:
    return "dnne_runtime" + module[len("dnne.runtime") :] if module.split(".")[:2] == ["dnne", "runtime"] else module


def _free_names(table, class_name: str) -> set[str]:
    """Global names a module-level symbol table (of one class definition) reads."""
    found = set()
    todo = [table]
    while todo:
        current = todo.pop()
        todo.extend(current.get_children())
        for sym in current.get_symbols():
            if not sym.is_referenced():
                continue
            if current.get_type() == "module" or sym.is_global() and not sym.is_declared_global():
                if not (current.get_type() == "module" and sym.is_assigned()):
                    found.add(sym.get_name())
            elif current.get_type() == "class" and not sym.is_assigned() and not sym.is_free():
                found.add(sym.get_name())
    found.discard(class_name)
    return found


def _import_bindings(stmt: ast.Import | ast.ImportFrom, node_type: NodeType) -> list[tuple[str, str]]:
    out = []
    for alias in stmt.names:
        if alias.name == "*":
            raise RenderError(f"template {node_type.template_path}: star imports are not allowed")
        if isinstance(stmt, ast.Import):
            binding = alias.asname or alias.name.split(".")[0]
            single = ast.Import(names=[alias])
        else:
            binding = alias.asname or alias.name
            single = ast.ImportFrom(module=stmt.module, names=[alias], level=stmt.level)
        out.append((binding, ast.unparse(single)))
    return out


def _check_bindings(rendered: list[RenderedClass]) -> set[str]:
    """Names that clash between imports and definitions (to avoid as class names); raises on import conflicts."""
    bound: dict[str, tuple[str, str]] = {name: (stmt, "the runner") for name, stmt in RUNNER_IMPORTS.items()}
    defined: dict[str, str] = {}
    for item in rendered:
        where = f"template {item.node_type.template_path.name} (type {item.node_type.key!r})"
        for binding, statement in item.imports.items():
            previous = bound.get(binding)
            if previous is not None and previous[0] != statement:
                raise RenderError(
                    f"{where} imports {binding!r} as `{statement}` but {previous[1]} uses `{previous[0]}`"
                )
            bound[binding] = (statement, where)
        for name in item.top_names:
            if name in defined:
                raise RenderError(f"{where} and {defined[name]} both define the top-level name {name!r}")
            defined[name] = where
    class_names = {item.class_name for item in rendered}
    clashes = (class_names & set(bound)) | (class_names & set(defined))
    for name in set(defined) & set(bound):
        raise RenderError(f"{defined[name]} defines {name!r}, which is also imported")
    return clashes


@dataclass(frozen=True)
class Instance:
    var: str
    class_name: str
    node: GraphNode
    code_args: dict[str, str] = field(default_factory=dict)  # constructor keyword → minted definition name


@dataclass(frozen=True)
class MintedDefinition:
    name: str
    source: str
    imports: tuple[str, ...]
    node_id: str


def mint_definitions(
    results: Sequence[tuple[str, Any]], ns: Namespace
) -> tuple[list[MintedDefinition], dict[str, dict[str, str]]]:
    """A unique name for each exporter definition (`NodeExport.definitions`, in node order), its source renamed to
    it, and each node's code arguments mapped to the minted names. The source is dnne's own codegen output: the
    one `class <name_hint>(` / `def <name_hint>(` line is renamed."""
    minted: list[MintedDefinition] = []
    code_args: dict[str, dict[str, str]] = {}
    for node_id, result in results:
        names: dict[str, str] = {}
        for definition in result.definitions:
            hint = definition.name_hint
            if not hint.isidentifier():
                raise RenderError(f"node {node_id}: definition name {hint!r} is not an identifier")
            name = ns.mint(hint)
            pattern = re.compile(rf"^(class|def) {re.escape(hint)}\b", re.MULTILINE)
            source, count = pattern.subn(lambda m, new=name: f"{m.group(1)} {new}", definition.source)
            if count != 1:
                raise RenderError(f"node {node_id}: definition {hint!r} must define exactly one class or function")
            for statement in definition.imports:
                tree = ast.parse(statement)
                if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.Import, ast.ImportFrom)):
                    raise RenderError(f"node {node_id}: {statement!r} is not one import statement")
            names[hint] = name
            minted.append(MintedDefinition(name, source.strip("\n"), tuple(definition.imports), node_id))
        args = {}
        for param, hint in result.code_args.items():
            if not param.isidentifier() or hint not in names:
                raise RenderError(f"node {node_id}: code argument {param}={hint!r} names no definition of the node")
            args[param] = names[hint]
        code_args[node_id] = args
    return minted, code_args


def runner_source(
    *,
    version: str,
    workflow_name: str,
    graph_hash: str,
    regenerate: str | None = None,
    rendered: list[RenderedClass],
    instances: list[Instance],
    edges: list[Edge],
    definitions: Sequence[MintedDefinition] = (),
) -> str:
    """The unformatted text of runner.py (`regenerate`: the `dnne export` command that made it, None if unknown)."""
    imports = sorted(
        ({s for item in rendered for s in item.imports.values()} | {s for d in definitions for s in d.imports})
        - set(RUNNER_IMPORTS.values())
    )
    var_of = {inst.node.id: inst.var for inst in instances}
    return render(
        "runner.py.jinja",
        version=trusted(version),
        workflow_comment=trusted(comment_text(workflow_name)),
        regenerate_comment=trusted(command_comment(regenerate)),
        graph_hash=trusted(graph_hash),
        imports=[trusted(s) for s in imports],
        definitions=[{"code": trusted(d.source), "node": trusted(comment_text(d.node_id))} for d in definitions],
        classes=[
            {
                "code": trusted(item.body),
                "type": trusted(comment_text(item.node_type.key)),
                "template": trusted(comment_text(item.node_type.template_path.name)),
            }
            for item in rendered
        ],
        instances=[
            {
                "var": trusted(inst.var),
                "cls": trusted(inst.class_name),
                "id": literal(inst.node.id),
                "title": literal(inst.node.title),
                "code_args": trusted("".join(f"{k}={v}, " for k, v in inst.code_args.items())),
            }
            for inst in instances
        ],
        edges=[
            {
                "src": trusted(var_of[e.src]),
                "out": literal(e.src_output),
                "dst": trusted(var_of[e.dst]),
                "inp": literal(e.dst_input),
            }
            for e in edges
        ],
    )
