import keras
import numpy as np

from keras_vae import checks, framework

FEATURE_LAYER = "features"


def compile_classifier(classifier):
    """Compiles a classifier of `train_classifier`, on the backend of this
    process: also one loaded with `compile=False`, since a file's own settings
    (`jit_compile=True` from TensorFlow or JAX) would mean a minute of
    `torch.compile` on PyTorch."""
    classifier.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return classifier


def train_classifier(
    x, labels, num_classes, epochs=3, batch_size=128, seed=0, verbose=0
):
    """Trains the small convnet that judges conditional samples.

    Two 3x3 convolutions (32 and 64 filters, each followed by 2x2 max
    pooling), a Dense layer of 128 units named `"features"` (the space in
    which `within_class_diversity` measures distances) and a softmax over
    the classes. Trained with Adam on `(x, labels)`.

    Args:
        x: Array of images `(n, height, width[, channels])`, the scale the
            samples will be given in (e.g. pixels in [0, 1]).
        labels: Array of integer labels in `[0, num_classes)`.
        num_classes: Integer, number of classes, `>= 2`.
        epochs: Integer, training epochs. Defaults to `3`.
        batch_size: Integer. Defaults to `128`.
        seed: Integer, seed of initialization and shuffling. Defaults to `0`.
        verbose: Integer, Keras `fit` verbosity. Defaults to `0`.

    Returns:
        A compiled `keras.Model` mapping images to class probabilities.

    Raises:
        ValueError: if the images are not 2-D (with an optional channel
            axis) or the labels are out of range or not one per image.

    Example:

    ```python
    import numpy as np
    import keras_vae

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    x = rng.uniform(size=(256, 8, 8, 1)).astype("float32") * 0.2
    x[labels == 1, :4] += 0.8  # class 1: bright top half
    classifier = keras_vae.evaluation.train_classifier(x, labels, 2, epochs=5)
    print(classifier.evaluate(x, labels, verbose=0, return_dict=True)["accuracy"])
    ```
    """
    x = np.asarray(x, dtype="float32")
    num_classes = checks.positive_integer("num_classes", num_classes, minimum=2)
    labels = checks.class_labels(labels, num_classes, count=len(x))
    if x.ndim not in (3, 4):
        raise ValueError(
            "train_classifier expects images of shape (n, height, width) or (n, "
            f"height, width, channels). Received: x.shape={x.shape}"
        )
    framework.set_random_seed(seed)
    inputs = keras.Input(x.shape[1:], name="image")
    h = inputs if x.ndim == 4 else keras.layers.Reshape(x.shape[1:] + (1,))(inputs)
    for filters in (32, 64):
        h = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D(2, padding="same")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(128, activation="relu", name=FEATURE_LAYER)(h)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="class")(h)
    classifier = compile_classifier(
        keras.Model(inputs, outputs, name="sample_classifier")
    )
    classifier.fit(x, labels, epochs=epochs, batch_size=batch_size, verbose=verbose)
    return classifier


def label_fidelity(
    model,
    classifier,
    num_per_class=100,
    seed=0,
    to_pixels=None,
    density=None,
    temperature=1.0,
):
    """Share of conditioned samples that the classifier assigns to their class.

    Draws `num_per_class` prior samples of every class from a
    `ConditionalVAE`, maps them to the classifier's scale with `to_pixels`,
    and counts how many the classifier labels with the class they were
    asked for. Read it beside the classifier's accuracy on real test images:
    samples cannot score much above it.

    Args:
        model: A trained `keras_vae.models.ConditionalVAE`.
        classifier: A Keras classifier of images, e.g. from
            `train_classifier`, whose output has `model.num_classes` columns.
        num_per_class: Integer, samples per class. Defaults to `100`.
        seed: Integer, seed of the prior draws. Defaults to `0`.
        to_pixels: Callable mapping the model's outputs (likelihood means in
            the model's data space) to the classifier's input scale, e.g.
            `Preprocessing.to_pixels`. Defaults to the identity.
        density: `None` to draw z from the prior, or a
            `keras_vae.LatentMixture` fitted to the model's codes.
        temperature: Float >= 0, the draws' temperature (`sample`'s).
            Defaults to `1.0`.

    Returns:
        Tuple `(overall, per_class)`: a float in [0, 1] and a NumPy array
        `(num_classes,)`.

    Raises:
        TypeError: if `model` is not a `ConditionalVAE`.
        ValueError: if the classifier's classes do not match the model's.

    Example:

    ```python
    import numpy as np
    import keras_vae

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, 200)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3),
        num_classes=3,
        likelihood="bernoulli",
    )
    cvae.compile(optimizer="adam")
    cvae.fit(x, labels, epochs=1, verbose=0)
    classifier = keras_vae.evaluation.train_classifier(x, labels, 3, epochs=1)
    overall, per_class = keras_vae.evaluation.label_fidelity(cvae, classifier)
    print(per_class.shape)  # (3,)
    ```
    """
    samples, requested = _samples(
        model, classifier, num_per_class, seed, to_pixels, density, temperature
    )
    return classified_as(classifier, samples, requested, model.num_classes)


def classified_as(classifier, images, labels, num_classes):
    """Share of `images` that `classifier` assigns to their `labels`.

    Returns:
        Tuple `(overall, per_class)`: a float and a NumPy array
        `(num_classes,)` (NaN for a class without images).
    """
    predicted = np.argmax(classifier.predict(images, verbose=0), axis=-1)
    hits = predicted == labels
    per_class = np.array(
        [
            hits[labels == k].mean() if np.any(labels == k) else np.nan
            for k in range(num_classes)
        ]
    )
    return float(hits.mean()), per_class


