"""A trained model as serving artifacts: a TensorFlow SavedModel or ONNX files.

The endpoints carry the model's preprocessing, so they take and give pixels
in [0, 1] (float32, `(batch,) + data_shape`, any batch size):

- `encode(pixels)` -> `{"mean", "sigma"}`, the posterior's parameters;
- `decode(z)` -> `{"pixels"}`, the likelihood's mean;
- `sample(n)` -> `{"pixels"}`, `n` draws of z as `model.sample` draws them
  (from the model's latent mixture if it has one, else from its learned
  prior or N(0, I), at its `sample_temperature`), decoded
  (SavedModel only: ONNX graphs here are deterministic; draw z with NumPy and
  call `decode`);
- a `ConditionalVAE`'s take the labels (int32, `(batch,)`) as a second input:
  `encode(pixels, labels)`, `decode(z, labels)`, `sample(labels)`.

The graphs are built by TensorFlow whichever backend trained the model: a
`.keras` file moves between backends, so on JAX or PyTorch the model is saved
to a temporary file and exported by a TensorFlow subprocess.
"""

import json
import os
import subprocess
import sys
import tempfile

from keras_vae import files

FORMATS = ("saved_model", "onnx")
ONNX_OPSET = 17
# What the export folder says about itself, for a server that did not train it.
DESCRIPTION_FILE = "keras_vae_export.json"


def export(model, directory, format="saved_model", overwrite=False):
    """Writes a model's `encode`, `decode` (and `sample`) endpoints to `directory`.

    Args:
        model: A built `VAE` or `ConditionalVAE`, or the path of its `.keras`
            file (a run folder's `model.keras`).
        directory: String, the folder to create. It is written beside its
            final place and moved there when complete: a crash leaves no
            half-written folder.
        format: `"saved_model"` (a TensorFlow SavedModel whose
            `tf.saved_model.load(directory)` object has `encode`, `decode` and
            `sample`) or `"onnx"` (`directory/encode.onnx` and
            `directory/decode.onnx`; needs `pip install "keras-vae[onnx]"`).
        overwrite: Boolean, replace `directory` if it exists.

    Returns:
        The dict written to `directory/keras_vae_export.json`: the format,
        the endpoints with their inputs and outputs, the data and latent
        shapes, the class names of a conditional model.

    Raises:
        ValueError: for an unknown format, a model that is not a built
            keras_vae model, or an existing `directory` without `overwrite`.
        ImportError: for ONNX without `tf2onnx` installed.
        OSError: if `directory` cannot be written (nothing is left behind).

    Example:

    ```python
    import tempfile
    import keras_vae

    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
    vae.build((None, 8, 8, 1))
    folder = tempfile.mkdtemp() + "/served"
    print(keras_vae.export.export(vae, folder)["endpoints"]["encode"])
    # {'inputs': {'pixels': [None, 8, 8, 1]}, 'outputs': {'mean': ..., ...}}
    ```
    """
    check_format(format)
    if format == "onnx":
        check_onnx()
    directory = os.fspath(directory)
    check_destination(directory, overwrite)
    import keras

    if keras.backend.backend() == "tensorflow":
        if isinstance(model, (str, os.PathLike)):
            model = load(model)
        check_model(model)
        os.makedirs(os.path.dirname(os.path.abspath(directory)), exist_ok=True)
        with files.atomic_folder(directory, overwrite) as temporary:
            description = _write(model, temporary, format)
        return description
    with tempfile.TemporaryDirectory() as scratch:
        if not isinstance(model, (str, os.PathLike)):
            check_model(model)
            path = os.path.join(scratch, "model.keras")
            model.save(path)
            model = path
        return _export_in_tensorflow(os.fspath(model), directory, format, overwrite)


def check_format(format):
    if format not in FORMATS:
        raise ValueError(
            f"Unknown export format {format!r}. Expected one of {FORMATS}."
        )


