"""Utility nodes: constants, PrintValue and TensorVisualizer."""

from dnne.catalog.utils import float_constant, int_constant, print_value, string_constant, tensor_visualizer

NODE_TYPES = (
    float_constant.NODE_TYPE,
    int_constant.NODE_TYPE,
    string_constant.NODE_TYPE,
    print_value.NODE_TYPE,
    tensor_visualizer.NODE_TYPE,
)
