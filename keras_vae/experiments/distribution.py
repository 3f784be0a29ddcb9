"""Data-parallel training on the engines Keras runs on: `tf.distribute`'s
`MirroredStrategy` (the devices of one machine) and
`MultiWorkerMirroredStrategy` (machines named by `TF_CONFIG`) on TensorFlow,
and `keras.distribution.DataParallel` on JAX.

Each replica computes the ELBO of its share of the global batch; the
TensorFlow trainer divides it by the number of replicas before the gradients
are summed (`keras_vae.models.backends.tensorflow_trainer`), and JAX's
`DataParallel` compiles one program over the whole batch, so an epoch's loss
is that of one device with the same global batch (tested).
"""

import contextlib
import dataclasses
import json
import os

import keras

from keras_vae.settings import DISTRIBUTIONS

_ENGINES = {
    "mirrored": "tensorflow",
    "multi-worker": "tensorflow",
    "data-parallel": "jax",
}


@dataclasses.dataclass
class Distribution:
    """How this process trains: where to build the model, with how many
    replicas, and whether it writes the run folder."""

    kind: str = None
    scope: object = dataclasses.field(default_factory=contextlib.nullcontext)
    replicas: int = 1
    chief: bool = True  # writes the run folder; other workers only train

    @property
    def multi_worker(self):
        return self.kind == "multi-worker"

    @property
    def batch_multiple(self):
        """Every batch `fit` sees must be a multiple of this: JAX shards each
        batch evenly over the devices; tf.distribute splits uneven ones."""
        return self.replicas if self.kind == "data-parallel" else 1

    def end_training(self):
        """After `fit`: evaluation and figures run on one device (JAX would
        otherwise need every batch, also the last, to split evenly)."""
        if self.kind == "data-parallel":
            keras.distribution.set_distribution(None)


def start(kind, batch_size):
    """Sets up `kind` (`None`, or one of `DISTRIBUTIONS`) for this process.

    Must run before TensorFlow executes any operation: a multi-worker
    strategy configures TensorFlow's collectives at start-up.

    Raises:
        ValueError: if the backend cannot run `kind`, `TF_CONFIG` is missing
            or malformed for `multi-worker`, or the batch does not split
            evenly over the replicas.
    """
    if kind is None:
        return Distribution()
    if kind not in DISTRIBUTIONS:
        raise ValueError(
            f"Unknown distribute {kind!r}. Expected one of {', '.join(DISTRIBUTIONS)}."
        )
    backend = keras.backend.backend()
    if _ENGINES[kind] != backend:
        raise ValueError(
            f'`distribute="{kind}"` runs on the {_ENGINES[kind]} backend; Keras '
            f'runs on {backend}. Start Keras on it: `backend="{_ENGINES[kind]}"` '
            "(the environment variable KERAS_BACKEND)."
        )
    if kind == "data-parallel":
        import jax

        keras.distribution.set_distribution(keras.distribution.DataParallel())
        distribution = Distribution(
            kind, replicas=jax.device_count(), chief=jax.process_index() == 0
        )
    else:
        import tensorflow as tf

        if kind == "mirrored":
            strategy, chief = tf.distribute.MirroredStrategy(), True
        else:
            task_type, task_id, cluster = _tf_config()
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
            chief = task_type == "chief" or (
                task_type == "worker" and task_id == 0 and "chief" not in cluster
            )
        distribution = Distribution(
            kind, strategy.scope(), strategy.num_replicas_in_sync, chief
        )
    if batch_size % distribution.replicas:
        raise ValueError(
            f"`batch_size={batch_size}` does not split over {distribution.replicas} "
            "replicas: expected a multiple of it (the batch size is global)."
        )
    return distribution


def _tf_config():
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError(
            '`distribute="multi-worker"` needs the environment variable TF_CONFIG, '
            'e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} (see docs/guides/distributed.md).'
        )
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        return task["type"], int(task["index"]), cluster
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            "TF_CONFIG must be JSON with a 'cluster' of host:port lists and a "
            f"'task' with 'type' and 'index'. Received: {text}"
        ) from None
