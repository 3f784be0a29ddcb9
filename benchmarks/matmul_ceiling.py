"""How fast the MLP VAE's training step could be: only its matrix products.

    python benchmarks/matmul_ceiling.py              # batch 64 and 256, z = 2 and 20
    python benchmarks/matmul_ceiling.py --batch-size 256 --latent-dim 2

Compiles with `jax.jit` a program made only of the training step's matrix
products at the shapes of `keras_vae.architectures.mlp((28, 28, 1), z)`: for
every Dense kernel `(a, b)`, the forward product `(batch, a) @ (a, b)`, the
weight gradient `(a, batch) @ (batch, b)` and, except for the first layer
(whose input needs no gradient), the input gradient `(batch, b) @ (b, a)`.
No activations, sampling, loss, optimizer or data: whatever a real step
does besides these products only adds time, so the images per second printed
are a ceiling for `fit` at that batch size on this machine. Compare them
with the FLOP floor of `benchmarks/run.py` (the rate of one large GEMM):
small products run below that rate (docs/benchmarks.md).
"""

import argparse
import os
import time

os.environ["KERAS_BACKEND"] = "jax"


def kernel_shapes(latent_dim):
    import keras

    import keras_vae

    encoder, decoder = keras_vae.architectures.mlp((28, 28, 1), latent_dim)
    return [
        tuple(layer.kernel.shape)
        for network in (encoder, decoder)
        for layer in network.layers
        if isinstance(layer, keras.layers.Dense)
    ]


def products(kernels, batch_size):
    """The jitted product-only step, its arguments, and its FLOPs."""
    import jax

    keys = jax.random.split(jax.random.PRNGKey(0), 3 * len(kernels))
    weights = [jax.random.normal(keys[i], shape) for i, shape in enumerate(kernels)]
    inputs = [
        jax.random.normal(keys[len(kernels) + i], (batch_size, a))
        for i, (a, _) in enumerate(kernels)
    ]
    output_gradients = [
        jax.random.normal(keys[2 * len(kernels) + i], (batch_size, b))
        for i, (_, b) in enumerate(kernels)
    ]

    def step(weights, inputs, output_gradients):
        results = []
        for i, (w, x, dy) in enumerate(
            zip(weights, inputs, output_gradients, strict=True)
        ):
            results.append(x @ w)
            results.append(x.T @ dy)
            if i > 0:
                results.append(dy @ w.T)
        return results

    flops = sum(
        2 * batch_size * a * b * (2 if i == 0 else 3)
        for i, (a, b) in enumerate(kernels)
    )
    return jax.jit(step), (weights, inputs, output_gradients), flops


def measure(batch_size, latent_dim, calls=400, repeats=5):
    """Best over `repeats` of `calls` steps: (images per second, GFLOP/s)."""
    import jax

    step, arguments, flops = products(kernel_shapes(latent_dim), batch_size)
    jax.block_until_ready(step(*arguments))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            result = step(*arguments)
        jax.block_until_ready(result)
        best = min(best, (time.perf_counter() - start) / calls)
    return batch_size / best, flops / best / 1e9


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--batch-size", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--latent-dim", type=int, nargs="+", default=[2, 20])
    parser.add_argument("--calls", type=int, default=400, help="steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args(argv)
    for latent_dim in arguments.latent_dim:
        for batch_size in arguments.batch_size:
            images, gflops = measure(
                batch_size, latent_dim, arguments.calls, arguments.repeats
            )
            print(
                f"MLP VAE z={latent_dim} b={batch_size}: matrix products only "
                f"{images:,.0f} img/s ({gflops:.0f} GFLOP/s)"
            )


if __name__ == "__main__":
    main()
