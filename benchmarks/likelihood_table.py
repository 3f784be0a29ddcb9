"""Test log-likelihood bound of keras_vae's runs beside the PyTorch peer's, at
equal settings.

    python benchmarks/likelihood_table.py RUN [RUN ...] [--iw-samples 1000]

For each run folder written by `keras-vae train` (the MLP VAE or the conv CVAE,
Gaussian likelihood), the peer of `../shared/peers` (`torch_mlp_vae.py`,
`torch_conv_cvae.py`: the same networks in PyTorch, its default initialization,
Adam 1e-3, squared error on standardized pixels, sigma = softplus(rho)) is
trained on the run's own training images (the same validation hold-out, the
same preprocessing), for the run's epochs, batch size, latent size and seed.
Both are then scored on the run's test images with the importance-weighted
bound on -log p(x) (Burda et al. 2015; k samples per image; Gaussian pixels of
variance 1/2, constant included, as in `keras_vae.likelihoods.Gaussian`):
ours with `keras_vae.evaluation.importance_weighted_bound`, the peer's with
the same estimator written in PyTorch below. Trainings run one after the
other. Prints a markdown table.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np

VARIANCE = 0.5


def peer_networks(kind, image_shape, latent_dim, num_classes):
    """The peers' networks: `encode(x, y) -> (mean, sigma)`, `decode(z, y)`."""
    import torch
    from torch import nn

    dim = math.prod(image_shape)
    if kind == "vae":  # torch_mlp_vae.py
        encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(dim, 500),
            nn.ReLU(),
            nn.Linear(500, 120),
            nn.ReLU(),
            nn.Linear(120, 2 * latent_dim),
        )
        decoder = nn.Sequential(
            nn.Linear(latent_dim, 120),
            nn.ReLU(),
            nn.Linear(120, 500),
            nn.ReLU(),
            nn.Linear(500, dim),
        )
        modules = (encoder, decoder)

        def encode(x, y):
            mean, rho = encoder(x).chunk(2, dim=-1)
            return mean, nn.functional.softplus(rho)

        def decode(z, y):
            return decoder(z).view(*z.shape[:-1], *image_shape)

        return encode, decode, modules
    # torch_conv_cvae.py, for 28x28 single-channel images.
    features = nn.Sequential(
        nn.Conv2d(1, 32, 3, 2),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, 2),
        nn.ReLU(),
        nn.Flatten(),
    )
    head = nn.Linear(64 * 6 * 6 + num_classes, 2 * latent_dim)
    decoder_input = nn.Sequential(nn.Linear(latent_dim + num_classes, 7 * 7 * 32))
    decoder = nn.Sequential(
        nn.ConvTranspose2d(32, 64, 3, 2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 3, 2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 3, 1, padding=1),
    )
    modules = (features, head, decoder_input, decoder)

    def encode(x, y):
        mean, rho = head(torch.cat([features(x), y], 1)).chunk(2, dim=1)
        return mean, nn.functional.softplus(rho)

    def decode(z, y):
        h = nn.functional.relu(decoder_input(torch.cat([z, y], -1)))
        return decoder(h.view(-1, 32, 7, 7))

    return encode, decode, modules


def train_peer(kind, x, y, config, num_classes):
    """Trains the peer as its script does; returns `(encode, decode)`."""
    import torch

    torch.manual_seed(config["seed"])
    encode, decode, modules = peer_networks(
        kind, x.shape[1:], config["latent_dim"], num_classes
    )
    parameters = [p for module in modules for p in module.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=config["learning_rate"])
    batch_size = config["batch_size"]
    for _ in range(config["epochs"]):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            batch, labels = x[index], y[index]
            mean, sigma = encode(batch, labels)
            z = mean + sigma * torch.randn_like(mean)
            squared = ((decode(z, labels) - batch) ** 2).flatten(1).sum(1).mean()
            kl = -0.5 * (1 + torch.log(sigma**2) - mean**2 - sigma**2)
            loss = squared + kl.sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for module in modules:
        module.eval()
    return encode, decode


