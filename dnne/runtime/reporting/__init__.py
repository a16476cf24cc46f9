"""Reporting helpers for exported programs: value formatting, pictures (PNG), plots, TensorBoard, run summaries.

Everything optional (matplotlib, tensorboard) is imported lazily; a missing package only disables that output.
"""

from .images import encode_png, save_tensor_image, tensor_grid, write_png
from .summary import key_values, metric_stats, metrics_table, table
from .values import format_value

__all__ = [
    "encode_png",
    "format_value",
    "key_values",
    "metric_stats",
    "metrics_table",
    "save_tensor_image",
    "table",
    "tensor_grid",
    "write_png",
]
