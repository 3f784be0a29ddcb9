"""Serving artifacts: each is loaded by a process that imports neither keras nor
keras_vae (TensorFlow alone for the SavedModel, onnxruntime alone for ONNX) and
must give keras_vae's own outputs."""

import errno
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae import export
from keras_vae.datasets import Preprocessing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = (8, 8, 1)

# Reads the artifacts of every model folder in argv[1] with one runtime and
# writes its outputs beside them. Neither keras nor keras_vae may be imported.
SERVE = textwrap.dedent(
    """
    import glob, os, sys
    import numpy as np

    runtime, folder = sys.argv[1], sys.argv[2]
    if runtime == "onnx":
        import onnxruntime
        assert "tensorflow" not in sys.modules
    else:
        import tensorflow as tf
    for case in sorted(glob.glob(os.path.join(folder, "*", "inputs.npz"))):
        inputs, case = dict(np.load(case)), os.path.dirname(case)
        labels = {"labels": inputs["labels"]} if "labels" in inputs else {}
        if runtime == "onnx":
            encode, decode = (
                onnxruntime.InferenceSession(os.path.join(case, "onnx", f"{name}.onnx"))
                for name in ("encode", "decode")
            )
            feed = {"pixels": inputs["x"], **labels}
            mean, sigma = encode.run(["mean", "sigma"], feed)
            (pixels,) = decode.run(["pixels"], {"z": inputs["z"], **labels})
            np.savez(
                os.path.join(case, "onnx.npz"), mean=mean, sigma=sigma, pixels=pixels
            )
            continue
        served = tf.saved_model.load(os.path.join(case, "saved_model"))
        labels = {key: tf.constant(value) for key, value in labels.items()}
        encoded = served.encode(pixels=tf.constant(inputs["x"]), **labels)
        decoded = served.decode(z=tf.constant(inputs["z"]), **labels)
        if labels:
            drawn = served.sample(labels=labels["labels"])["pixels"]
        else:
            drawn = served.sample(n=tf.constant(5))["pixels"]
        np.savez(
            os.path.join(case, "saved_model.npz"),
            mean=encoded["mean"].numpy(),
            sigma=encoded["sigma"].numpy(),
            pixels=decoded["pixels"].numpy(),
            samples=drawn.numpy(),
        )
    assert "keras" not in sys.modules or runtime != "onnx"
    assert "keras_vae" not in sys.modules
    print("served")
    """
)


def _serve(runtime, folder):
    result = subprocess.run(
        [sys.executable, "-c", SERVE, runtime, str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _models():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(32,) + SHAPE).astype("float32")
    labels = (np.arange(32) % 3).astype("int32")
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp(SHAPE, 2, hidden_units=(16,)),
        preprocessing=Preprocessing.fit("standardize", x),
        sample_temperature=0,  # the served samples: z = 0, decoded
    )
    bernoulli = keras_vae.models.VAE(
        *keras_vae.architectures.mlp(SHAPE, 3, hidden_units=(16,)),
        likelihood="bernoulli",
        parameterization="log_var",
        preprocessing=Preprocessing("binarize"),
        prior=keras_vae.priors.VampPrior(4, seed=0),
    )
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional(SHAPE, 2, 3, filters=(4, 8)),
        num_classes=3,
        preprocessing=Preprocessing.fit("standardize", x),
        class_names=["a", "b", "c"],
        prior=keras_vae.priors.ClassPrior(3),
    )
    binary = (x > 0.5).astype("float32")
    for model, data, targets in [
        (vae, x, ()),
        (bernoulli, binary, ()),
        (cvae, x, (labels,)),
    ]:
        model.compile(optimizer="adam")
        inputs = model.preprocessing.transform(data)
        model.fit(inputs, *targets, epochs=1, batch_size=16, verbose=0)
    # The served sample draws from the latent mixture when there is one (one
    # component at z = 30 here), at the model's temperature.
    bernoulli.latent_mixture = keras_vae.LatentMixture(
        [[0.0, 1.0]], [[[0.0] * 3, [30.0] * 3]], [[np.eye(3)] * 2], conditional=False
    )
    bernoulli.sample_temperature = 1e-4
    # Else from the learned prior: every class at z = 40.
    cvae.prior.means.assign(np.full((3, 2), 40.0, "float32"))
    cvae.prior.raw_scales.assign(np.full((3, 2), -30.0, "float32"))
    return {
        "vae": (vae, x, None),
        "bernoulli": (bernoulli, binary, None),
        "cvae": (cvae, x, labels),
    }


