"""Workflow loading: strict JSON, format detection, subgraphs, modes, widget mapping, validation → Graph."""
