import os

import pytest

from keras_vae.files import atomic_path, write_json


def test_result_has_the_permissions_of_an_ordinary_file(tmp_path):
    (tmp_path / "plain").write_text("x")
    write_json(tmp_path / "atomic.json", {"a": 1})
    assert (
        os.stat(tmp_path / "atomic.json").st_mode == os.stat(tmp_path / "plain").st_mode
    )


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        assert temporary.endswith(".keras")
        with open(temporary, "w") as file:
            file.write("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.keras"]
