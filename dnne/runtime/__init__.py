"""dnne queue runtime: copied verbatim into every export as `dnne_runtime` (relative imports only).

from dnne_runtime import GraphRunner, Input, QueueNode, SensorNode, RunContext, NodeError, run_main
"""

from .cli import exit_process, run_main
from .context import RunContext
from .declare import Bool, Choice, Float, In, Int, Out, Param, Text
from .durations import parse_duration
from .node import STOP, Input, NodeError, QueueNode, SensorNode, UsageError
from .runner import DEFAULT_MAXSIZE, EXIT_CODES, GraphRunner
from .version import __version__

__all__ = [
    "Bool",
    "Choice",
    "Float",
    "In",
    "Int",
    "Out",
    "Param",
    "Text",
    "DEFAULT_MAXSIZE",
    "EXIT_CODES",
    "STOP",
    "GraphRunner",
    "Input",
    "NodeError",
    "QueueNode",
    "RunContext",
    "SensorNode",
    "UsageError",
    "__version__",
    "exit_process",
    "parse_duration",
    "run_main",
]