def peer_bound(encode, decode, x, y, num_samples, seed=0, images_per_chunk=None):
    """Mean importance-weighted bound on -log p(x) over `x`, in nats."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    dim = math.prod(x.shape[1:])
    constant = 0.5 * dim * math.log(2 * math.pi * VARIANCE)
    images_per_chunk = images_per_chunk or max(1, 4096 // num_samples)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), images_per_chunk):
            batch, labels = (
                x[start : start + images_per_chunk],
                y[start : start + images_per_chunk],
            )
            mean, sigma = encode(batch, labels)
            noise = torch.randn(
                (num_samples, *mean.shape), generator=generator, dtype=mean.dtype
            )
            z = mean + sigma * noise  # (k, n, latent)
            n = len(batch)
            flat = z.reshape(num_samples * n, -1)
            repeated = labels.repeat(num_samples, 1)
            outputs = decode(flat, repeated).reshape(num_samples, n, -1)
            squared = ((outputs - batch.reshape(1, n, -1)) ** 2).sum(-1)
            log_likelihood = -squared / (2 * VARIANCE) - constant
            log_prior = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
            log_posterior = (
                -0.5 * noise**2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
            ).sum(-1)
            weights = log_likelihood + log_prior - log_posterior
            bound = -(torch.logsumexp(weights, 0) - math.log(num_samples))
            total += float(bound.sum())
    return total / len(x)


def run_data(directory):
    """A run's config, its model, and its training and test arrays as fed."""
    import keras

    from keras_vae import datasets
    from keras_vae.experiments import training

    with open(os.path.join(directory, "config.json")) as file:
        config = json.load(file)
    if config["likelihood"] != "gaussian":
        raise SystemExit(
            f"{directory}: the peers use squared error (a Gaussian likelihood); "
            f"this run used {config['likelihood']}."
        )
    data = datasets.load(config["dataset_used"], config["data_path"])
    preprocessing = datasets.Preprocessing(**config["preprocessing_state"])
    train_index, _ = training.split(data.y_train, config)
    x_train = preprocessing.transform(data.x_train[train_index], config["seed"])
    x_test = preprocessing.transform(data.x_test, config["seed"] + 1)
    model = keras.models.load_model(os.path.join(directory, "model.keras"))
    return (
        config,
        model,
        (x_train, data.y_train[train_index]),
        (x_test, data.y_test),
        int(max(data.y_train.max(), data.y_test.max())) + 1,
    )


def to_torch(x, labels, kind, num_classes):
    import torch

    x = np.asarray(x, "float32")
    if kind == "cvae":
        x = x.reshape(len(x), 1, *x.shape[1:3])  # NHWC, one channel -> NCHW
    one_hot = np.eye(num_classes, dtype="float32")[labels]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(one_hot)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument(
        "--markdown", metavar="FILE", help="also write the table to FILE"
    )
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras_vae

    rows = []
    for directory in arguments.runs:
        config, model, train, test, num_classes = run_data(directory)
        kind = config["model"]
        labels = test[1] if kind == "cvae" else None
        started = time.perf_counter()
        ours = keras_vae.evaluation.importance_weighted_bound(
            model, test[0], labels, num_samples=arguments.iw_samples
        )
        ours = float(np.mean(ours))
        print(f"{directory}: ours {ours:.2f} ({time.perf_counter() - started:.0f} s)")
        started = time.perf_counter()
        encode, decode = train_peer(
            kind, *to_torch(*train, kind, num_classes), config, num_classes
        )
        peer = peer_bound(
            encode, decode, *to_torch(*test, kind, num_classes), arguments.iw_samples
        )
        print(f"{directory}: peer {peer:.2f} ({time.perf_counter() - started:.0f} s)")
        sys.stdout.flush()
        rows.append((directory, config, ours, peer))
    lines = [
        "| run | model | z | epochs | ours, −log p(x) ≤ | PyTorch peer | ours − peer |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    names = {"vae": "MLP VAE", "cvae": "conv CVAE", "conv_vae": "conv VAE"}
    for directory, config, ours, peer in rows:
        difference = f"{ours - peer:+.2f}".replace("-", "−")
        lines.append(
            f"| {os.path.basename(directory.rstrip('/'))} | {names[config['model']]} "
            f"| {config['latent_dim']} | {config['epochs']} | {ours:.2f} "
            f"| {peer:.2f} | {difference} nats |"
        )
    table = "\n".join(lines) + "\n"
    print("\n" + table, end="")
    if arguments.markdown:
        with open(arguments.markdown, "w") as file:
            file.write(table)


if __name__ == "__main__":
    main()
