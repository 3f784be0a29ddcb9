"""Writes small IDX files for tests."""

import gzip
import os

import numpy as np

_CODES = {np.dtype("uint8"): 0x08, np.dtype(">i4"): 0x0C}


def idx_bytes(array):
    array = np.asarray(array)
    header = bytes([0, 0, _CODES[array.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path, array):
    data = idx_bytes(array)
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as file:
        file.write(data)


def write_idx_folder(folder, n_train=30, n_test=10, shape=(8, 8), seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(
            0, 256, (n_train,) + shape, dtype="uint8"
        ),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype="uint8"),
        "t10k-images-idx3-ubyte.gz": rng.integers(
            0, 256, (n_test,) + shape, dtype="uint8"
        ),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype="uint8"),
    }
    for name, array in arrays.items():
        write_idx(os.path.join(folder, name), array)
    return arrays