def test_saved_model_and_onnx_give_keras_vae_outputs(tmp_path):
    expected = {}
    models = _models()
    for name, (model, x, labels) in models.items():
        case = tmp_path / name
        case.mkdir()
        z = np.random.default_rng(1).normal(size=(len(x),) + model.latent_shape)
        z = z.astype("float32")
        inputs = {"x": x, "z": z}
        if labels is not None:
            inputs["labels"] = labels
        np.savez(case / "inputs.npz", **inputs)
        mean, sigma = model.encode(x, labels)
        expected[name] = {
            "mean": mean,
            "sigma": sigma,
            "pixels": model.decode(z, labels),
        }
        for format in export.FORMATS:
            description = export.export(model, case / format, format)
            with open(case / format / export.DESCRIPTION_FILE) as file:
                assert json.load(file) == description
            assert description["data_shape"] == list(SHAPE)
        assert (case / "onnx" / "encode.onnx").is_file()
        assert "sample" not in description["endpoints"]  # ONNX: deterministic
    assert description["class_names"] == ["a", "b", "c"]
    _serve("saved_model", tmp_path)
    _serve("onnx", tmp_path)
    for name, outputs in expected.items():
        for runtime in export.FORMATS:
            served = np.load(tmp_path / name / f"{runtime}.npz")
            for key, value in outputs.items():
                np.testing.assert_allclose(served[key], value, atol=1e-5, err_msg=key)
        samples = np.load(tmp_path / name / "saved_model.npz")["samples"]
        assert samples.shape[1:] == SHAPE
        model, _, labels = models[name]
        where = {"vae": (5, 2, 0.0), "bernoulli": (5, 3, 30.0), "cvae": (32, 2, 40.0)}
        count, size, value = where[name]
        codes = np.full((count, size), value, "float32")
        np.testing.assert_allclose(samples, model.decode(codes, labels), atol=1e-4)
        assert samples.min() >= 0 and samples.max() <= 1 and samples.std() > 0
        # Pixels in, pixels out: the preprocessing is inside the artifact.
        assert outputs["pixels"].min() >= 0 and outputs["pixels"].max() <= 1


def test_another_backends_model_is_exported_by_a_tensorflow_subprocess(tmp_path):
    """On JAX or PyTorch, `export` saves the model and runs this path: a
    TensorFlow process exports the file; its errors come back as one line."""
    vae = _tiny_vae()
    path = tmp_path / "model.keras"
    vae.save(path)
    x = np.random.default_rng(0).uniform(size=(4,) + SHAPE).astype("float32")
    description = export._export_in_tensorflow(
        str(path), str(tmp_path / "served"), "saved_model", False
    )
    assert set(description["endpoints"]) == {"encode", "decode", "sample"}
    import tensorflow as tf

    served = tf.saved_model.load(str(tmp_path / "served"))
    mean = served.encode(tf.constant(x))["mean"].numpy()
    np.testing.assert_allclose(mean, vae.encode(x)[0], atol=1e-5)
    with pytest.raises(ValueError, match="already exists"):
        export._export_in_tensorflow(
            str(path), str(tmp_path / "served"), "saved_model", False
        )
    # An OSError's subclasses come back as themselves (a KeyError before).
    (tmp_path / "a_file").write_text("")
    with pytest.raises(NotADirectoryError) as raised:
        export._export_in_tensorflow(
            str(path), str(tmp_path / "a_file" / "served"), "saved_model", False
        )
    assert raised.value.filename == str(tmp_path / "a_file" / "served")
    assert str(raised.value).startswith("[Errno 20] Not a directory")


