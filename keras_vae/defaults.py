"""Every default of keras_vae's settings, written once.

The constructors' signatures (`VAE`, `KLRegularizer`, the hypermodels), the
run settings of `keras_vae.settings` and the command line's flags read them
here. Imports nothing, so the command line's `--help` shows them without a
framework.
"""

# The model: the original study's choices.
BETA = 1.0
PARAMETERIZATION = "softplus"
LIKELIHOOD = "gaussian"
FREE_BITS = 0.0
LATENT_DIM = 20

# Training.
EPOCHS = 15
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
SEED = 0
VALIDATION_FRACTION = 0.1

# Components of the learned priors (`--prior mixture`, `--prior vamp`): on
# binarized Fashion-MNIST a mixture of 100 gains 1.4 nats over N(0, I) where 10
# gain 0.8, at the same training time (docs/guides/priors.md).
MIXTURE_COMPONENTS = 100
VAMP_COMPONENTS = 50
# Gaussians per class of `--model cvae`'s default prior, `class:10`: on
# Fashion-MNIST its prior samples showed the class asked for 87.6 % of the
# time, one Gaussian per class 84.5 % (docs/commands/evaluate.md).
CLASS_PRIOR_COMPONENTS = 10
# `--model cvae` samples from a latent mixture of 30 Gaussians per class fitted
# to the training codes, at temperature 0.7: on Fashion-MNIST its samples are
# judged the class asked for 1.007 times as often as real test images, at a
# within-class diversity of 0.83; the prior's at temperature 1, 0.977 and
# 0.86 (docs/commands/evaluate.md).
CVAE_LATENT_MIXTURE = 30
CVAE_SAMPLE_TEMPERATURE = 0.7

# Importance samples of the bound on -log p(x) that `keras-vae evaluate` and
# `sweep` report: under a minute for the MLP VAE on 10,000 test images on 2
# CPU cores.
IW_SAMPLES = 100

# Anomaly scores (`keras_vae.anomaly`, `keras-vae score`): the methods, the
# default one, the k of the "iwae" score, and the fraction of normal images
# the calibrated thresholds flag.
# class_entropy: a ConditionalVAE scoring images of unknown class only.
ANOMALY_METHODS = (
    "dose",
    "elbo",
    "iwae",
    "complexity",
    "regret",
    "knn",
    "class_entropy",
)
ANOMALY_METHOD = "dose"
SCORE_IW_SAMPLES = 10
FALSE_ALARM_RATE = 0.01
# The "knn" score: its k, and at most how many training images a calibrated
# model keeps (as 16-bit codes and statistics: 3.6 MB for Fashion-MNIST's
# 54,000 at latent size 20) to measure distances to. More is better
# (docs/guides/anomalies.md, "One class held out").
KNN_NEIGHBOURS = 5
KNN_REFERENCE_IMAGES = 60000

# Examples per call of the inference helpers (`encode`, `decode`, ...).
INFERENCE_BATCH_SIZE = 256

# The KerasTuner search (`tuning`, `keras-vae tune`): ranges are (min, max).
SEARCH_LATENT_DIM = (2, 64)
SEARCH_BETA = (0.0, 200.0)
HIDDEN_UNITS = 500  # the MLP's first hidden layer
FILTERS = 32  # the conv CVAE's first convolution
TUNER = "bayesian"
MAX_TRIALS = 10
SEARCH_EPOCHS = 5
SEARCH_DIRECTORY = "tuning_runs"
