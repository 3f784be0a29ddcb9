"""Output distributions p(x|z) of the decoder."""

from keras_vae.likelihoods.bernoulli import Bernoulli as Bernoulli
from keras_vae.likelihoods.continuous_bernoulli import (
    ContinuousBernoulli as ContinuousBernoulli,
)
from keras_vae.likelihoods.discretized_logistic import (
    DiscretizedLogistic as DiscretizedLogistic,
)
from keras_vae.likelihoods.discretized_logistic_mixture import (
    DiscretizedLogisticMixture as DiscretizedLogisticMixture,
)
from keras_vae.likelihoods.gaussian import Gaussian as Gaussian
from keras_vae.likelihoods.learned_gaussian import LearnedGaussian as LearnedGaussian
from keras_vae.likelihoods.likelihood import Likelihood as Likelihood
from keras_vae.likelihoods.lookup import get as get

__all__ = [
    "Bernoulli",
    "ContinuousBernoulli",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "Gaussian",
    "LearnedGaussian",
    "Likelihood",
    "get",
]

# Last: registers every class with Keras once no keras_vae module is half-imported.
from keras_vae import registry  # noqa: E402

registry.complete(__name__)
