"""`import keras_vae` imports no framework and reads no `sys.argv`; the classes
are registered with Keras once it is imported; no package imports the command
line."""

import ast
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code, cwd=ROOT):
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_keras_vae_imports_no_framework():
    out = _python(
        "import sys, keras_vae\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') "
        "if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_a_package_run_with_python_m_sees_the_whole_api(tmp_path):
    package = tmp_path / "mine"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        textwrap.dedent(
            """
            import keras_vae

            print(keras_vae.models.VAE.__name__, keras_vae.LatentMixture.__name__)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mine"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[0] == "VAE LatentMixture"


def test_load_model_after_a_bare_import_in_any_order(tmp_path):
    import keras_vae

    # Saved here; only the loading needs fresh processes.
    model = tmp_path / "vae.keras"
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8, 1), 2),
        beta=keras_vae.schedules.LinearWarmup(10),
    )
    vae.build((None, 8, 8, 1))
    vae.save(model)
    for first in ("import keras_vae\nimport keras", "import keras\nimport keras_vae"):
        out = _python(
            f"{first}\n"
            f"model = keras.models.load_model({str(model)!r})\n"
            "print(type(model).__name__, model.kl_regularizer.beta_schedule)"
        )
        assert out.strip() == "VAE LinearWarmup(steps=10, maximum=1.0, minimum=0.0)"
    # A subpackage imported before Keras: registration waits for its end.
    out = _python(
        "from keras_vae.layers import Sampling\n"
        "import keras\n"
        f"print(type(keras.models.load_model({str(model)!r})).__name__)"
    )
    assert out.strip() == "VAE"


def _imported_modules(path):
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_no_library_module_imports_the_command_line():
    offenders = []
    for package in ("keras_vae", "tuning"):
        for root, _, names in os.walk(os.path.join(ROOT, package)):
            for name in names:
                path = os.path.join(root, name)
                relative = os.path.relpath(path, ROOT)
                if not name.endswith(".py") or relative.startswith(
                    os.path.join("keras_vae", "cli")
                ):
                    continue
                if relative in ("keras_vae/__main__.py", "tuning/__main__.py"):
                    continue  # the entry points of `python -m`
                if any(
                    module == "keras_vae.cli" or module.startswith("keras_vae.cli.")
                    for module in _imported_modules(path)
                ):
                    offenders.append(relative)
    assert offenders == []


def test_jax_leaves_tensorflow_unloaded_until_used_then_seeded(tmp_path):
    """Keras imports TensorFlow on every backend to seed it and to save a
    model; the command line defers it (`framework.defer_tensorflow`). When
    something does import it, it is seeded and deterministic as asked."""
    code = textwrap.dedent(
        """
        import os, sys
        os.environ["KERAS_BACKEND"] = "jax"
        import keras, numpy as np
        from keras_vae import framework
        from keras_vae.experiments import training

        framework.quiet_tensorflow()  # two wrappers of one import nest
        framework.defer_tensorflow()
        framework.set_random_seed(5)
        training.enable_determinism()
        drawn = keras.random.normal((3,))
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.save(sys.argv[1])
        print("tensorflow" in sys.modules)

        import tensorflow as tf
        from keras.src.utils.module_utils import tensorflow as lazy
        from tensorflow.python.framework import config  # not exported

        print(lazy.available, config.is_op_determinism_enabled())
        first = tf.random.uniform((3,)).numpy()
        tf.random.set_seed(5)
        print(np.array_equal(first, tf.random.uniform((3,)).numpy()))
        keras.utils.set_random_seed(5)
        print(np.array_equal(drawn, keras.random.normal((3,))))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "model.keras")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "True", "True", "True", "True"]
    assert result.stderr == ""  # TensorFlow's start-up lines stay quiet
