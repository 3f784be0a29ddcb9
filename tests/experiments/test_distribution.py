"""Data-parallel training on tf.distribute and keras.distribution: the same
losses as one device, and a two-process multi-worker run on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

# One process, two CPU devices: a run on one device, then a data-parallel run
# over both, from the same initial weights and global batches. The encoder's
# sigma is exp(-50), so the sampled z is the mean in both runs and their losses
# differ only by float rounding; a loss scaled wrongly across replicas (twice
# the gradient) would show from the second epoch on.
_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    backend = os.environ["KERAS_BACKEND"]
    if backend == "tensorflow":
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    import keras
    import numpy as np
    from keras_vae import architectures, datasets, models

    x = datasets.load("digits").x_train[:500].astype("float32")

    def build():
        inputs = keras.Input((8, 8, 1))
        hidden = keras.layers.Dense(32, activation="relu")(
            keras.layers.Flatten()(inputs)
        )
        mean = keras.layers.Dense(2)(hidden)
        log_var = keras.layers.Dense(
            2,
            kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(-100.0),
            trainable=False,
        )(hidden)
        encoder = keras.Model(inputs, [mean, log_var])
        _, decoder = architectures.mlp((8, 8, 1), 2)
        model = models.VAE(encoder, decoder, parameterization="log_var")
        # SGD: Adam's steps do not depend on the gradient's scale.
        model.compile(optimizer=keras.optimizers.SGD(1e-4))
        return model

    def train(parallel):
        keras.utils.set_random_seed(0)
        if parallel and backend == "tensorflow":
            strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
            assert strategy.num_replicas_in_sync == 2
            with strategy.scope():
                model = build()
        else:
            if parallel:
                import jax
                assert jax.device_count() == 2
                keras.distribution.set_distribution(
                    keras.distribution.DataParallel()
                )
            model = build()
        history = model.fit(x, batch_size=64, epochs=3, shuffle=False, verbose=0)
        return history.history["loss"]

    print(json.dumps([train(False), train(True)]))
    """
)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_data_parallel_epochs_lose_what_one_device_loses(backend):
    environment = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
    }
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    single, parallel = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(single) == 3
    assert parallel == pytest.approx(single, rel=1e-5)
    assert single[2] < single[0]  # it trained


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _train_command(*arguments):
    return [
        sys.executable,
        "-m",
        "keras_vae",
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        *arguments,
    ]


def test_a_two_worker_run_on_localhost_writes_one_run_folder(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    processes = []
    for index in range(2):
        config = {
            "cluster": {"worker": workers},
            "task": {"type": "worker", "index": index},
        }
        processes.append(
            subprocess.Popen(
                _train_command(
                    "--backend", "tensorflow", "--distribute", "multi-worker"
                )
                + ["--out", str(tmp_path / "run")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**environment, "TF_CONFIG": json.dumps(config)},
                cwd=tmp_path,
            )
        )
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-3000:]
    chief, worker = (stdout for stdout, _ in outputs)
    assert "multi-worker on 2 replicas" in chief
    assert "the chief worker writes the run folder" in worker
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["distribute"] == "multi-worker"
    assert config["replicas"] == 2
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 2
    assert (tmp_path / "run" / "model.keras").exists()
    assert sorted(os.listdir(tmp_path)) == ["run"]  # the worker left nothing


def test_data_parallel_command_on_two_jax_devices(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    environment["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    out = tmp_path / "run"
    result = subprocess.run(
        _train_command("--backend", "jax", "--distribute", "data-parallel")
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    assert "backend: jax, data-parallel on 2 replicas" in result.stdout
    # 1,293 training images do not split over two devices: one is left out.
    assert "1292 training, 144 validation" in result.stdout
    assert json.loads((out / "config.json").read_text())["replicas"] == 2
