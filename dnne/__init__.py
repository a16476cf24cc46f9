"""dnne: turn visual node graphs into standalone, fast Python programs."""

__version__ = "0.1.0"
