"""Every ```python example in a public docstring runs."""

import inspect
import re

import pytest

import keras_vae
from keras_vae import (
    architectures,
    callbacks,
    datasets,
    evaluation,
    layers,
    likelihoods,
    models,
    schedules,
)

PUBLIC = [
    layers.Sampling,
    layers.KLRegularizer,
    layers.ConditionalConcat,
    models.VAE,
    models.ConditionalVAE,
    likelihoods.Gaussian,
    likelihoods.Bernoulli,
    architectures.mlp,
    architectures.conv_conditional,
    callbacks.ImageLogger,
    callbacks.BetaScheduler,
    callbacks.CapacityScheduler,
    callbacks.PosteriorCollapseMonitor,
    schedules.LinearWarmup,
    schedules.Cyclical,
    evaluation.importance_weighted_bound,
    evaluation.negative_elbo,
    evaluation.bits_per_dimension,
    evaluation.active_units,
    evaluation.kl_per_dimension,
    evaluation.mutual_information,
    evaluation.train_classifier,
    evaluation.label_fidelity,
    evaluation.within_class_diversity,
    datasets.Preprocessing,
]


def _example(obj):
    match = re.search(r"```python\n(.*?)```", inspect.getdoc(obj) or "", re.S)
    return match and match.group(1)


def test_every_public_object_has_an_example():
    assert [obj.__name__ for obj in PUBLIC if not _example(obj)] == []
    assert keras_vae.__version__


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda obj: obj.__name__)
def test_example_runs(obj, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_example(obj), f"<{obj.__name__} example>", "exec"), {})