def check_onnx():
    import importlib.util

    missing = [
        name for name in ("tf2onnx", "onnx") if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ImportError(
            f"ONNX export needs {' and '.join(missing)}, which is not installed: "
            'pip install "keras-vae[onnx]"'
        )


def check_destination(directory, overwrite):
    if os.path.lexists(directory) and not overwrite:
        raise ValueError(
            f"{directory} already exists. Choose another folder, or pass "
            "`overwrite=True` to replace it."
        )
    if os.path.isfile(directory):
        raise ValueError(
            f"{directory} is a file; an export is a folder. Choose another name."
        )
    # The folder's parent receives it (and, with `overwrite`, loses the old one).
    exists = os.path.lexists(directory)
    files.check_creatable(
        os.path.dirname(os.path.abspath(directory)) if exists else directory
    )


def check_model(model):
    from keras_vae.models import VAE

    if not isinstance(model, VAE):
        raise ValueError(
            "Expected a keras_vae VAE or ConditionalVAE (or the path of its .keras "
            f"file). Received: {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            "The model is not built: train it, or call model.build(input_shape), "
            "before exporting it."
        )


def load(path):
    """The keras_vae model of a `.keras` file; one-line errors."""
    import keras

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such model file.")
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # a damaged or foreign file: say which
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"{path} does not load as a Keras model ({type(error).__name__}: "
            f"{reason[:200]})."
        ) from None


def _export_in_tensorflow(path, directory, format, overwrite):
    """Runs `export` on the model file `path` in a TensorFlow subprocess."""
    environment = dict(os.environ, KERAS_BACKEND="tensorflow")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    code = (
        "import json, sys\n"
        "from keras_vae import export\n"
        "try:\n"
        "    description = export.export(*sys.argv[1:4], sys.argv[4] == '1')\n"
        "except (ValueError, ImportError, OSError) as error:\n"
        # By kind, not class name: a FileNotFoundError is an OSError.
        "    kind = next(k for k in (OSError, ImportError, ValueError)\n"
        "                if isinstance(error, k)).__name__\n"
        "    message = getattr(error, 'strerror', None) or str(error)\n"
        "    print(json.dumps({'error': kind, 'message': message, "
        "'errno': getattr(error, 'errno', None), "
        "'filename': getattr(error, 'filename', None)}))\n"
        "    sys.exit(3)\n"
        "print(json.dumps(description))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code, path, directory, format, "1" if overwrite else ""],
        env=environment,
        capture_output=True,
        text=True,
    )
    last = process.stdout.strip().splitlines()[-1] if process.stdout.strip() else ""
    if process.returncode == 3:
        error = json.loads(last)
        if error["error"] == "OSError":
            raise OSError(error["errno"], error["message"], error["filename"])
        raise {"ValueError": ValueError, "ImportError": ImportError}[error["error"]](
            error["message"]
        )
    if process.returncode != 0:
        tail = process.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(
            f"The TensorFlow export process failed (exit code {process.returncode}): "
            f"{tail[0]}"
        )
    return json.loads(last)


def _write(model, directory, format):
    """Writes the endpoints of `model` (TensorFlow backend) into the existing,
    empty `directory`; returns their description."""
    import tensorflow as tf

    endpoints = serving_functions(model)
    description = {
        "format": format,
        "keras_vae_model": type(model).__name__,
        "data_shape": list(model.data_shape),
        "latent_shape": list(model.latent_shape),
        "pixels": "float32 in [0, 1]",
        "sample_temperature": model.sample_temperature,
        "endpoints": {},
    }
    if model.conditional:
        description["num_classes"] = model.num_classes
        description["class_names"] = model.class_names
    if format == "saved_model":
        archive = _archive(model, endpoints)
        archive.write_out(directory, verbose=False)
    else:
        import tf2onnx

        for name in ("encode", "decode"):
            function, signature = endpoints[name]
            tf2onnx.convert.from_function(
                tf.function(function, input_signature=signature),
                input_signature=signature,
                opset=ONNX_OPSET,
                output_path=os.path.join(directory, f"{name}.onnx"),
            )
        endpoints = {name: endpoints[name] for name in ("encode", "decode")}
    for name, (function, signature) in endpoints.items():
        outputs = tf.function(
            function, input_signature=signature
        ).get_concrete_function()
        description["endpoints"][name] = {
            "inputs": {spec.name: _shape(spec.shape) for spec in signature},
            "outputs": {
                key: _shape(value.shape)
                for key, value in outputs.structured_outputs.items()
            },
        }
    if format == "onnx":
        description["sample"] = (
            "draw z as keras_vae's model.sample does (N(0, I), the learned prior or "
            "the latent mixture, at sample_temperature), shape (n,) + "
            "latent_shape, and call decode"
        )
    files.write_json(os.path.join(directory, DESCRIPTION_FILE), description)
    return description