def within_class_diversity(
    model,
    classifier,
    x_real,
    labels_real,
    num_per_class=100,
    seed=0,
    to_pixels=None,
    density=None,
    temperature=1.0,
):
    """How varied conditioned samples are, relative to real images of their class.

    For every class: the mean pairwise Euclidean distance between the
    classifier's `"features"` activations of `num_per_class` samples of that
    class, divided by the same statistic over up to `num_per_class` real
    images of the class. 1 means as varied as the data; a model whose samples
    "lack variation" (the original study's conditional VAE) scores well
    below 1. Overall is the mean of the classes' ratios.

    Args:
        model: A trained `keras_vae.models.ConditionalVAE`.
        classifier: A Keras classifier with a layer named `"features"`, e.g.
            from `train_classifier`.
        x_real: Array of real images in the classifier's scale (test images).
        labels_real: Array of their integer labels.
        num_per_class: Integer, samples and real images per class, `>= 2`.
            Defaults to `100`.
        seed: Integer, seed of the prior draws and of the real subset.
            Defaults to `0`.
        to_pixels: Callable mapping the model's outputs to the classifier's
            scale. Defaults to the identity.
        density: `None` to draw z from the prior, or a
            `keras_vae.LatentMixture` fitted to the model's codes.
        temperature: Float >= 0, the draws' temperature (`sample`'s).
            Defaults to `1.0`.

    Returns:
        Tuple `(overall, per_class)`: a float and a NumPy array
        `(num_classes,)` of ratios.

    Raises:
        TypeError: if `model` is not a `ConditionalVAE`.
        ValueError: if the classifier has no `"features"` layer, or a class
            has fewer than 2 real images.

    Example:

    ```python
    import numpy as np
    import keras_vae

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, 200)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3),
        num_classes=3,
        likelihood="bernoulli",
    )
    cvae.compile(optimizer="adam")
    cvae.fit(x, labels, epochs=1, verbose=0)
    classifier = keras_vae.evaluation.train_classifier(x, labels, 3, epochs=1)
    overall, per_class = keras_vae.evaluation.within_class_diversity(
        cvae, classifier, x, labels, num_per_class=20
    )
    print(per_class.shape)  # (3,): samples' spread / real images' spread
    ```
    """
    checks.positive_integer("num_per_class", num_per_class, minimum=2)
    checks.class_labels(labels_real, _conditional(model).num_classes, len(x_real))
    samples, requested = _samples(
        model, classifier, num_per_class, seed, to_pixels, density, temperature
    )
    return spread_ratios(
        classifier,
        samples,
        requested,
        x_real,
        labels_real,
        model.num_classes,
        num_per_class,
        seed,
    )


def spread_ratios(
    classifier, images, labels, x_real, labels_real, num_classes, num_per_class, seed
):
    """Per class: mean pairwise feature distance of up to `num_per_class`
    `images` over that of as many real images of the class.

    Returns:
        Tuple `(overall, per_class)`: the mean of the classes' ratios and a
        NumPy array `(num_classes,)` (NaN for a class with fewer than 2
        `images`).
    """
    try:
        features = keras.Model(
            classifier.inputs, classifier.get_layer(FEATURE_LAYER).output
        )
    except ValueError:
        raise ValueError(
            f"within_class_diversity needs a classifier with a layer named "
            f"'{FEATURE_LAYER}' (train_classifier builds one)."
        ) from None
    x_real = np.asarray(x_real, dtype="float32")
    labels_real = checks.class_labels(labels_real, num_classes, len(x_real))
    rng = np.random.default_rng(seed)
    sample_features = features.predict(images, verbose=0)
    ratios = []
    for k in range(num_classes):
        real = np.flatnonzero(labels_real == k)
        if len(real) < 2:
            raise ValueError(
                f"Class {k} has {len(real)} real images; within_class_diversity "
                "needs at least 2 of every class."
            )
        real = rng.choice(real, min(num_per_class, len(real)), replace=False)
        real_spread = _mean_pairwise_distance(features.predict(x_real[real], verbose=0))
        judged = sample_features[labels == k][:num_per_class]
        if len(judged) < 2 or real_spread <= 0:
            ratios.append(np.nan)
            continue
        ratios.append(_mean_pairwise_distance(judged) / real_spread)
    ratios = np.array(ratios)
    return float(np.nanmean(ratios)), ratios


def _conditional(model):
    from keras_vae.models import ConditionalVAE

    if not isinstance(model, ConditionalVAE):
        raise TypeError(
            "Label fidelity and within-class diversity judge a ConditionalVAE's "
            f"conditioned samples. Received: {type(model).__name__}"
        )
    return model


def _samples(model, classifier, num_per_class, seed, to_pixels, density, temperature):
    _conditional(model)
    num_per_class = checks.positive_integer("num_per_class", num_per_class)
    classes = classifier.output_shape[-1]
    if classes != model.num_classes:
        raise ValueError(
            f"The classifier predicts {classes} classes; the model has "
            f"num_classes={model.num_classes}."
        )
    requested = np.repeat(np.arange(model.num_classes), num_per_class)
    samples = model.sample(
        labels=requested,
        seed=seed,
        density=density,
        prior=density is None,
        raw=to_pixels is not None,
        temperature=temperature,
    )
    if to_pixels is not None:
        samples = to_pixels(samples)
    return np.asarray(samples, dtype="float32"), requested


def _mean_pairwise_distance(features):
    features = np.asarray(features, dtype="float64")
    squared = np.sum(features**2, axis=1)
    distances = squared[:, None] + squared[None] - 2.0 * features @ features.T
    distances = np.sqrt(np.maximum(distances, 0.0))
    n = len(features)
    return float(distances.sum() / (n * (n - 1)))
