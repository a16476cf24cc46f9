"""Node base classes: `QueueNode` (fires on inputs), `SensorNode` (fires at a fixed rate) and `Input` modes.

A generated node class declares its ports and implements `compute`:

    class Doubler(QueueNode):
        INPUTS = {"x": Input.CONSUME}
        OUTPUTS = ("y",)

        async def compute(self, x):
            return {"y": 2 * x}

Firing rule (see GraphRunner): a node fires when every *connected* CONSUME/TRIGGER input holds an item (one is taken
from each, FIFO) and every *connected* STICKY input has received a value. ANY inputs fire the node once per item,
in arrival order, the other ANY inputs passed as None. Unconnected inputs are passed as None. `compute` returns a dict
of outputs to send; a missing key or a None value is not sent (returning None sends nothing).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from .declare import Declaration, In, Input, Out, Param, Widget

if TYPE_CHECKING:
    from .context import RunContext


class _Stop:
    """The STOP sentinel: a REPEAT source returns it from `compute` when it is exhausted."""

    _instance: _Stop | None = None

    def __new__(cls) -> _Stop:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "QueueNode.STOP"

    def __bool__(self) -> bool:
        return False


STOP = _Stop()
PRIMED_TOKEN = True  # the value a PRIMED input holds at start


class QueueNode:
    """Base class of every runtime node. Subclasses set INPUTS/OUTPUTS and implement `compute`."""

    INPUTS: ClassVar[dict[str, Input]] = {}
    OUTPUTS: ClassVar[tuple[str, ...]] = ()
    REPEAT: ClassVar[bool] = False  # a source (no event input connected) fires repeatedly instead of once
    PRIMED: ClassVar[tuple[str, ...]] = ()  # inputs holding one token (PRIMED_TOKEN) at start when connected
    STOP: ClassVar[Any] = STOP

    SEEDS: ClassVar[tuple[str, ...]] = ()  # outputs that get one token at start (declared `Out(..., seed=True)`)
    WIDGETS: ClassVar[dict[str, Widget]] = {}  # field name → widget declaration
    PARAMS: ClassVar[dict[str, Param]] = {}  # field name → exporter-made parameter declaration
    DECLARED: ClassVar[bool] = False  # ports/widgets come from declarations (dnne.runtime.declare), not INPUTS

    node_id: str
    title: str
    ctx: RunContext

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Declaration] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Declaration):
                    found[attr] = value
        if not found:
            return  # a class that sets INPUTS/OUTPUTS itself (hand-written runners, tests)
        decls = list(found.values())
        ins = [d for d in decls if isinstance(d, In)]
        outs = [d for d in decls if isinstance(d, Out)]
        cls.DECLARED = True
        cls.INPUTS = {d.name: d.mode for d in ins}
        cls.OUTPUTS = tuple(d.name for d in outs)
        cls.SEEDS = tuple(d.name for d in outs if d.seed)
        cls.PRIMED = tuple(d.name for d in ins if d.primed)
        cls.WIDGETS = {d.name: d for d in decls if isinstance(d, Widget)}
        cls.PARAMS = {d.name: d for d in decls if isinstance(d, Param)}
        problems = []
        compute = cls.compute
        if compute is QueueNode.compute:
            problems.append("compute() is not defined")
        elif not inspect.iscoroutinefunction(compute):
            problems.append("compute must be declared `async def compute(self, ...)`")
        else:
            params = list(inspect.signature(compute).parameters.values())[1:]
            names = [p.name for p in params]
            if names != list(cls.INPUTS) or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                problems.append(f"compute() parameters {names} differ from the inputs {list(cls.INPUTS)} (in order)")
        seen_optional = False
        for d in decls:
            if isinstance(d, (In, Widget)):
                if not d.optional and seen_optional:
                    problems.append(f"required input {d.name!r} comes after an optional one (INPUT_TYPES order)")
                seen_optional |= d.optional
            if not d.name.isidentifier():
                problems.append(f"name {d.name!r} is not an identifier")
        if problems:
            raise TypeError(f"node class {cls.__name__}: " + "; ".join(problems))

    def __init__(self, node_id: str, title: str = "", **params: Any):
        self.node_id = str(node_id)
        self.title = title or type(self).__name__
        if not type(self).DECLARED:
            if params:
                raise TypeError(
                    f"{type(self).__name__}.__init__() got an unexpected keyword argument '{next(iter(params))}'"
                )
            return
        from .config_check import check_declared_params

        for attr, value in check_declared_params(self, params).items():
            setattr(self, attr, value)

    async def setup(self) -> None:
        """Called once before any firing (allocate resources). `self.ctx` is set."""

    def initial_outputs(self) -> dict[str, Any] | None:
        """Values emitted once at start, after every node's setup (seeds a loop, e.g. TrainingStep 'ready'); by
        default one token on every declared seed output."""
        return {name: PRIMED_TOKEN for name in self.SEEDS} or None

    async def compute(self, **inputs: Any) -> dict[str, Any] | None:
        """One firing. Returns {output name: value}; QueueNode.STOP ends a REPEAT source."""
        raise NotImplementedError(f"{type(self).__name__}.compute is not implemented")

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Checkpoint state: (flat dict of tensors, JSON-safe metadata). Empty means nothing to save."""
        return {}, {}

    def load_state_dict(self, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
        """Restore what `state_dict` returned. Called after `setup()` when resuming."""

    async def on_stop(self, reason: str) -> None:
        """Called once after the graph stopped (reason: done|timeout|max_steps|sigint|sigterm|error|stall|…), if setup ran."""

    def describe(self) -> str:
        """`<id> (<Class> '<title>')`, the way errors name a node."""
        return f"{self.node_id} ({type(self).__name__} {self.title!r})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} node {self.node_id!r} {self.title!r}>"


class SensorNode(QueueNode):
    """A node that fires at a fixed rate (drift-free schedule), whatever its inputs.

    Sticky inputs are waited on before the first tick; CONSUME/TRIGGER/ANY inputs are polled without waiting (the
    oldest queued item, or None). Ticks that are missed because a firing ran late are skipped and counted.
    """

    def __init__(self, node_id: str, title: str = "", *, rate_hz: float):
        super().__init__(node_id, title)
        if not rate_hz > 0:
            raise ValueError(f"node {node_id}: rate_hz must be > 0, got {rate_hz!r}")
        self.rate_hz = float(rate_hz)
        self.missed_ticks = 0


class UsageError(Exception):
    """A problem with how the program was started (flags, config, data, a missing trained checkpoint), for the user to
    fix: exit 2 with its message only, no traceback (a node may raise it, e.g. in setup)."""


class NodeError(Exception):
    """A node failed. Names the node id, its class, title, the firing count and the state it was in."""

    def __init__(self, node: QueueNode, firing: int, state: str, cause: BaseException):
        self.node_id = node.node_id
        self.node_type = type(node).__name__
        self.title = node.title
        self.firing = firing
        self.state = state
        self.cause = cause
        where = "in setup" if state == "setup" else f"at firing {firing}"
        if state not in ("setup", "computing"):
            where += f" ({state})"
        text = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        super().__init__(f"node {self.node_id} ({self.node_type} {self.title!r}) failed {where}: {text}")
