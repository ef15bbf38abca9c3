"""Data sets for SSNN-BP: MNIST, Fashion-MNIST, EMNIST balanced (idx files), N-MNIST (via tonic) and
a small MNIST subset shipped with the package ('default').

    from lava_ssnnbp.data import load_dataset
    ds = load_dataset("mnist", "test", data_dir="~/data")      # x float32 (10000, 784) in [0, 1]
    ev = load_dataset("nmnist", "test", steps=20)               # x uint8 (10000, 20, 2312) spikes
    own = load_dataset("~/data/mine.npz", "train")              # one's own data (see .own)
"""
from .core import DataError, Dataset
from .registry import DATASETS, DatasetInfo, dataset_info, dataset_name, load_dataset, search_dirs

__all__ = ["DATASETS", "DataError", "Dataset", "DatasetInfo", "dataset_info", "dataset_name", "load_dataset",
           "search_dirs"]
