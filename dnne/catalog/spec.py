"""What a node type is: its editor definition, how its inputs fire, its exporter and its template.

One `NodeType` per workflow `type` key. From it dnne derives the ComfyUI V1 editor definition
(`/object_info`, `NODE_CLASS_MAPPINGS`), validates workflow nodes, and generates the node's class in runner.py.

Conventions (ComfyUI V1):
* `inputs` are listed in INPUT_TYPES order: all required inputs first, then optional ones. An input whose type is
  INT / FLOAT / STRING / BOOLEAN / COMBO is a *widget* (its value is stored in `widgets_values`, in this order);
  any other type is a *socket* fed by a link.
* `outputs` are listed in slot order.

Runtime firing modes (how the generated node consumes an input; see dnne/runtime):
* CONSUME: one item per firing, FIFO (default for data flowing every step).
* STICKY:  a value that arrives once and is reused for every later firing (datasets, models, optimizers, handles);
           a newer value replaces the old one.
* TRIGGER: a SYNC-style signal, consumed one per firing when connected; never waited on when unconnected.
* ANY:     the node fires once per item arriving on any of its ANY inputs, in arrival order (OR router).
An unconnected optional input is never waited on; the node sees None (or the widget value).

Loops: a cycle in the graph can start only if one of its edges leaves an output declared `seed=True` (the node emits
one token there at start, e.g. TrainingStep.ready) or enters an input declared `primed=True` (holds one token at
start, e.g. IsaacGymStep.trigger), or enters an ANY input of a node that also has an ANY input fed from outside the
cycle (OR router). Any other cycle can only deadlock and is an export-time error.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dnne.workflow.model import Graph, GraphNode

WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
WILDCARD = "*"


class InputMode(str, enum.Enum):
    CONSUME = "consume"
    STICKY = "sticky"
    TRIGGER = "trigger"
    ANY = "any"


@dataclass(frozen=True)
class InputSpec:
    """One entry of INPUT_TYPES. `type` is a socket type (TENSOR, MODEL, SYNC, …) or a widget type."""

    name: str
    type: str
    required: bool = True
    mode: InputMode = InputMode.CONSUME
    default: Any = None
    min: float | int | None = None
    max: float | int | None = None
    step: float | int | None = None
    options: tuple[str, ...] = ()  # COMBO choices
    multiline: bool = False
    tooltip: str = ""
    control_after_generate: bool = False  # frontend stores an extra value after this INT widget
    aliases: tuple[str, ...] = ()  # legacy input names accepted with a warning (e.g. "network_output")
    primed: bool = False  # the runtime puts one token into this input at start when connected (starts a loop)

    @property
    def is_widget(self) -> bool:
        return self.type in WIDGET_TYPES

    @property
    def has_control_widget(self) -> bool:
        """ComfyUI's frontend adds `control_after_generate` after INT inputs flagged so, or named seed/noise_seed."""
        return self.type == "INT" and (self.control_after_generate or self.name in ("seed", "noise_seed"))

    def object_info(self) -> list:
        """The `[TYPE, {options}]` pair of /object_info for this input."""
        if self.type == "COMBO":
            opts: dict[str, Any] = {"default": self.default} if self.default is not None else {}
            if self.tooltip:
                opts["tooltip"] = self.tooltip
            return [list(self.options), opts] if opts else [list(self.options)]
        opts = {}
        if self.is_widget:
            if self.default is not None:
                opts["default"] = self.default
            for key in ("min", "max", "step"):
                value = getattr(self, key)
                if value is not None:
                    opts[key] = value
            if self.multiline:
                opts["multiline"] = True
            if self.control_after_generate:
                opts["control_after_generate"] = True
        if self.tooltip:
            opts["tooltip"] = self.tooltip
        return [self.type, opts] if opts else [self.type]


@dataclass(frozen=True)
class OutputSpec:
    name: str
    type: str
    tooltip: str = ""
    seed: bool = False  # the runtime emits one initial token on this output at start (starts a loop)


