"""What a trained VAE or ConditionalVAE is worth, on any Keras backend.

Functions take a built model and NumPy arrays (`x`, and `labels` for a
`ConditionalVAE`), compute with `keras.ops`, and return NumPy values in nats.
The disentanglement metrics take NumPy codes and ground-truth factors.
"""

from keras_vae.evaluation.conditional_samples import (
    label_fidelity as label_fidelity,
)
from keras_vae.evaluation.conditional_samples import (
    train_classifier as train_classifier,
)
from keras_vae.evaluation.conditional_samples import (
    within_class_diversity as within_class_diversity,
)
from keras_vae.evaluation.disentanglement import beta_vae_score as beta_vae_score
from keras_vae.evaluation.disentanglement import dci as dci
from keras_vae.evaluation.disentanglement import (
    disentanglement_completeness as disentanglement_completeness,
)
from keras_vae.evaluation.disentanglement import (
    disentanglement_metrics as disentanglement_metrics,
)
from keras_vae.evaluation.disentanglement import (
    factor_vae_score as factor_vae_score,
)
from keras_vae.evaluation.disentanglement import (
    mutual_information_gap as mutual_information_gap,
)
from keras_vae.evaluation.disentanglement import sap_score as sap_score
from keras_vae.evaluation.latent_usage import active_units as active_units
from keras_vae.evaluation.latent_usage import kl_per_dimension as kl_per_dimension
from keras_vae.evaluation.latent_usage import (
    mutual_information as mutual_information,
)
from keras_vae.evaluation.likelihood_bound import (
    bits_per_dimension as bits_per_dimension,
)
from keras_vae.evaluation.likelihood_bound import (
    importance_weighted_bound as importance_weighted_bound,
)
from keras_vae.evaluation.likelihood_bound import negative_elbo as negative_elbo

__all__ = [
    "active_units",
    "beta_vae_score",
    "bits_per_dimension",
    "dci",
    "disentanglement_completeness",
    "disentanglement_metrics",
    "factor_vae_score",
    "importance_weighted_bound",
    "kl_per_dimension",
    "label_fidelity",
    "mutual_information",
    "mutual_information_gap",
    "negative_elbo",
    "sap_score",
    "train_classifier",
    "within_class_diversity",
]
