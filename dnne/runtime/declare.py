"""Declarations of a node type's ports, widgets and parameters, written once on its class (issue 10).

    class Scale(QueueNode):
        x = In("TENSOR")
        factor = Float(1.0, min=0.0, max=10.0)
        y = Out("TENSOR")

        async def compute(self, x):
            return {"y": x * self.factor}

`QueueNode.__init_subclass__` derives INPUTS, OUTPUTS, SEEDS, PRIMED, WIDGETS and PARAMS from these (base classes'
declarations first, in MRO order) and checks `compute`'s signature. Vendored with the runtime: no dnne import.
"""

from __future__ import annotations

import enum
import math
from typing import Any

__all__ = ["Bool", "Choice", "Declaration", "Float", "In", "Input", "Int", "Out", "Param", "Text", "Widget"]

_MISSING: Any = object()


class Input(str, enum.Enum):
    """How a node consumes an input: the one firing-mode enum of runtime and catalog."""

    CONSUME = "consume"
    STICKY = "sticky"
    TRIGGER = "trigger"
    ANY = "any"


def range_problem(value: Any, low: Any, high: Any) -> str | None:
    """None when the number `value` is within [low, high] (None: unbounded), else the range it should be in."""
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if low is not None and high is not None:
        return f"{low!r} ≤ value ≤ {high!r}"
    return f"value ≥ {low!r}" if low is not None else f"value ≤ {high!r}"


def choice_problem(value: Any, options: Any) -> str | None:
    """None when `value` is one of `options`, else the choices."""
    return None if value in options else "one of " + ", ".join(repr(o) for o in options)


class Declaration:
    """Base of every declaration; `attr` is the class attribute it is bound to, `name` the port/field name."""

    attr: str = ""
    name: str = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr
        if not self.name:
            self.name = attr


class In(Declaration):
    """An input port fed by a link. `name` overrides the port name (when an output has the attribute's name)."""

    def __init__(
        self,
        type: str,
        mode: Input = Input.CONSUME,
        *,
        optional: bool = False,
        primed: bool = False,
        aliases: tuple[str, ...] = (),
        tooltip: str = "",
        name: str = "",
    ):
        self.type, self.mode, self.optional, self.primed = type, Input(mode), optional, primed
        self.aliases, self.tooltip, self.name = tuple(aliases), tooltip, name


class Out(Declaration):
    """An output port. `seed=True`: one token is sent there at start (starts a loop)."""

    def __init__(self, type: str, *, tooltip: str = "", seed: bool = False, name: str = ""):
        self.type, self.tooltip, self.seed, self.name = type, tooltip, seed, name


class Widget(Declaration):
    """An editor widget; its value is a constructor parameter, read as `self.<attr>`."""

    kind = ""

    def __init__(self, default: Any, *, optional: bool = False, tooltip: str = ""):
        self.default, self.optional, self.tooltip = default, optional, tooltip

    def cast(self, value: Any) -> Any:
        return value

    def problem(self, value: Any) -> str | None:
        """None when `value` fits, else what was expected."""
        return None


class _Number(Widget):
    def __init__(self, default: Any, *, min: Any = None, max: Any = None, step: Any = None, **kw: Any):
        super().__init__(default, **kw)
        self.min, self.max, self.step = min, max, step


class Int(_Number):
    kind = "INT"

    def __init__(self, default: int, *, control_after_generate: bool = False, **kw: Any):
        super().__init__(default, **kw)
        self.control_after_generate = control_after_generate

    def cast(self, value: Any) -> Any:
        return int(value)

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer"
        return range_problem(value, self.min, self.max)


class Float(_Number):
    kind = "FLOAT"

    def cast(self, value: Any) -> Any:
        return float(value)

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return "a finite number"
        return range_problem(value, self.min, self.max)


class Bool(Widget):
    kind = "BOOLEAN"

    def cast(self, value: Any) -> Any:
        return bool(value)

    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else "true or false"


class Text(Widget):
    kind = "STRING"

    def __init__(self, default: str = "", *, multiline: bool = False, **kw: Any):
        super().__init__(default, **kw)
        self.multiline = multiline

    def cast(self, value: Any) -> Any:
        return str(value)

    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, str) else "a string"


class Choice(Widget):
    kind = "COMBO"

    def __init__(self, options: tuple[str, ...], *, default: Any = _MISSING, **kw: Any):
        options = tuple(options)
        super().__init__(options[0] if default is _MISSING and options else default, **kw)
        self.options = options

    def cast(self, value: Any) -> Any:
        return str(value)

    def problem(self, value: Any) -> str | None:
        return choice_problem(value, self.options)


class Param(Declaration):
    """A constructor parameter made by the exporter, not an editor widget (`code=True`: a code argument)."""

    def __init__(self, type: type | tuple[type, ...], *, default: Any = _MISSING, code: bool = False):
        self.type, self.default, self.code = type, default, code

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def problem(self, value: Any) -> str | None:
        if value is None and self.default is None:
            return None
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, bool) and bool not in types and int in types:
            return f"a {' or '.join(t.__name__ for t in types)}"
        return None if isinstance(value, types) else f"a {' or '.join(t.__name__ for t in types)}"
