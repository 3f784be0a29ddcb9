import numpy as np

from keras_vae import checks


class LatentMixture:
    """A Gaussian mixture fitted to a trained model's codes, to sample from.

    A VAE's prior N(0, I) and the codes its encoder gives real images (the
    aggregate posterior) never match exactly: prior draws that land where no
    training image's code lies decode to images the decoder was never trained
    to draw, typically blurred blends. For a conditional model this is worse
    per class: the codes of one class fill only part of the prior, so prior
    draws with that class label often decode to another class. Ex-post
    density estimation (Ghosh et al. 2020) fits a density to the codes after
    training and samples from it instead of the prior; training is unchanged.

    `fit` encodes the given images, fits a Gaussian mixture with full
    covariances to their posterior means (one mixture per class for a
    `ConditionalVAE`, with scikit-learn's `GaussianMixture`), and widens
    every component by the mean posterior variance of those images, so the
    mixture approximates the aggregate posterior sum_i N(mean_i, sigma_i^2).
    Pass it to `sample(..., density=mixture)` of the model, or to
    `keras_vae.evaluation.label_fidelity` and `within_class_diversity`.

    Args:
        weights: Array `(groups, components)`, mixture weights, each row
            summing to 1. A group is a class, or the only group of an
            unconditional model.
        means: Array `(groups, components, latent_dim)`.
        covariances: Array `(groups, components, latent_dim, latent_dim)`,
            symmetric positive definite.
        conditional: Boolean, whether the groups are classes (sample with
            labels) or there is one group (sample with a count).

    Example:

    ```python
    import numpy as np
    import keras_vae

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, 300)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3),
        num_classes=3,
        likelihood="bernoulli",
    )
    cvae.compile(optimizer="adam")
    cvae.fit(x, labels, epochs=1, verbose=0)
    mixture = keras_vae.LatentMixture.fit(cvae, x, labels, components=5)
    images = cvae.sample(labels=np.array([0, 1, 2]), seed=0, density=mixture)
    print(images.shape)  # (3, 8, 8, 1)
    ```
    """

    def __init__(self, weights, means, covariances, conditional):
        weights = np.asarray(weights, dtype="float64")
        means = np.asarray(means, dtype="float64")
        covariances = np.asarray(covariances, dtype="float64")
        if (
            weights.ndim != 2
            or means.shape[:2] != weights.shape
            or means.ndim != 3
            or covariances.shape != means.shape + means.shape[-1:]
        ):
            raise ValueError(
                "LatentMixture expects weights (groups, components), means "
                "(groups, components, latent_dim) and covariances (groups, "
                "components, latent_dim, latent_dim). Received shapes: "
                f"{weights.shape}, {means.shape}, {covariances.shape}"
            )
        if not conditional and len(weights) != 1:
            raise ValueError(
                "An unconditional LatentMixture has one group. Received: "
                f"{len(weights)} groups"
            )
        if np.any(weights < 0) or not np.allclose(weights.sum(axis=1), 1.0):
            raise ValueError("LatentMixture weights must be >= 0 and sum to 1.")
        try:
            self._cholesky = np.linalg.cholesky(covariances)
        except np.linalg.LinAlgError:
            raise ValueError(
                "LatentMixture covariances must be symmetric positive definite."
            ) from None
        self.weights = weights
        self.means = means
        self.covariances = covariances
        self.conditional = bool(conditional)

    @property
    def components(self):
        """Number of mixture components per group."""
        return self.weights.shape[1]

    @property
    def latent_dim(self):
        """Size of the codes."""
        return self.means.shape[-1]

    @classmethod
    def fit(cls, model, x, labels=None, components=30, seed=0, batch_size=256):
        """Fits the mixture to `model`'s codes of `x`.

        Args:
            model: A trained `keras_vae.models.VAE` or `ConditionalVAE`.
            x: Array of inputs in the model's data space (pixels in [0, 1]
                with a preprocessing), typically the training images.
            labels: Array of their class labels: required for a
                `ConditionalVAE`, not accepted for a `VAE`.
            components: Integer, mixture components per class (or in all).
                Every class needs at least this many images. Defaults to
                `30`.
            seed: Integer, seed of the mixture's initialization. Defaults to
                `0`.
            batch_size: Integer, how many images to encode at once.

        Returns:
            A `LatentMixture`.

        Raises:
            TypeError: if `model` is not a keras_vae model.
            ValueError: if labels are missing, given to an unconditional
                model, out of range, or a class has fewer images than
                `components`.
        """
        from sklearn.mixture import GaussianMixture

        from keras_vae.models import VAE, ConditionalVAE

        if not isinstance(model, VAE):
            raise TypeError(
                "LatentMixture.fit needs a keras_vae VAE or ConditionalVAE. "
                f"Received: {type(model).__name__}"
            )
        components = checks.positive_integer("components", components)
        conditional = isinstance(model, ConditionalVAE)
        if conditional and labels is None:
            raise ValueError(
                "LatentMixture.fit needs the labels of `x` for a ConditionalVAE: "
                "it fits one mixture per class."
            )
        if not conditional and labels is not None:
            raise ValueError(
                "LatentMixture.fit received labels for an unconditional VAE; "
                "pass labels only with a ConditionalVAE."
            )
        if conditional:
            labels = checks.class_labels(labels, model.num_classes, count=len(x))
            groups = [labels == k for k in range(model.num_classes)]
        else:
            groups = [np.ones(len(x), dtype=bool)]
        means, scales = model.encode(x, labels=labels, batch_size=batch_size)
        means = np.asarray(means, "float64").reshape(len(means), -1)
        variances = np.asarray(scales, "float64").reshape(len(means), -1) ** 2
        fitted = []
        for index, members in enumerate(groups):
            count = int(members.sum())
            if count < components:
                which = f"class {index}" if conditional else "x"
                raise ValueError(
                    f"LatentMixture.fit needs at least components={components} "
                    f"images per group; {which} has {count}."
                )
            mixture = GaussianMixture(
                components, covariance_type="full", random_state=seed
            ).fit(means[members])
            widening = np.diag(variances[members].mean(axis=0))
            fitted.append(
                (mixture.weights_, mixture.means_, mixture.covariances_ + widening)
            )
        weights, centers, covariances = (
            np.stack(part) for part in zip(*fitted, strict=True)
        )
        return cls(weights, centers, covariances, conditional)

    def sample(self, labels_or_n, seed=None, temperature=1.0):
        """Draws codes from the mixture.

        Args:
            labels_or_n: Array of class labels (one code per label) for a
                conditional mixture; an integer count otherwise.
            seed: Integer or `None`, seed of the draws; the same seed gives the
                same codes.
            temperature: Float >= 0, the factor of every component's spread
                (its covariance times `temperature ** 2`): below 1 the codes
                stay nearer the components' means, 0 gives the means.
                Defaults to `1.0`, the mixture itself.

        Returns:
            NumPy float32 array `(n, latent_dim)`.
        """
        temperature = checks.finite_number("temperature", temperature, 0)
        if self.conditional:
            groups = checks.class_labels(labels_or_n, len(self.weights))
        else:
            if not isinstance(labels_or_n, (int, np.integer)):
                raise ValueError(
                    "An unconditional LatentMixture samples a count of codes. "
                    f"Received: {labels_or_n!r}"
                )
            groups = np.zeros(checks.positive_integer("n", labels_or_n), "int64")
        rng = np.random.default_rng(seed)
        cumulative = np.cumsum(self.weights[groups], axis=1)
        uniform = rng.uniform(size=(len(groups), 1)) * cumulative[:, -1:]
        chosen = np.minimum((uniform > cumulative).sum(axis=1), self.components - 1)
        noise = temperature * rng.standard_normal((len(groups), self.latent_dim))
        codes = self.means[groups, chosen] + np.einsum(
            "nij,nj->ni", self._cholesky[groups, chosen], noise
        )
        return codes.astype("float32")

    def get_config(self):
        """The mixture as JSON-friendly lists (kept in a model's file)."""
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "conditional": self.conditional,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, path):
        """Writes the mixture to an `.npz` file."""
        with open(path, "wb") as file:
            np.savez(
                file,
                weights=self.weights,
                means=self.means,
                covariances=self.covariances,
                conditional=self.conditional,
            )

    @classmethod
    def load(cls, path):
        """Reads a mixture written by `save`.

        Raises:
            ValueError: if the file is not such a mixture.
        """
        try:
            with np.load(path, allow_pickle=False) as arrays:
                return cls(
                    arrays["weights"],
                    arrays["means"],
                    arrays["covariances"],
                    bool(arrays["conditional"]),
                )
        except (KeyError, OSError, ValueError) as error:
            raise ValueError(f"{path} is not a LatentMixture file: {error}") from None