@dataclass(frozen=True)
class NodeExport:
    """What an exporter returns for one workflow node.

    params:   JSON-safe keyword arguments of the generated class's constructor; they go to config.json (editable).
    absorbs:  ids of other workflow nodes folded into this one (e.g. the LinearLayer chain of a Network); those
              nodes and every link touching them are dropped from the exported graph.
    """

    params: dict[str, Any] = field(default_factory=dict)
    absorbs: tuple[str, ...] = ()
    definitions: tuple[Definition, ...] = ()
    code_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Definition:
    """Generated code beyond the node classes (e.g. the network as an `nn.Module` subclass), from an exporter.

    source:    Python text built by dnne's own codegen (trusted structure; every workflow value in it rendered by the
               literal emitter), defining one top-level class or function named `name_hint`.
    imports:   the import statements it needs (hoisted and merged with the node classes' imports).
    Codegen mints a unique name for it, places it before the node classes and, for each `code_args` entry
    `{param: name_hint}` of the node, passes `param=<minted name>` to the node's constructor in `build_graph` (a code
    argument, never a config.json value).
    """

    name_hint: str
    source: str
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSource:
    """How to get, offline, the data set a node type reads. Declared once per data node type; every export that
    holds such a node says it in requirements.txt (as comments: pip cannot give `--no-deps` to one line) and in
    README.md ("Data"). All text here is the node pack's own (Markdown), never workflow data.

    name:         the data set, e.g. "MNIST".
    path_widget:  the widget naming where the data is read from; README shows each node's value of it.
    reads:        how that path is used, and how `--data-dir` changes it.
    steps:        the ways to provide the data, best first (one Markdown list item each).
    pip_commands: shell commands that install the data offline (shown in requirements.txt); none if pip has no copy.
    """

    name: str
    path_widget: str
    reads: str
    steps: tuple[str, ...]
    pip_commands: tuple[str, ...] = ()


class ExportContext(Protocol):
    """What an exporter may look at besides its own node: the whole (validated) graph, read-only."""

    graph: Graph

    def warn(self, code: str, message: str, **where: Any) -> None: ...
    def error(self, code: str, message: str, **where: Any) -> None: ...


Exporter = Callable[["GraphNode", ExportContext], NodeExport]


def default_exporter(node: GraphNode, ctx: ExportContext) -> NodeExport:
    """Widget values become constructor parameters, unchanged."""
    return NodeExport(params=dict(node.widgets))


def generic_exporter(node: GraphNode, ctx: ExportContext) -> NodeExport:
    """Every declared widget cast by its declared type (INT→int, FLOAT→float, …), plus the Param defaults."""
    node_class = node.spec.node_class
    params: dict[str, Any] = {}
    for name, decl in node_class.WIDGETS.items():
        params[name] = decl.cast(node.widgets.get(name, decl.default))
    for name, decl in node_class.PARAMS.items():
        if not decl.required and not decl.code:
            params[name] = decl.default
    return NodeExport(params=params)


def _declarations(node_class: type) -> list[Any]:
    from dnne.runtime.declare import Declaration

    found: dict[str, Any] = {}
    for klass in reversed(node_class.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Declaration):
                found[attr] = value
    return list(found.values())


