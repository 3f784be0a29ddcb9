import numpy as np
import pytest

from keras_vae.datasets import read_idx
from tests.datasets.idx_files import idx_bytes, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip(tmp_path, name):
    array = np.arange(2 * 3 * 4, dtype="uint8").reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    np.testing.assert_array_equal(read_idx(tmp_path / name), array)


def test_big_endian_integers(tmp_path):
    array = np.array([1, 70000, 3], dtype=">i4")
    write_idx(tmp_path / "labels", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [1, 70000, 3])


def test_wrong_magic_names_the_file(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x1f\x8b\x08\x03" + bytes(20))
    with pytest.raises(ValueError, match=r"bad is not an IDX file.*magic"):
        read_idx(tmp_path / "bad")


def test_truncated_file_names_the_file(tmp_path):
    data = idx_bytes(np.zeros((10, 4, 4), "uint8"))
    (tmp_path / "short").write_bytes(data[:-7])
    with pytest.raises(ValueError, match=r"short is truncated.*\(10, 4, 4\)"):
        read_idx(tmp_path / "short")


def test_incomplete_header(tmp_path):
    (tmp_path / "header").write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(ValueError, match="header is incomplete"):
        read_idx(tmp_path / "header")


def test_broken_gzip_names_the_file(tmp_path):
    (tmp_path / "broken.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="Cannot read IDX file .*broken.gz"):
        read_idx(tmp_path / "broken.gz")