def _shape(shape):
    return [None if size is None else int(size) for size in shape]


def _archive(model, endpoints):
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (function, signature) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=signature)
    return archive


def serving_functions(model):
    """`{name: (function, input_signature)}` of the endpoints, TensorFlow graphs
    from pixels in [0, 1] to pixels in [0, 1]."""
    import numpy as np
    import tensorflow as tf

    from keras_vae import parameterization as param_lib

    preprocessing = model.preprocessing
    conditional = model.conditional
    pixels_spec = tf.TensorSpec((None, *model.data_shape), tf.float32, name="pixels")
    z_spec = tf.TensorSpec((None, *model.latent_shape), tf.float32, name="z")
    labels_spec = tf.TensorSpec((None,), tf.int32, name="labels")

    def to_inputs(pixels):
        # Binarizing preprocessings give the encoder the grey levels: the mean
        # of the random binarization (equal to it on binary images).
        if preprocessing is not None and preprocessing.mode == "standardize":
            return (pixels - preprocessing.mean) / preprocessing.std
        return pixels

    def to_pixels(outputs):
        outputs = model.likelihood.mean(outputs)
        if preprocessing is None:
            return outputs
        if preprocessing.mode == "standardize":
            outputs = outputs * preprocessing.std + preprocessing.mean
        return tf.clip_by_value(outputs, 0.0, 1.0)

    def encoded(pixels, labels=None):
        inputs = to_inputs(pixels)
        mean, raw_scale = model.encoder([inputs, labels] if conditional else inputs)
        sigma = param_lib.scale(raw_scale, model.parameterization)
        return {"mean": mean, "sigma": sigma}

    def decoded(z, labels=None):
        return {"pixels": to_pixels(model.decoder([z, labels] if conditional else z))}

    temperature = float(model.sample_temperature)
    mixture = model.latent_mixture

    def drawn_codes(count, labels=None):
        """`count` draws of z as `model.sample` draws them: from the model's
        latent mixture if it has one, else from its prior, at the model's
        temperature (TensorFlow's stateful random ops: fresh draws at every
        call of the served function)."""
        if mixture is not None:
            return mixture_codes(count, labels)
        if model.prior is None:
            shape = tf.concat([[count], model.latent_shape], 0)
            return temperature * tf.random.normal(shape)
        logits, means, sigmas = model.prior.components(model, labels)
        if model.prior.conditional:
            chosen = tf.random.categorical(logits, 1)[:, 0]
            means = tf.gather(means, chosen, batch_dims=1)
            sigmas = tf.gather(sigmas, chosen, batch_dims=1)
        else:
            chosen = tf.random.categorical(logits[None], count)[0]
            means, sigmas = tf.gather(means, chosen), tf.gather(sigmas, chosen)
        return means + temperature * sigmas * tf.random.normal(tf.shape(means))

    def mixture_codes(count, labels=None):
        groups = labels if mixture.conditional else tf.zeros([count], tf.int32)
        with np.errstate(divide="ignore"):  # a component of weight 0
            log_weights = tf.constant(np.log(mixture.weights), tf.float32)
        chosen = tf.random.categorical(tf.gather(log_weights, groups), 1)[:, 0]
        index = tf.stack([groups, tf.cast(chosen, tf.int32)], axis=1)
        means = tf.gather_nd(tf.constant(mixture.means, tf.float32), index)
        factors = tf.gather_nd(tf.constant(mixture._cholesky, tf.float32), index)
        noise = temperature * tf.random.normal(tf.shape(means))
        codes = means + tf.linalg.matvec(factors, noise)
        return tf.reshape(codes, tf.concat([[count], model.latent_shape], 0))

    if conditional:

        def sample(labels):
            return decoded(drawn_codes(tf.shape(labels)[0], labels), labels)

        return {
            "encode": (encoded, [pixels_spec, labels_spec]),
            "decode": (decoded, [z_spec, labels_spec]),
            "sample": (sample, [labels_spec]),
        }

    def sample(n):
        return decoded(drawn_codes(n))

    return {
        "encode": (encoded, [pixels_spec]),
        "decode": (decoded, [z_spec]),
        "sample": (sample, [tf.TensorSpec((), tf.int32, name="n")]),
    }
