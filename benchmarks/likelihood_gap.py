"""keras_vae's defaults against the PyTorch peer's, on several real datasets.

    python benchmarks/likelihood_gap.py run [--datasets digits photos fashion_mnist]
        [--seeds 0 1] [--variants ...]
    python benchmarks/likelihood_gap.py markdown

- run: for each dataset, each seed and, within the seed, the PyTorch peer and
  each variant of ours one after the other (interleaved, so that the
  machine's load falls on all alike), trains the original MLP
  (784-500-120-20 on 28x28 images; the same widths on other sizes), batch 64,
  Adam 1e-3, on the whole training split, and scores the test split: the
  negative ELBO (squared error at variance 1/2 plus KL, the normalizing
  constant included; 20 posterior samples per image) and the importance-
  weighted bound on -log p(x) at k = `BOUND_SAMPLES`. Each result is added
  to benchmarks/likelihood_gap_results.json at once (a killed study resumes).
- markdown: writes the table of docs/likelihoods.md from the results.

The peer is `../shared/peers/torch_mlp_vae.py`'s network and training loop
(`likelihood_table.train_peer`): PyTorch's initialization (weights and biases
uniform in +-1/sqrt(fan_in)) and Adam's epsilon 1e-8. Ours differ from it by
Keras' defaults (Glorot-uniform weights, zero biases, epsilon 1e-7); the
variants put the peer's choices into ours one at a time, and try some that
are neither's (He-uniform weights, a cosine decay of the learning rate to 0,
the learning rate doubled, the weights' moving average at the end: Adam's
`use_ema` with momentum 0.99 or 0.999). Before 2026-12-04, `fit` on arrays
on TensorFlow drew one order for every epoch (Keras' pipeline, once seeded);
`reshuffled` feeds `Preprocessing.training_inputs`' pipeline, a new order
every epoch, which the models' `fit` now uses on arrays too.

Datasets (all offline): scikit-learn's 8x8 digits (the package's split);
Fashion-MNIST (Debian's `dataset-fashion-mnist`, or Keras' download); and
16x16 colour patches of scikit-learn's two sample photographs, 8-bit, the
left 80 % of each photograph for training and the right 20 % for testing
(disjoint pixels). Pixels are standardized by the training split's mean and
standard deviation, as `keras-vae train` does by default.
"""

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import results_file  # noqa: E402
from page_blocks import replace_between  # noqa: E402

RESULTS = os.path.join(HERE, "likelihood_gap_results.json")
PAGE = os.path.join(ROOT, "docs", "likelihoods.md")
BOUND_SAMPLES = 100
ELBO_SAMPLES = 20
DATASETS = {
    # name: (label, epochs)
    "digits": ("scikit-learn digits, 8x8", 20),
    "photos": ("photograph patches, 16x16 colour", 20),
    "fashion_mnist": ("Fashion-MNIST, 28x28", 15),
}
VARIANTS = {
    "peer": "PyTorch peer",
    "defaults": "keras_vae defaults",
    "epsilon": "ours, Adam epsilon 1e-8",
    "torch_init": "ours, PyTorch initialization",
    "both": "ours, both",
    "cosine": "ours, learning rate 1e-3 decayed to 0 (cosine)",
    "lr2": "ours, learning rate 2e-3",
    "he": "ours, He-uniform initialization",
    "ema99": "ours, weights averaged (EMA 0.99)",
    "ema999": "ours, weights averaged (EMA 0.999)",
    "reshuffled": "keras_vae defaults, a new order every epoch on TensorFlow",
}


def photo_patches(side=16, stride=6, split=0.8):
    """8-bit colour patches of scikit-learn's photographs: (train, test)."""
    from sklearn.datasets import load_sample_images

    train, test = [], []
    for photo in load_sample_images().images:
        cut = int(photo.shape[1] * split)
        for region, out in ((photo[:, :cut], train), (photo[:, cut:], test)):
            for row in range(0, region.shape[0] - side + 1, stride):
                for column in range(0, region.shape[1] - side + 1, stride):
                    out.append(region[row : row + side, column : column + side])
    return np.stack(train), np.stack(test)


def load(name):
    """Standardized float32 (train, test) arrays of a dataset, flattened."""
    if name == "photos":
        train, test = photo_patches()
    else:
        import keras_vae

        data = keras_vae.datasets.load(name)
        train, test = data.x_train, data.x_test
    train = train.reshape(len(train), -1).astype("float32")
    test = test.reshape(len(test), -1).astype("float32")
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


def peer(x, x_test, seed, epochs, latent_dim=20, batch_size=64):
    import torch
    from likelihood_table import VARIANCE, peer_bound, train_peer

    config = {
        "seed": seed,
        "latent_dim": latent_dim,
        "learning_rate": 1e-3,
        "batch_size": batch_size,
        "epochs": epochs,
    }
    x, x_test = torch.from_numpy(x), torch.from_numpy(x_test)
    no_labels = torch.zeros((len(x), 0))
    start = time.perf_counter()
    encode, decode = train_peer("vae", x, no_labels, config, num_classes=0)
    seconds = time.perf_counter() - start
    constant = x.shape[1] / 2 * math.log(2 * math.pi * VARIANCE)
    torch.manual_seed(seed)
    with torch.no_grad():
        values = []
        for _ in range(ELBO_SAMPLES):
            mean, sigma = encode(x_test, None)
            z = mean + sigma * torch.randn_like(mean)
            squared = ((decode(z, None) - x_test) ** 2).sum(1) / (2 * VARIANCE)
            kl = -0.5 * (1 + torch.log(sigma**2) - mean**2 - sigma**2)
            values.append((squared + kl.sum(1)).mean().item() + constant)
    no_test_labels = torch.zeros((len(x_test), 0))
    bound = peer_bound(encode, decode, x_test, no_test_labels, BOUND_SAMPLES, seed)
    return float(np.mean(values)), bound, seconds