def _tiny_vae():
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp(SHAPE, 2, (16,)))
    vae.build((None,) + SHAPE)
    return vae


def test_export_refuses_what_it_cannot_do_and_leaves_nothing(tmp_path):
    vae = _tiny_vae()
    with pytest.raises(ValueError, match="Unknown export format 'tflite'"):
        export.export(vae, tmp_path / "a", format="tflite")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="already exists"):
        export.export(vae, tmp_path / "a")
    assert (tmp_path / "a" / "mine.txt").read_text() == "keep"
    with pytest.raises(ValueError, match="not built"):
        export.export(
            keras_vae.models.VAE(*keras_vae.architectures.mlp(SHAPE, 2)), tmp_path / "b"
        )
    with pytest.raises(ValueError, match="Expected a keras_vae VAE"):
        export.export(keras.Sequential([keras.layers.Dense(1)]), tmp_path / "b")
    (tmp_path / "damaged.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="does not load as a Keras model"):
        export.export(str(tmp_path / "damaged.keras"), tmp_path / "b")
    assert sorted(os.listdir(tmp_path)) == ["a", "damaged.keras"]


def test_a_failed_overwrite_keeps_the_old_export(tmp_path, monkeypatch):
    vae = _tiny_vae()
    export.export(vae, tmp_path / "served")
    before = sorted(os.listdir(tmp_path / "served"))

    def full_disk(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    # The disk fills up as the last file of the new export is written.
    monkeypatch.setattr(export.files, "write_json", full_disk)
    with pytest.raises(OSError) as raised:
        export.export(vae, tmp_path / "served", overwrite=True)
    assert raised.value.errno == errno.ENOSPC
    assert sorted(os.listdir(tmp_path)) == ["served"]
    assert sorted(os.listdir(tmp_path / "served")) == before
    monkeypatch.undo()
    description = export.export(vae, tmp_path / "served", overwrite=True)
    assert set(description["endpoints"]) == {"encode", "decode", "sample"}
    assert sorted(os.listdir(tmp_path)) == ["served"]


def test_model_export_writes_the_served_endpoints(tmp_path, capsys):
    # Keras' `Model.export` refused a trained VAE ("has never called").
    vae = _tiny_vae()
    x = np.random.default_rng(0).uniform(size=(32,) + SHAPE).astype("float32")
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=1, batch_size=16, verbose=0)
    case = tmp_path / "vae"
    description = vae.export(case / "saved_model")
    assert sorted(description["endpoints"]) == ["decode", "encode", "sample"]
    assert capsys.readouterr().out.startswith("Saved the decode, encode, sample")
    z = np.random.default_rng(1).normal(size=(4, 2)).astype("float32")
    np.savez(case / "inputs.npz", x=x[:4], z=z)
    _serve("tensorflow", tmp_path)
    served = np.load(case / "saved_model.npz")
    np.testing.assert_allclose(served["mean"], vae.encode(x[:4])[0], atol=1e-5)
    np.testing.assert_allclose(served["pixels"], vae.decode(z), atol=1e-5)
    vae.export(case / "onnx", format="onnx", verbose=False)
    assert sorted(os.listdir(case / "onnx")) == [
        "decode.onnx",
        "encode.onnx",
        "keras_vae_export.json",
    ]
    for arguments, match in (
        ({"format": "openvino"}, "writes format 'tf_saved_model' or 'onnx'"),
        (
            {"input_signature": [keras.InputSpec(shape=(None, 8, 8, 1))]},
            "no `input_signature`",
        ),
        ({"compress": True}, r"takes `overwrite`.*\['compress'\]"),
    ):
        with pytest.raises(ValueError, match=match):
            vae.export(tmp_path / "other", **arguments)
    with pytest.raises(ValueError, match="already exists"):
        vae.export(case / "onnx", format="onnx")
    vae.export(case / "onnx", format="onnx", verbose=False, overwrite=True)
    assert not (tmp_path / "other").exists()
