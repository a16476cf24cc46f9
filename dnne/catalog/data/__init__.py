"""Data pack: datasets (MNIST, Fashion-MNIST, CSV, NPZ), BatchSampler and GetBatch."""

from dnne.catalog.data import batch_sampler, csv_dataset, fashion_mnist_dataset, get_batch, mnist_dataset, npz_dataset

NODE_TYPES = (
    mnist_dataset.NODE_TYPE,
    fashion_mnist_dataset.NODE_TYPE,
    csv_dataset.NODE_TYPE,
    npz_dataset.NODE_TYPE,
    batch_sampler.NODE_TYPE,
    get_batch.NODE_TYPE,
)
