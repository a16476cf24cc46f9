"""Data sets and batches for exported programs: IDX/MNIST readers, tabular loaders, index-based batching.

`mnist` is not imported here so that `python -m dnne_runtime.data.mnist` runs cleanly; `load_mnist` imports it.
"""

from .batches import BatchIterator, random_seed
from .datasets import Dataset, Split, label_column_of, load_csv, load_mnist, load_npz, make_synthetic
from .errors import DataError, DataNotFoundError, IdxFormatError
from .idx import read_idx, write_idx

__all__ = [
    "BatchIterator",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "IdxFormatError",
    "Split",
    "label_column_of",
    "load_csv",
    "load_mnist",
    "load_npz",
    "make_synthetic",
    "random_seed",
    "read_idx",
    "write_idx",
]
