"""The runtime's version (recorded in checkpoints)."""

__version__ = "0.1.0"
