"""Reader for the IDX files of MNIST and Fashion-MNIST (optionally gzipped)."""

import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4"}


def read_idx(path):
    """Reads one IDX file into a NumPy array.

    Args:
        path: String, path of an IDX file, gzipped if it ends in `.gz`.

    Returns:
        NumPy array with the file's shape and dtype.

    Raises:
        ValueError: if the file is not a well-formed IDX file: wrong magic
            number, unknown type code, or fewer bytes than its header promises.
            The message names the file.

    Example:

    ```python
    import os

    from keras_vae.datasets import read_idx

    folder = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
    if os.path.isdir(folder):
        labels = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
        print(labels.shape, labels.dtype)  # (10000,) uint8
    ```
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            content = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"Cannot read IDX file {path}: {error}") from None
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: it does not start with the magic number "
            "0x0000. Expected MNIST-style files such as train-images-idx3-ubyte.gz."
        )
    type_code, ndim = content[2], content[3]
    if type_code not in _DTYPES or ndim == 0:
        raise ValueError(
            f"{path} has an unknown IDX type code 0x{type_code:02x} or no dimensions."
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(f"{path} is truncated: its header is incomplete.")
    shape = tuple(
        int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    dtype = np.dtype(_DTYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(content) - header != expected:
        raise ValueError(
            f"{path} is truncated or padded: its header promises shape {shape} "
            f"({expected} bytes of data) but it holds {len(content) - header} bytes."
        )
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
