"""KerasTuner search over latent size and beta of keras_vae models.

Loaded lazily, so that `keras-vae --help` does not import TensorFlow.
"""

_EXPORTS = {
    "VAEHyperModel": "tuning.vae_hypermodel",
    "ConditionalVAEHyperModel": "tuning.conditional_vae_hypermodel",
    "ObjectiveMetrics": "tuning.objectives",
    "make_objective": "tuning.objectives",
    "make_tuner": "tuning.search",
    "results": "tuning.search",
    "write_results": "tuning.search",
    "format_results": "tuning.search",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tuning' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__():
    return __all__
