"""Anomaly and out-of-distribution scores of a trained VAE or ConditionalVAE.

Every function takes a built model and NumPy images in the model's data
space (pixels in [0, 1] with a preprocessing) and returns NumPy arrays;
scores are per image, in nats, higher meaning more anomalous. `calibrate`
places thresholds on validation images and gives them to the model, whose
`flag_anomalies` then says 0 or 1 per image. The guide
docs/guides/anomalies.md says which method works where, with measurements.
"""

from keras_vae.anomaly.detector import AnomalyDetector as AnomalyDetector
from keras_vae.anomaly.detector import calibrate as calibrate
from keras_vae.anomaly.metrics import detection_metrics as detection_metrics
from keras_vae.anomaly.regret import likelihood_regret as likelihood_regret
from keras_vae.anomaly.scores import CALIBRATED_METHODS as CALIBRATED_METHODS
from keras_vae.anomaly.scores import DEFAULT_METHOD as DEFAULT_METHOD
from keras_vae.anomaly.scores import METHODS as METHODS
from keras_vae.anomaly.scores import applicable_methods as applicable_methods
from keras_vae.anomaly.scores import class_log_likelihoods as class_log_likelihoods
from keras_vae.anomaly.scores import class_posteriors as class_posteriors
from keras_vae.anomaly.scores import (
    reconstruction_error_map as reconstruction_error_map,
)
from keras_vae.anomaly.scores import score as score
from keras_vae.anomaly.scores import scores as scores
from keras_vae.anomaly.statistics import compressed_bits as compressed_bits
from keras_vae.anomaly.statistics import summary_statistics as summary_statistics

__all__ = [
    "CALIBRATED_METHODS",
    "DEFAULT_METHOD",
    "METHODS",
    "AnomalyDetector",
    "applicable_methods",
    "calibrate",
    "class_log_likelihoods",
    "class_posteriors",
    "compressed_bits",
    "detection_metrics",
    "likelihood_regret",
    "reconstruction_error_map",
    "score",
    "scores",
    "summary_statistics",
]
