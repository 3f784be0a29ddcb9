"""The PNG figures of a run folder: latent map, reconstructions, samples,
conditioned grid, 2-D manifold and, for data with factors, latent traversals."""

import os

import numpy as np

from keras_vae import plots
from keras_vae.experiments import traversal
from keras_vae.experiments.splits import stratified_subset

TSNE_POINTS = 2000
TRAVERSAL_EXAMPLES = 3
TRAVERSAL_REFERENCE = 2000


def write_figures(run, num_examples=10):
    """Writes the run's PNG figures and fills `run.latent`, `run.reconstructions`
    and `run.samples`. The model works on pixels: it carries its preprocessing
    and, if it has one, the latent mixture its samples are drawn from."""
    model, data = run.model, run.data
    seed, out = run.config["seed"], run.directory
    conditional = model.conditional
    test_elbo = run.metrics["test"]["elbo"]

    def labels_of(labels):
        return labels if conditional else None

    subset = stratified_subset(data.y_train, TSNE_POINTS, seed)
    labels = data.y_train[subset]
    means = model.encode(data.x_train[subset], labels=labels_of(labels))[0]
    means = means.reshape(len(means), -1)
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
    reconstructed = model.reconstruct(originals, labels=labels_of(data.y_test[chosen]))
    run.reconstructions = (originals, reconstructed)
    reconstruction = run.metrics["test"]["reconstruction_loss"]
    plots.save(
        plots.reconstructions_figure(
            *run.reconstructions,
            "test images (top) and reconstructions; "
            f"test -log p(x|z) {reconstruction:.1f} nats",
        ),
        os.path.join(out, "reconstructions.png"),
    )

    source = sample_source(model)
    if conditional:
        classes = np.repeat(np.arange(model.num_classes), num_examples)
        samples = model.sample(labels=classes, seed=seed)
        run.samples = samples[::num_examples][:num_examples]
        plots.save(
            plots.images_figure(
                samples,
                num_examples,
                f"samples, {source}, one row per class",
                row_labels=data.class_names,
            ),
            os.path.join(out, "conditioned.png"),
        )
        random_classes = np.random.default_rng(seed).integers(0, model.num_classes, 64)
        prior = model.sample(labels=random_classes, seed=seed)
    else:
        prior = model.sample(64, seed=seed)
        run.samples = prior[:num_examples]
    plots.save(
        plots.images_figure(
            prior, 8, f"samples, {source}, beta={run.config['beta']:g}"
        ),
        os.path.join(out, "samples.png"),
    )

    if means.shape[1] == 2:
        codes = plots.manifold_codes()
        steps = int(np.sqrt(len(codes)))
        decoded = model.decode(codes, labels=labels_of(np.zeros(len(codes), "int32")))
        plots.save(
            plots.images_figure(
                decoded,
                steps,
                "decoded latent grid at normal quantiles 5%-95%"
                + (" (class 0)" if conditional else ""),
            ),
            os.path.join(out, "manifold.png"),
        )

    if data.factors_test is not None and means.shape[1] >= 2:
        # Data made from known factors: what each dimension came to mean.
        chosen = stratified_subset(data.y_test, TRAVERSAL_EXAMPLES, seed)
        label = 0 if conditional else None
        sweeps = traversal.traverse(
            model,
            np.asarray(data.x_test[chosen]),
            label=label,
            reference=np.asarray(data.x_test[:TRAVERSAL_REFERENCE]),
        )
        traversal.write_traversal(
            os.path.join(out, "traversal.png"),
            sweeps,
            [f"test:{index}" for index in chosen],
            "each latent dimension swept from -3 to 3, the others at the image's "
            "code" + (f" (class {data.class_names[0]})" if conditional else ""),
        )


def sample_source(model, prior=False, temperature=None):
    """What `model.sample` draws z from, for titles and messages: `"prior
    N(0, I)"`, `"prior (a learned Gaussian per class)"`, or `"latent mixture
    (30 components per class)"` (the run's, unless `prior`), followed by `"at
    temperature T"` unless T (default: the model's) is 1."""
    mixture = model.latent_mixture
    if mixture is None or prior:
        if model.prior is None:
            source = "prior N(0, I)"
        else:
            source = f"prior ({model.prior.description})"
    else:
        per_class = " per class" if model.conditional else ""
        source = f"latent mixture ({mixture.components} components{per_class})"
    if temperature is None:
        temperature = model.sample_temperature
    if temperature != 1:
        source += f" at temperature {temperature:g}"
    return source