def ours(x, x_test, seed, epochs, variant, latent_dim=20, batch_size=64):
    import keras

    import keras_vae

    keras.utils.set_random_seed(seed)
    encoder, decoder = keras_vae.architectures.mlp((x.shape[1],), latent_dim)
    if variant == "he":
        for network in (encoder, decoder):
            for layer in network.layers:
                if isinstance(layer, keras.layers.Dense):
                    initializer = keras.initializers.HeUniform(seed=seed)
                    layer.kernel.assign(initializer(layer.kernel.shape))
    if variant in ("torch_init", "both"):
        rng = np.random.default_rng(seed)
        for network in (encoder, decoder):
            for layer in network.layers:
                if isinstance(layer, keras.layers.Dense):
                    bound = 1 / math.sqrt(layer.kernel.shape[0])
                    for weight in (layer.kernel, layer.bias):
                        weight.assign(
                            rng.uniform(-bound, bound, weight.shape).astype("float32")
                        )
    epsilon = 1e-8 if variant in ("epsilon", "both") else 1e-7
    learning_rate = 2e-3 if variant == "lr2" else 1e-3
    if variant == "cosine":
        steps = epochs * math.ceil(len(x) / batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(1e-3, steps)
    vae = keras_vae.models.VAE(encoder, decoder, seed=seed)
    average = {"ema99": 0.99, "ema999": 0.999}.get(variant)
    optimizer = keras.optimizers.Adam(
        learning_rate,
        epsilon=epsilon,
        use_ema=average is not None,
        ema_momentum=average or 0.99,
    )
    vae.compile(optimizer=optimizer)
    start = time.perf_counter()
    if variant == "reshuffled":
        # What `keras-vae train` feeds: on TensorFlow a pipeline that takes a
        # new order every epoch (Keras' own repeats one order once seeded).
        inputs = keras_vae.datasets.Preprocessing("scale").training_inputs(
            x, batch_size=batch_size, seed=seed
        )
        vae.fit(**inputs, epochs=epochs, verbose=0)
    else:
        vae.fit(x, epochs=epochs, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    evaluation = keras_vae.evaluation
    elbo = evaluation.negative_elbo(vae, x_test, num_samples=ELBO_SAMPLES)
    bound = evaluation.importance_weighted_bound(
        vae, x_test, num_samples=BOUND_SAMPLES, seed=seed
    )
    return float(elbo.mean()), float(bound.mean()), seconds


def run(arguments):
    import keras

    for name in arguments.datasets:
        x, x_test = load(name)
        epochs = DATASETS[name][1]
        for seed in arguments.seeds:
            for variant in arguments.variants:
                key = f"{name}/{seed}/{variant}"
                if key in results_file.load(RESULTS):
                    continue
                peer_run = variant == "peer"
                if peer_run:
                    elbo, bound, seconds = peer(x, x_test, seed, epochs)
                else:
                    elbo, bound, seconds = ours(x, x_test, seed, epochs, variant)
                value = {
                    "negative_elbo": elbo,
                    "bound": bound,
                    "train_seconds": seconds,
                    "epochs": epochs,
                    "train_images": len(x),
                    "test_images": len(x_test),
                    "backend": "torch" if peer_run else keras.backend.backend(),
                    "date": time.strftime("%Y-%m-%d"),
                }
                results_file.add(RESULTS, key, value)
                print(f"{key}: -ELBO {elbo:.2f}, bound {bound:.2f} ({seconds:.0f} s)")


def table(results):
    """The markdown table: per dataset, each variant's mean and the peer's."""
    lines = [
        f"| data | model | seeds | test −ELBO | test bound, k = {BOUND_SAMPLES} "
        "| bound vs peer |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, (label, epochs) in DATASETS.items():
        rows = {}
        for key, value in results.items():
            dataset, seed, variant = key.split("/")
            if dataset == name:
                rows.setdefault(variant, {})[int(seed)] = value
        if "peer" not in rows:
            continue
        first = next(iter(rows["peer"].values()))
        data = (
            f"{label} ({first['train_images']:,} / {first['test_images']:,} "
            f"images, {epochs} epochs)"
        )
        for variant, title in VARIANTS.items():
            # Each row beside the peer's runs of the same seeds.
            seeds = sorted(set(rows.get(variant, ())) & set(rows["peer"]))
            if not seeds:
                continue
            elbo = statistics.mean(rows[variant][s]["negative_elbo"] for s in seeds)
            bound = statistics.mean(rows[variant][s]["bound"] for s in seeds)
            reference = statistics.mean(rows["peer"][s]["bound"] for s in seeds)
            lines.append(
                f"| {data} | {title} | {', '.join(map(str, seeds))} | {elbo:.2f} | "
                f"{bound:.2f} | {bound - reference:+.2f} "
                f"({100 * (bound / reference - 1):+.1f} %) |"
            )
            data = ""
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run")
    run_parser.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS)
    )
    run_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    run_parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS)
    )
    commands.add_parser("markdown")
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if arguments.command == "run":
        run(arguments)
    else:
        replace_between(
            PAGE,
            "<!-- likelihood-gap:start -->",
            "<!-- likelihood-gap:end -->",
            table(results_file.load(RESULTS)),
        )


if __name__ == "__main__":
    main()
