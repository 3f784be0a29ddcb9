"""The PNG figures of a run folder: latent map, reconstructions, samples,
conditioned grid and 2-D manifold."""

import os

import numpy as np

from keras_vae import plots
from keras_vae.experiments.splits import stratified_subset
from keras_vae.models import ConditionalVAE

TSNE_POINTS = 2000


def write_figures(run, num_examples=10):
    """Writes the run's PNG figures and fills `run.latent`, `run.reconstructions`
    and `run.samples`."""
    model, data, preprocessing = run.model, run.data, run.preprocessing
    seed, out = run.config["seed"], run.directory
    conditional = isinstance(model, ConditionalVAE)
    test_elbo = run.metrics["test"]["elbo"]

    subset = stratified_subset(data.y_train, TSNE_POINTS, seed)
    x_subset = preprocessing.transform(data.x_train[subset], seed)
    labels = data.y_train[subset]
    means = (model.encode(x_subset, labels) if conditional else model.encode(x_subset))[
        0
    ]
    points, method = plots.embed_latents(means, seed)
    run.latent = (points, labels, method)
    title = (
        f"{method} of encoder means, {len(subset)} training images "
        f"(latent_dim={means.shape[1]}, test ELBO {test_elbo:.1f} nats)"
    )
    plots.save(
        plots.latent_figure(points, labels, method, title, data.class_names),
        os.path.join(out, "latent_tsne.png"),
    )

    chosen = stratified_subset(data.y_test, num_examples, seed)
    originals = np.asarray(data.x_test[chosen])
    inputs = preprocessing.transform(originals, seed)
    reconstructed = (
        model.reconstruct(inputs, data.y_test[chosen])
        if conditional
        else model.reconstruct(inputs)
    )
    run.reconstructions = (originals, preprocessing.to_pixels(reconstructed))
    reconstruction = run.metrics["test"]["reconstruction_loss"]
    plots.save(
        plots.reconstructions_figure(
            *run.reconstructions,
            "test images (top) and reconstructions; "
            f"test -log p(x|z) {reconstruction:.1f} nats",
        ),
        os.path.join(out, "reconstructions.png"),
    )

    source = (
        "prior N(0, I)"
        if run.density is None
        else f"latent mixture ({run.density.components} components"
        + (" per class)" if conditional else ")")
    )
    if conditional:
        classes = np.repeat(np.arange(model.num_classes), num_examples)
        samples = preprocessing.to_pixels(
            model.sample(classes, seed=seed, density=run.density)
        )
        run.samples = samples[::num_examples][:num_examples]
        plots.save(
            plots.images_figure(
                samples,
                num_examples,
                f"{source} samples, one row per class",
                row_labels=data.class_names,
            ),
            os.path.join(out, "conditioned.png"),
        )
        prior = preprocessing.to_pixels(
            model.sample(
                np.random.default_rng(seed).integers(0, model.num_classes, 64),
                seed=seed,
                density=run.density,
            )
        )
    else:
        prior = preprocessing.to_pixels(
            model.sample(64, seed=seed, density=run.density)
        )
        run.samples = prior[:num_examples]
    plots.save(
        plots.images_figure(prior, 8, f"{source} samples, beta={run.config['beta']:g}"),
        os.path.join(out, "samples.png"),
    )

    if means.shape[1] == 2:
        codes = plots.manifold_codes()
        steps = int(np.sqrt(len(codes)))
        decoded = (
            model.decode(codes, np.zeros(len(codes), "int32"))
            if conditional
            else model.decode(codes)
        )
        plots.save(
            plots.images_figure(
                preprocessing.to_pixels(decoded),
                steps,
                "decoded latent grid at normal quantiles 5%-95%"
                + (" (class 0)" if conditional else ""),
            ),
            os.path.join(out, "manifold.png"),
        )