@dataclass(frozen=True)
class NodeType:
    """A node type, declared once: editor definition + firing modes + exporter + template.

    template: path of the Jinja template that renders this type's class in runner.py, relative to `template_dir`
              (the folder of the module that declares the type). The template receives `class_name` (an
              identifier) and `type_vars` (from `type_vars`, trusted values computed by the exporter's module).
    requirements: pip requirement lines the exported program needs for this node (beyond torch and numpy).
    data_source: for a node that reads a data set: how a user gets that data offline (see `DataSource`).
    legacy_types: old type keys that map to this type (loaded with W_LEGACY_TYPE).
    """

    key: str
    display_name: str
    category: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    template: str = ""
    template_dir: Path = Path()
    exporter: Exporter = default_exporter
    description: str = ""
    output_node: bool = False
    is_sink: bool = False  # a terminal node: a graph needs at least one (TrainingStep, EpochTracker, PPOTrainer, …)
    requirements: tuple[str, ...] = ()
    data_source: DataSource | None = None
    legacy_types: tuple[str, ...] = ()
    type_vars: Callable[[Sequence[GraphNode]], Mapping[str, Any]] | None = None
    python_module: str = "custom_nodes.dnne"
    node_class: type | None = None  # a declared class (dnne.runtime.declare): its source is copied into runner.py
    packs: tuple[str, ...] = ()  # runtime packs the class imports from (vendored beside the core, see writer.py)

    @classmethod
    def from_class(
        cls, node_class: type, *, exporter: Exporter | None = None, data_source: DataSource | None = None
    ) -> NodeType:
        """The node type declared by a QueueNode subclass (see dnne/runtime/declare.py): editor definition, ports,
        widgets and seeds derived from its declarations; the generic exporter unless `exporter` is given."""
        from dnne.runtime.declare import In, Out, Widget

        decls = [d for d in _declarations(node_class)]
        inputs = []
        for d in decls:
            if isinstance(d, In):
                inputs.append(
                    InputSpec(
                        d.name,
                        d.type,
                        required=not d.optional,
                        mode=InputMode(d.mode.value),
                        tooltip=d.tooltip,
                        aliases=d.aliases,
                        primed=d.primed,
                    )
                )
            elif isinstance(d, Widget):
                inputs.append(
                    InputSpec(
                        d.name,
                        d.kind,
                        required=not d.optional,
                        default=d.default,
                        min=getattr(d, "min", None),
                        max=getattr(d, "max", None),
                        step=getattr(d, "step", None),
                        options=tuple(getattr(d, "options", ())),
                        multiline=getattr(d, "multiline", False),
                        tooltip=d.tooltip,
                        control_after_generate=getattr(d, "control_after_generate", False),
                    )
                )
        outputs = tuple(OutputSpec(d.name, d.type, tooltip=d.tooltip, seed=d.seed) for d in decls if isinstance(d, Out))
        doc = (node_class.__doc__ or "").strip().split("\n\n")[0]
        description = " ".join(doc.split())
        title = getattr(node_class, "DISPLAY_NAME", node_class.__name__)
        if description.startswith(title + ":"):
            description = description[len(title) + 1 :].strip()
        return cls(
            key=getattr(node_class, "TYPE", node_class.__name__),
            display_name=title,
            category=getattr(node_class, "CATEGORY", "dnne"),
            inputs=tuple(inputs),
            outputs=outputs,
            exporter=exporter or generic_exporter,
            description=description,
            output_node=bool(getattr(node_class, "OUTPUT_NODE", False)),
            is_sink=bool(getattr(node_class, "IS_SINK", False)),
            data_source=data_source,
            legacy_types=tuple(getattr(node_class, "LEGACY_TYPES", ())),
            node_class=node_class,
            packs=tuple(getattr(node_class, "PACKS", ())),
        )

    # -- lookups -------------------------------------------------------------------------------------------
    def input(self, name: str) -> InputSpec | None:
        for spec in self.inputs:
            if spec.name == name or name in spec.aliases:
                return spec
        return None

    def output(self, name: str) -> OutputSpec | None:
        for spec in self.outputs:
            if spec.name == name:
                return spec
        return None

    @property
    def widgets(self) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.is_widget)

    @property
    def sockets(self) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if not i.is_widget)

    @property
    def template_path(self) -> Path:
        return self.template_dir / self.template

    # -- editor definition -------------------------------------------------------------------------------
    def object_info(self) -> dict[str, Any]:
        """This type's entry of ComfyUI's `/api/object_info`."""
        required = {i.name: i.object_info() for i in self.inputs if i.required}
        optional = {i.name: i.object_info() for i in self.inputs if not i.required}
        info: dict[str, Any] = {
            "input": {"required": required} | ({"optional": optional} if optional else {}),
            "input_order": {"required": list(required)} | ({"optional": list(optional)} if optional else {}),
            "output": [o.type for o in self.outputs],
            "output_is_list": [False for _ in self.outputs],
            "output_name": [o.name for o in self.outputs],
            "output_tooltips": [o.tooltip for o in self.outputs],
            "name": self.key,
            "display_name": self.display_name,
            "description": self.description,
            "python_module": self.python_module,
            "category": self.category,
            "output_node": self.output_node,
        }
        return info


def widget(name: str, type: str, default: Any, *, required: bool = True, **opts: Any) -> InputSpec:
    """Shorthand for a widget input."""
    return InputSpec(name=name, type=type, required=required, default=default, **opts)


def combo(name: str, options: Sequence[str], default: str, *, required: bool = True, **opts: Any) -> InputSpec:
    return InputSpec(name=name, type="COMBO", required=required, default=default, options=tuple(options), **opts)


def socket(
    name: str, type: str, *, required: bool = True, mode: InputMode = InputMode.CONSUME, **opts: Any
) -> InputSpec:
    return InputSpec(name=name, type=type, required=required, mode=mode, **opts)


def check_widget_value(spec: InputSpec, value: Any) -> str | None:
    """Return None when `value` is valid for widget `spec`, else a short 'expected …' text."""
    kind = spec.type
    if kind == "BOOLEAN":
        return None if isinstance(value, bool) else "a boolean (true/false)"
    if kind == "INT":
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer"
        if abs(value) > 10**18:
            return "an integer of at most 18 digits"
    elif kind == "FLOAT":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "a number"
        if not math.isfinite(value):
            return "a finite number"
    elif kind == "STRING":
        return None if isinstance(value, str) else "a string"
    elif kind == "COMBO":
        if value not in spec.options:
            return "one of " + ", ".join(repr(o) for o in spec.options[:12]) + (" …" if len(spec.options) > 12 else "")
        return None
    if spec.min is not None and value < spec.min:
        return f"a value ≥ {spec.min}"
    if spec.max is not None and value > spec.max:
        return f"a value ≤ {spec.max}"
    return None


def types_compatible(output_type: str, input_type: str) -> bool:
    """ComfyUI's rule: equal types, or either side is the wildcard `*`; comma-separated unions allowed."""
    if WILDCARD in (output_type, input_type):
        return True
    outs = {t.strip() for t in output_type.split(",")}
    ins = {t.strip() for t in input_type.split(",")}
    return bool(outs & ins)
