"""What the export knows about data before anything runs: the per-sample input shape and class count of a tensor
that comes (through GetBatch and BatchSampler) from a dataset node of a known type."""

from __future__ import annotations

from dnne.workflow.model import Graph

KNOWN_DATASETS: dict[str, tuple[tuple[int, ...], int]] = {
    "MNISTDataset": ((1, 28, 28), 10),
    "FashionMNISTDataset": ((1, 28, 28), 10),
}
# (node type, output) → the input to follow upstream
PASS_THROUGH = {("GetBatch", "images"): "dataloader", ("BatchSampler", "dataloader"): "dataset"}


def source_dataset(graph: Graph, node_id: str, input_name: str) -> str | None:
    """The type key of the dataset node feeding `node_id.input_name`, when the path is known, else None."""
    edge = graph.input_edge(node_id, input_name)
    seen: set[str] = set()
    while edge is not None and edge.src not in seen:
        seen.add(edge.src)
        src = graph.nodes[edge.src]
        if src.type in KNOWN_DATASETS and edge.src_output == "dataset":
            return src.type
        follow = PASS_THROUGH.get((src.type, edge.src_output))
        if follow is None:
            return None
        edge = graph.input_edge(src.id, follow)
    return None


def known_input_shape(graph: Graph, node_id: str, input_name: str) -> tuple[int, ...] | None:
    """Per-sample shape of the tensor arriving at `node_id.input_name`, if it comes from a known dataset."""
    key = source_dataset(graph, node_id, input_name)
    return KNOWN_DATASETS[key][0] if key else None
