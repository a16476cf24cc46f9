"""`load_workflow`: any workflow source → validated `Graph` + diagnostics. Never raises on a bad workflow.

Stages: strict JSON (parse.py) → format detection and reading (formats.py, ui_graph.py) → size limits →
subgraph flattening (subgraphs.py) → bypass/mute/virtual nodes (modes.py) → validation (validate.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnne.catalog.registry import Catalog
from dnne.errors import Diagnostic, DnneError, cap_per_code
from dnne.workflow import formats
from dnne.workflow.model import Graph
from dnne.workflow.modes import left_out, resolve
from dnne.workflow.parse import DEFAULT_MAX_BYTES, check_tree, parse_json, read_source
from dnne.workflow.subgraphs import Budget, TooLarge, check_expansion, collect_definitions, flatten
from dnne.workflow.ui_graph import Level
from dnne.workflow.validate import validate

MAX_NODES = 2_000
MAX_LINKS = 10_000
MAX_WIDGET_BYTES = 10_000_000  # widget values (as JSON) of the expanded workflow: what config.json would hold
MAX_PER_CODE = 50  # diagnostics listed per code; the rest are counted in one "… and N more" line


@dataclass
class LoadResult:
    graph: Graph | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        return self.graph is not None


def load_workflow(
    source: str | bytes | Path | dict,
    catalog: Catalog | None = None,
    *,
    strict: bool = False,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_nodes: int = MAX_NODES,
    max_links: int = MAX_LINKS,
    max_widget_bytes: int = MAX_WIDGET_BYTES,
) -> LoadResult:
    """Load, flatten and validate a workflow. `source`: a path, bytes, JSON text, or an already-parsed dict.

    `graph` is None when any error (or, with `strict`, any warning) was found. Raises `DnneError` only for usage
    problems (e.g. a path that cannot be read).
    """
    if isinstance(source, (dict, list)):
        doc: Any = source
        problem = check_tree(doc)
        if problem is not None:
            return LoadResult(None, [problem])
    else:
        try:
            data = read_source(source)
        except OSError as exc:
            raise DnneError(f"cannot read the workflow file: {exc}") from exc
        if name is None and isinstance(source, (str, Path)) and not str(source).lstrip().startswith(("{", "[")):
            name = Path(source).stem
        doc, problems = parse_json(data, max_bytes=max_bytes)
        if problems:
            return LoadResult(None, problems)
    if catalog is None:
        from dnne.catalog.registry import default_catalog

        catalog = default_catalog()
    budget = Budget(max_nodes, max_links, max_widget_bytes)
    level, source_format = _read(doc, budget, _definition_inputs(catalog))
    if source_format is None or any(d.code in ("E_TOO_LARGE", "E_EXPANSION_BUDGET") for d in level.diagnostics):
        return LoadResult(None, _sorted(level.diagnostics))
    dropped = left_out(level)
    level = resolve(level)
    graph, found = validate(level, catalog, name=name or "workflow", source_format=source_format)
    graph.left_out = dropped
    diagnostics = _sorted([*level.diagnostics, *found])
    failed = any(d.is_error for d in diagnostics) or (strict and diagnostics)
    return LoadResult(None if failed else graph, diagnostics)


def _definition_inputs(catalog: Catalog):
    def inputs_of(node_type: str) -> list[tuple[str, str | None]] | None:
        key = catalog.canonical(node_type)
        spec = catalog.get(key) if key else None
        if spec is None:
            return None
        return [(i.name, i.name if i.is_widget else None) for i in spec.inputs]

    return inputs_of


def _read(doc: Any, budget: Budget, definition_inputs) -> tuple[Level, str | None]:
    max_nodes, max_links = budget.nodes, budget.links
    source_format, part, path = formats.detect(doc)
    if source_format is None:
        level = Level()
        level.add("E_FORMAT", "this is not a workflow dnne can read", path="$", hint=formats.format_hint(doc))
        return level, None
    is_ui = isinstance(part, dict) and isinstance(part.get("nodes"), list)
    count = len(part["nodes"]) if is_ui else len(part) if isinstance(part, dict) else 0
    links = part.get("links") if is_ui else None
    n_links = len(links) if isinstance(links, list) else 0
    if count > max_nodes or n_links > max_links:
        level = Level()
        level.add(
            "E_TOO_LARGE",
            f"the workflow has {count:,} nodes and {n_links:,} links; the limits are {max_nodes:,} and {max_links:,}",
            expected=f"at most {max_nodes:,} nodes and {max_links:,} links",
            got=f"{count:,} nodes, {n_links:,} links",
            hint="raise the limits (max_nodes / max_links) if this workflow is trusted",
        )
        return level, source_format
    if not is_ui:
        return formats.read_api(part, path), source_format
    level = formats.read_ui(part, path, definition_inputs)
    definitions = collect_definitions(part, path)
    if definitions:
        # Refuse a subgraph bomb from the definition tree alone, before a single inner node is built.
        found = check_expansion(part, definitions, budget)
        if found is not None:
            return _budget_error(*found), source_format
        try:
            level = flatten(level, definitions, budget=budget, definition_inputs=definition_inputs)
        except TooLarge as exc:
            return _budget_error(exc.subgraph, exc.over), source_format
    return level, source_format


def _budget_error(subgraph: str, over: list[tuple[str, str, int]]) -> Level:
    level = Level()
    level.add(
        "E_EXPANSION_BUDGET",
        "flattening the subgraphs would give "
        + ", ".join(f"{got} {what} (limit {limit:,})" for what, got, limit in over)
        + f"; the biggest part is {subgraph}",
        expected=", ".join(f"at most {limit:,} {what}" for what, _, limit in over),
        got=", ".join(f"{got} {what}" for what, got, _ in over),
        hint="nested subgraphs multiply: a subgraph used N times inside one used M times is N×M copies; "
        "raise the limits (max_nodes / max_links / max_widget_bytes) only if this workflow is trusted",
    )
    return level


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = list(dict.fromkeys(diagnostics))
    return cap_per_code(sorted(unique, key=Diagnostic.sort_key), MAX_PER_CODE)
