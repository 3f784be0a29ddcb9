"""Likelihood regret (Xiao et al., NeurIPS 2020), on every backend."""

import keras
import numpy as np
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib

# Adam on each input's posterior parameters: steps, learning rate, and the
# posterior samples of the bound it minimizes (the same before and after).
STEPS = 20
LEARNING_RATE = 0.1
SAMPLES = 4


def likelihood_regret(model, inputs, labels=None, steps=STEPS, batch_size=256, seed=0):
    """How much the ELBO of each input gains when its posterior is re-fitted.

    Xiao et al. re-fit the encoder to one input; here the posterior's
    parameters (mean and scale) of every input are re-fitted by Adam, all
    inputs of a batch at once. The encoder, amortized over the training
    data, fits an unusual input badly: a large gain marks it.

        regret(x) = -ELBO(x; q_encoder) - (-ELBO(x; q_refitted)) >= 0, in nats,

    both bounds estimated with the same 4 posterior samples, which Adam
    minimizes the bound over (a fixed objective: the gain is not noise).

    Args:
        model: A built `VAE` or `ConditionalVAE`.
        inputs: Array of the networks' inputs.
        labels: A conditional model's labels, or `None`.
        steps: Integer, Adam steps. Defaults to `20`.
        batch_size: Integer, inputs re-fitted at once.
        seed: Integer, seed of the posterior noise.

    Returns:
        NumPy float32 array `(n,)`.
    """
    steps = checks.positive_integer("steps", steps)
    rng = np.random.default_rng(seed)
    gradient = _gradient_function(
        lambda mean, raw_scale, x, y, noise: ops.sum(
            _negative_elbo(model, x, y, mean, raw_scale, noise)
        )
    )
    regrets = []
    for start in range(0, len(inputs), batch_size):
        x = inputs[start : start + batch_size]
        y = None if labels is None else labels[start : start + batch_size]
        params = [
            ops.convert_to_tensor(ops.convert_to_numpy(t))
            for t in model.encoder.predict_on_batch(model._encoder_inputs(x, y))
        ]
        noise = ops.convert_to_tensor(
            rng.standard_normal((SAMPLES,) + tuple(params[0].shape), dtype="float32")
        )
        x, y = ops.convert_to_tensor(x), None if y is None else ops.convert_to_tensor(y)
        before = _negative_elbo(model, x, y, *params, noise)
        moments = [[ops.zeros_like(p), ops.zeros_like(p)] for p in params]
        for step in range(1, steps + 1):
            for index, grad in enumerate(gradient(*params, x, y, noise)):
                first, second = moments[index]
                first = 0.9 * first + 0.1 * grad
                second = 0.999 * second + 0.001 * ops.square(grad)
                moments[index] = [first, second]
                update = (first / (1 - 0.9**step)) / (
                    ops.sqrt(second / (1 - 0.999**step)) + 1e-8
                )
                params[index] = params[index] - LEARNING_RATE * update
        after = _negative_elbo(model, x, y, *params, noise)
        regrets.append(np.maximum(_numpy(before) - _numpy(after), 0.0))
    return np.concatenate(regrets).astype("float32")


def _negative_elbo(model, x, labels, mean, raw_scale, noise):
    """-ELBO per input, the reconstruction term averaged over `noise`'s samples."""
    samples, count = noise.shape[0], noise.shape[1]
    sigma = param_lib.scale(raw_scale, model.parameterization)
    z = mean[None] + sigma[None] * noise
    z = ops.reshape(z, (samples * count,) + tuple(noise.shape[2:]))
    tiled = None if labels is None else ops.tile(labels, (samples,))
    outputs = model.decoder_outputs(z, tiled)
    targets = ops.reshape(
        ops.broadcast_to(x[None], (samples,) + tuple(x.shape)),
        (samples * count,) + tuple(x.shape[1:]),
    )
    nll = model.likelihood.negative_log_likelihood(targets, outputs)
    nll = ops.reshape(nll, (samples, count))
    first = ops.reshape(z, (samples, count) + tuple(z.shape[1:]))[0]
    return ops.mean(nll, axis=0) + model.latent_kl_divergence(
        mean, raw_scale, first, labels
    )


def _gradient_function(function):
    """`function`'s gradients with respect to its first two arguments, as a
    function of all its arguments (compiled on JAX)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def gradients(mean, raw_scale, *rest):
            with tf.GradientTape() as tape:
                tape.watch([mean, raw_scale])
                value = function(mean, raw_scale, *rest)
            return tape.gradient(value, [mean, raw_scale])

        return gradients
    if backend == "jax":
        import jax

        return jax.jit(jax.grad(function, argnums=(0, 1)))
    if backend == "torch":
        import torch

        def gradients(mean, raw_scale, *rest):
            mean = mean.detach().requires_grad_(True)
            raw_scale = raw_scale.detach().requires_grad_(True)
            value = function(mean, raw_scale, *rest)
            return [g.detach() for g in torch.autograd.grad(value, [mean, raw_scale])]

        return gradients
    raise ValueError(f"Likelihood regret is not available on the {backend} backend.")


def _numpy(tensor):
    if hasattr(tensor, "detach"):
        tensor = tensor.detach()
    return np.asarray(ops.convert_to_numpy(tensor))
