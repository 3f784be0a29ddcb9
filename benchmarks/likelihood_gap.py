"""Test negative ELBO of keras_vae's MLP VAE beside the PyTorch peer's, at equal
settings, and of the differences between the two that could explain a gap.

    python benchmarks/likelihood_gap.py [--seeds 0 1] [--epochs 20]

Data: scikit-learn's bundled digits (8x8, offline), the package's stratified
train/test split, pixels standardized with the training set's mean and std.
Model: the original MLP with z = 20, batch 64, Adam 1e-3, on the whole training
split (no validation hold-out). The peer is `../shared/peers/torch_mlp_vae.py`'s
logic: PyTorch's default initialization (uniform +-1/sqrt(fan_in) weights and
biases) and Adam epsilon 1e-8. Variants of ours: Keras' defaults (Glorot
uniform, zero biases, epsilon 1e-7), epsilon 1e-8, the peer's initialization,
and both. Every number is the negative ELBO in nats per test image (Gaussian
likelihood, variance 1/2, constant included), averaged over 20 posterior
samples. Trainings run one after the other.
"""

import argparse
import math
import os

import numpy as np

VARIANTS = ("keras_vae defaults", "Adam epsilon 1e-8", "PyTorch init", "both")


def digits():
    import keras_vae

    data = keras_vae.datasets.load("digits")
    train = data.x_train.reshape(len(data.x_train), -1).astype("float32")
    test = data.x_test.reshape(len(data.x_test), -1).astype("float32")
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


def peer(x, x_test, seed, epochs, latent_dim=20, batch_size=64):
    import torch
    from likelihood_table import train_peer

    config = {
        "seed": seed,
        "latent_dim": latent_dim,
        "learning_rate": 1e-3,
        "batch_size": batch_size,
        "epochs": epochs,
    }
    x, x_test = torch.from_numpy(x), torch.from_numpy(x_test)
    no_labels = torch.zeros((len(x), 0))
    encode, decode = train_peer("vae", x, no_labels, config, num_classes=0)

    def negative_elbo():
        mean, sigma = encode(x_test, None)
        z = mean + sigma * torch.randn_like(mean)
        squared = ((decode(z, None) - x_test) ** 2).sum(1).mean()
        kl = -0.5 * (1 + torch.log(sigma**2) - mean**2 - sigma**2)
        return (squared + kl.sum(1).mean()).item()

    with torch.no_grad():
        value = np.mean([negative_elbo() for _ in range(20)])
    # The peer's squared error is the Gaussian NLL at variance 1/2 without
    # its constant D/2 log(pi); add it to compare with keras_vae's nats.
    return float(value + x.shape[1] / 2 * math.log(math.pi))


def ours(x, x_test, seed, epochs, variant):
    import keras

    import keras_vae

    keras.utils.set_random_seed(seed)
    encoder, decoder = keras_vae.architectures.mlp((x.shape[1],), 20)
    if variant in ("PyTorch init", "both"):
        rng = np.random.default_rng(seed)
        for network in (encoder, decoder):
            for layer in network.layers:
                if isinstance(layer, keras.layers.Dense):
                    bound = 1 / math.sqrt(layer.kernel.shape[0])
                    for weight in (layer.kernel, layer.bias):
                        weight.assign(
                            rng.uniform(-bound, bound, weight.shape).astype("float32")
                        )
    epsilon = 1e-8 if variant in ("Adam epsilon 1e-8", "both") else 1e-7
    vae = keras_vae.models.VAE(encoder, decoder, seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=epsilon))
    vae.fit(x, epochs=epochs, batch_size=64, verbose=0)
    elbo = keras_vae.evaluation.negative_elbo(vae, x_test, num_samples=20)
    return float(elbo.mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=20)
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    x, x_test = digits()
    rows = {name: [] for name in ("PyTorch peer", *VARIANTS)}
    for seed in arguments.seeds:
        rows["PyTorch peer"].append(peer(x, x_test, seed, arguments.epochs))
        for variant in VARIANTS:
            rows[variant].append(ours(x, x_test, seed, arguments.epochs, variant))
    reference = np.mean(rows["PyTorch peer"])
    print(f"| | {' | '.join(f'seed {s}' for s in arguments.seeds)} | mean | vs peer |")
    print("|---" * (len(arguments.seeds) + 3) + "|")
    for name, values in rows.items():
        cells = " | ".join(f"{v:.2f}" for v in values)
        mean = np.mean(values)
        print(
            f"| {name} | {cells} | {mean:.2f} | {100 * (mean / reference - 1):+.1f} % |"
        )


if __name__ == "__main__":
    main()
