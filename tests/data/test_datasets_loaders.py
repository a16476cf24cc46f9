import gzip

import numpy as np
import pytest
import torch

from dnne.runtime.data import DataError, Split, load_csv, load_npz, make_synthetic


def test_synthetic_is_deterministic_and_shaped():
    a, b = make_synthetic(64, 16, seed=5), make_synthetic(64, 16, seed=5)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.labels, b.test.labels)
    assert a.train.images.shape == (64, 1, 28, 28) and a.train.images.dtype == torch.float32
    assert a.train.labels.bincount().tolist() == [7, 7, 7, 7, 6, 6, 6, 6, 6, 6]
    assert not torch.equal(make_synthetic(64, 16, seed=6).train.images, a.train.images)
    assert a.input_size == 784 and a.num_classes == 10


def test_dataset_to_moves_once_and_split():
    ds = make_synthetic(8, 4)
    train = ds.train
    assert ds.to("cpu") is ds and ds.train is train  # already there: nothing copied
    assert ds.split(True) is ds.train and ds.split(False) is ds.test
    no_test = make_synthetic(8, 0)
    with pytest.raises(DataError, match="has no test split"):
        no_test.split(False)


def test_split_checks_labels():
    with pytest.raises(DataError, match="3 inputs but 2 labels"):
        Split(torch.zeros(3, 2), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(DataError, match="int64"):
        Split(torch.zeros(2, 2), torch.zeros(2, dtype=torch.int32))


def test_csv_with_header_named_label_and_gzip(tmp_path):
    text = "a,b,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n7,8,versicolor\n"
    path = tmp_path / "iris.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    ds = load_csv(path, label_column="species")
    assert ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.train.labels.tolist() == [0, 2, 0, 1]
    assert ds.train.images.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]] and ds.input_shape == (2,)


def test_csv_numeric_labels_first_column_no_header_and_holdout(tmp_path):
    rows = "\n".join(f"{i % 3},{i},{i * 2}" for i in range(20))
    path = tmp_path / "t.csv"
    path.write_text(rows)
    ds = load_csv(path, label_column=0, test_fraction=0.25, seed=1, normalize=True)
    assert len(ds.train) == 15 and len(ds.test) == 5 and ds.num_classes == 3
    assert abs(ds.train.images.mean().item()) < 1e-5
    again = load_csv(path, label_column=0, test_fraction=0.25, seed=1, normalize=True)
    assert torch.equal(again.test.labels, ds.test.labels)


def test_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y,label\n1,2,0\n1,2\n")
    with pytest.raises(DataError, match="line 3: 2 columns, expected 3"):
        load_csv(path)
    path.write_text("x,label\nfoo,1\n")
    with pytest.raises(DataError, match="feature column must be numeric"):
        load_csv(path)
    with pytest.raises(DataError, match="no column named 'kind'"):
        load_csv(path, label_column="kind")
    with pytest.raises(DataError, match="cannot read CSV"):
        load_csv(tmp_path / "missing.csv")


def test_npz_images_scaled_and_channel_added(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (10, 8, 8), dtype=np.uint8),
        y_train=np.arange(10) % 4,
        x_test=rng.integers(0, 256, (3, 8, 8), dtype=np.uint8),
        y_test=np.array([0, 1, 2]),
    )
    ds = load_npz(path)
    assert ds.train.images.shape == (10, 1, 8, 8) and float(ds.train.images.max()) <= 1.0
    assert ds.test is not None and len(ds.test) == 3 and ds.num_classes == 4
    with pytest.raises(DataError, match="has no array 'features'"):
        load_npz(path, x_key="features")


def test_npz_refuses_pickled_objects(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x_train=np.array([object()], dtype=object), y_train=np.array([0]))
    with pytest.raises((DataError, ValueError)):
        load_npz(path)
