"""KerasTuner's tuners, saving their state atomically.

A search killed while KerasTuner writes its state (`oracle.json`, a trial's
`trial.json`, the tuner's `<id>.json`) must leave the previous file, never a
truncated one, so that it resumes. KerasTuner writes them in place; the
tuners here write them under a temporary name and rename them
(`keras_vae.files.atomic_path`), through KerasTuner's own seams: the oracle's
and the tuner's `save()` (public), and the oracle's `_save_trial` (private:
the one method through which an oracle writes a trial). That, the file
names (`_get_oracle_fname`, `_get_trial_dir`, `_get_tuner_fname`),
`_is_worker`, and `utils.save_json` for remote paths are KerasTuner's private
API, used here and nowhere else;
`tests/tuning/test_persistence.py` fails when one of them changes.
"""

import json
import os

import keras_tuner
from keras_tuner.src import utils as keras_tuner_utils

from keras_vae.files import atomic_path


def write_state(path, state):
    """Writes a KerasTuner state as JSON, atomically for a local path."""
    text = json.dumps(state)
    if "://" in os.fspath(path):  # a remote file system: as KerasTuner does
        return keras_tuner_utils.save_json(path, state)
    with atomic_path(path) as temporary, open(temporary, "w") as file:
        file.write(text)
    return text


class _AtomicOracle:
    def save(self):
        # `oracle.trials` are saved in their own files, by `_save_trial`.
        write_state(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial):
        folder = self._get_trial_dir(trial.trial_id)
        write_state(os.path.join(folder, "trial.json"), trial.get_state())


class RandomSearchOracle(_AtomicOracle, keras_tuner.oracles.RandomSearchOracle):
    pass


class BayesianOptimizationOracle(
    _AtomicOracle, keras_tuner.oracles.BayesianOptimizationOracle
):
    pass


class HyperbandOracle(_AtomicOracle, keras_tuner.oracles.HyperbandOracle):
    pass


class _AtomicTuner:
    def save(self):
        if not self._is_worker():
            self.oracle.save()
        write_state(self._get_tuner_fname(), self.get_state())


def _tuner_arguments(kwargs):
    """Splits keyword arguments into the oracle's and the tuner's."""
    names = (
        "seed",
        "hyperparameters",
        "tune_new_entries",
        "allow_new_entries",
        "max_retries_per_trial",
        "max_consecutive_failed_trials",
    )
    oracle = {name: kwargs.pop(name) for name in names if name in kwargs}
    return oracle, kwargs


class RandomSearch(_AtomicTuner, keras_tuner.Tuner):
    """`keras_tuner.RandomSearch`, saving its state atomically."""

    def __init__(self, hypermodel=None, objective=None, max_trials=10, **kwargs):
        oracle, kwargs = _tuner_arguments(kwargs)
        super().__init__(
            oracle=RandomSearchOracle(objective, max_trials=max_trials, **oracle),
            hypermodel=hypermodel,
            **kwargs,
        )


class BayesianOptimization(_AtomicTuner, keras_tuner.Tuner):
    """`keras_tuner.BayesianOptimization`, saving its state atomically."""

    def __init__(self, hypermodel=None, objective=None, max_trials=10, **kwargs):
        oracle, kwargs = _tuner_arguments(kwargs)
        super().__init__(
            oracle=BayesianOptimizationOracle(
                objective, max_trials=max_trials, **oracle
            ),
            hypermodel=hypermodel,
            **kwargs,
        )


class Hyperband(_AtomicTuner, keras_tuner.Hyperband):
    """`keras_tuner.Hyperband`, saving its state atomically."""

    def __init__(self, hypermodel=None, objective=None, max_epochs=100, **kwargs):
        oracle, kwargs = _tuner_arguments(kwargs)
        factor = kwargs.pop("factor", 3)
        iterations = kwargs.pop("hyperband_iterations", 1)
        # Hyperband's own __init__ only builds its oracle: the Tuner's takes ours.
        keras_tuner.Tuner.__init__(
            self,
            oracle=HyperbandOracle(
                objective,
                max_epochs=max_epochs,
                factor=factor,
                hyperband_iterations=iterations,
                **oracle,
            ),
            hypermodel=hypermodel,
            **kwargs,
        )
