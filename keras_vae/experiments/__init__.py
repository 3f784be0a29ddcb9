"""The original study's experiments: training runs, evaluation and the beta sweep."""

from keras_vae.experiments.beta_sweep import sweep as sweep
from keras_vae.experiments.evaluation import evaluate_run as evaluate_run
from keras_vae.experiments.training import train as train

__all__ = ["evaluate_run", "sweep", "train"]
