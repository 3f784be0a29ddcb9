"""Anomaly and out-of-distribution scores measured on Fashion-MNIST.

    python benchmarks/anomaly.py far [--backend jax]     # two `keras-vae train` runs
    python benchmarks/anomaly.py far-seeds [--seeds 1 2 3 4]  # dose, other trainings
    python benchmarks/anomaly.py cvae                    # the CVAE as a classifier
    python benchmarks/anomaly.py one-class [--classes 0 1 ...]
    python benchmarks/anomaly.py one-class-cvae --backend tensorflow [--classes ...]
    python benchmarks/anomaly.py one-class-combinations --backend tensorflow
    python benchmarks/anomaly.py one-class-neighbours    # one-class's VAEs
    python benchmarks/anomaly.py cost [--repeats 5]      # seconds to score 10,000
    python benchmarks/anomaly.py markdown                # rewrite the guide's tables

- far: the default run (`keras-vae train --dataset fashion_mnist`) and a
  Bernoulli run (`--likelihood bernoulli --preprocessing scale`), each
  calibrated for knn too (`keras-vae calibrate RUN --methods dose elbo
  complexity knn`) and scoring its test split against the generated far-OOD
  sets; AUROC of every method.
- far-seeds: the same two commands trained again with `--seed S`, each
  calibrated as `keras-vae train` does (`keras-vae calibrate RUN`, run
  again so that a run trained by an older version has today's detector);
  AUROC of the default method against every set: how much a target met on
  one training depends on it.
- cvae: `keras-vae train` of the original conditional model
  (`ORIGINAL_CVAE`); accuracy of argmax p(y|x) on the test split, and the
  marginal scores against the far-OOD sets.
- one-class: for each class, a VAE with the library's defaults trained on the
  other nine classes, calibrated on their validation split, scores all test
  images; AUROC of the held-out class against the rest, beside scikit-learn
  baselines on the same pixels and a plain autoencoder of the same
  architecture trained with squared error.
- one-class-cvae: the same held-out classes, the original conv CVAE
  (`ORIGINAL_CVAE`'s networks and settings) trained
  on the nine classes with their labels, calibrated on their validation split
  without labels, scores the test images without labels: the marginal
  scores and the entropy of its class posterior p(y|x).
- one-class-combinations: on one-class-cvae's models (run it first), scores
  that combine the CVAE's evidence, each fitted on the validation split and
  judged on the test split: Fisher's combination of the `elbo` and
  `class_entropy` p-values, a Gaussian mixture of the DoSE statistics with
  the log entropy, and the mean distance to the 5 nearest validation images
  in the space of the nine classes' -ELBOs (the class profile). Measured to
  choose a method, not offered as one.
- one-class-neighbours: on one-class's VAEs (kept in its run folder, trained
  when missing), the mean distance to the 5 nearest codes (posterior means)
  of the training images, of 10,000 of them, of the validation images, to
  the 5 nearest training images in the space of the codes and the DoSE
  statistics (the `knn` score before the hidden features), and the
  library's `knn` score (the 5 nearest training images in the space of the
  encoder's hidden features and the DoSE statistics), calibrated with all
  training images.
- cost: median seconds to score the 10,000 test images with the default
  method (dose) on the default run, after one warm-up call.

Every part adds its results to benchmarks/anomaly_results.json; `markdown`
writes the tables of docs/guides/anomalies.md from it.
"""

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import results_file  # noqa: E402

RESULTS = os.path.join(HERE, "anomaly_results.json")
PAGE = os.path.join(ROOT, "docs", "guides", "anomalies.md")
RUNS = os.path.join(tempfile.gettempdir(), "keras-vae-anomaly-runs")
# The original study's conditional model, whose numbers the guide reports
# (`--model cvae`'s defaults before 2026-12-03).
ORIGINAL_CVAE = ["--model", "cvae", "--likelihood", "gaussian", "--prior", "normal"]
ORIGINAL_CVAE += ["--no-condition-all-layers"]
FAR_RUNS = {
    "default": [],
    "bernoulli": ["--likelihood", "bernoulli", "--preprocessing", "scale"],
}


def _train(name, flags, backend):
    from runs import fashion_run

    return fashion_run(os.path.join(RUNS, name), flags, backend)


def far(backend):
    from keras_vae import anomaly
    from keras_vae.datasets import OUTLIER_SETS, outlier_images
    from keras_vae.experiments import inference

    table = {}
    for name, flags in FAR_RUNS.items():
        folder = _train(name, flags, backend)
        # What `train` calibrates, and knn, as a user adds it.
        methods = ["dose", "elbo", "complexity", "knn"]
        subprocess.run(
            [sys.executable, "-m", "keras_vae", "calibrate", folder]
            + ["--backend", backend, "--methods", *methods],
            check=True,
        )
        run = inference.load_run(folder)
        test, _ = run.split("test")
        normal = anomaly.scores(run.model, test)
        table[name] = {}
        for outliers in OUTLIER_SETS:
            images = outlier_images(outliers, run.image_shape, images=test)
            scores = anomaly.scores(run.model, images)
            table[name][outliers] = {
                method: anomaly.detection_metrics(normal[method], scores[method])
                for method in scores
            }
            print(
                name,
                outliers,
                {m: round(v["auroc"], 3) for m, v in table[name][outliers].items()},
                flush=True,
            )
        table[name]["test_flagged"] = float(run.model.flag_anomalies(test).mean())
    results_file.add(
        RESULTS, "far", {"backend": backend, "runs": table, "date": _today()}
    )


def far_seeds(backend, seeds):
    from keras_vae import anomaly
    from keras_vae.datasets import OUTLIER_SETS, outlier_images
    from keras_vae.experiments import inference

    results = results_file.load(RESULTS).get("far_seeds", {"runs": {}})
    for name, flags in FAR_RUNS.items():
        for seed in seeds:
            folder = _train(
                f"{name}-seed-{seed}", [*flags, "--seed", str(seed)], backend
            )
            subprocess.run(
                [sys.executable, "-m", "keras_vae", "calibrate", folder]
                + ["--backend", backend],
                check=True,
            )
            run = inference.load_run(folder)
            test, _ = run.split("test")
            method = anomaly.DEFAULT_METHOD
            normal = anomaly.score(run.model, test, method=method)
            row = {
                outliers: anomaly.detection_metrics(
                    normal,
                    anomaly.score(
                        run.model,
                        outlier_images(outliers, run.image_shape, images=test),
                        method=method,
                    ),
                )["auroc"]
                for outliers in OUTLIER_SETS
            }
            print(name, seed, {k: round(v, 3) for k, v in row.items()}, flush=True)
            results["runs"].setdefault(name, {})[str(seed)] = row
    results.update(backend=backend, method=anomaly.DEFAULT_METHOD, date=_today())
    results_file.add(RESULTS, "far_seeds", results)


def cvae(backend):
    import numpy as np

    from keras_vae import anomaly
    from keras_vae.datasets import OUTLIER_SETS, outlier_images
    from keras_vae.experiments import inference

    run = inference.load_run(_train("cvae", ORIGINAL_CVAE, backend))
    test, labels = run.split("test")
    posteriors = anomaly.class_posteriors(run.model, test)
    accuracy = float((posteriors.argmax(-1) == labels).mean())
    normal = anomaly.scores(run.model, test, methods=("dose", "elbo", "complexity"))
    table = {}
    for outliers in OUTLIER_SETS:
        images = outlier_images(outliers, run.image_shape, images=test)
        scores = anomaly.scores(run.model, images, methods=tuple(normal))
        table[outliers] = {
            method: anomaly.detection_metrics(normal[method], scores[method])["auroc"]
            for method in scores
        }
    print("cvae accuracy", accuracy, table)
    results_file.add(
        RESULTS,
        "cvae",
        {
            "backend": backend,
            "date": _today(),
            "accuracy": accuracy,
            "auroc": table,
            "per_class_accuracy": [
                float((posteriors.argmax(-1)[labels == k] == k).mean())
                for k in range(10)
            ],
        },
    )
    del np


def one_class(backend, classes, epochs):
    import keras
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    import keras_vae
    from keras_vae import anomaly, defaults
    from keras_vae.datasets import load

    data = load("fashion_mnist")
    results = results_file.load(RESULTS).get(
        "one_class", {"backend": backend, "classes": {}}
    )
    for held_out in classes:
        x_train, _, x_validation = _nine_classes(data, held_out)
        auroc = functools.partial(_auroc, held_out=data.y_test == held_out)
        started = time.perf_counter()
        row = {}

        vae = _one_class_vae(data, held_out, x_train, epochs)
        anomaly.calibrate(vae, x_validation, reference=x_train)
        for method, scores in anomaly.scores(vae, data.x_test).items():
            row[f"vae {method}"] = auroc(scores)
        preprocessing = vae.preprocessing
        inputs = preprocessing.transform(x_train)
        # A plain autoencoder: the same networks, z = the encoder's mean.
        keras.utils.set_random_seed(0)
        encoder, decoder = keras_vae.architectures.mlp(
            data.x_train.shape[1:], defaults.LATENT_DIM
        )
        image = keras.Input(data.x_train.shape[1:])
        autoencoder = keras.Model(image, decoder(encoder(image)[0]))
        autoencoder.compile(
            optimizer=keras.optimizers.Adam(defaults.LEARNING_RATE), loss="mse"
        )
        autoencoder.fit(
            inputs, inputs, epochs=epochs, batch_size=defaults.BATCH_SIZE, verbose=0
        )
        test_inputs = preprocessing.transform(data.x_test)
        error = np.square(autoencoder.predict(test_inputs, verbose=0) - test_inputs)
        row["autoencoder squared error"] = auroc(error.reshape(len(error), -1).sum(1))
        flat, test_flat = (
            x_train.reshape(len(x_train), -1),
            data.x_test.reshape(len(data.x_test), -1),
        )
        pca = PCA(defaults.LATENT_DIM, random_state=0).fit(flat)
        rebuilt = pca.inverse_transform(pca.transform(test_flat))
        row["PCA reconstruction error"] = auroc(np.square(rebuilt - test_flat).sum(1))
        forest = IsolationForest(random_state=0).fit(flat)
        row["IsolationForest"] = auroc(-forest.score_samples(test_flat))
        neighbours = LocalOutlierFactor(novelty=True, algorithm="brute").fit(flat)
        row["LocalOutlierFactor"] = auroc(-neighbours.score_samples(test_flat))
        _record("one_class", results, held_out, row, started, backend, epochs)


def _auroc(scores, held_out):
    """AUROC of `scores` for telling the held-out class (a boolean mask of
    the test images) from the rest."""
    from keras_vae import anomaly

    return anomaly.detection_metrics(scores[~held_out], scores[held_out])["auroc"]


def _nine_classes(data, held_out):
    """The training split without the held-out class, divided as `keras-vae
    train` divides it: `(x_train, y_train, x_validation)`."""
    from keras_vae.experiments.splits import split

    keep = data.y_train != held_out
    x, y = data.x_train[keep], data.y_train[keep]
    train_index, validation_index = split(y, {"validation_fraction": 0.1, "seed": 0})
    return x[train_index], y[train_index], x[validation_index]


def _one_class_vae(data, held_out, x_train, epochs, seed=0):
    """The one-class part's VAE of the nine other classes: trained with the
    library's defaults from `seed`, or loaded from the run folder where it
    was kept."""
    import keras

    import keras_vae
    from keras_vae import defaults
    from keras_vae.datasets import Preprocessing

    folder = os.path.join(RUNS, "one-class")
    name = f"held-out-{held_out}-{epochs}-epochs"
    path = os.path.join(folder, name + (f"-seed-{seed}" if seed else "") + ".keras")
    if os.path.isfile(path):
        return keras.saving.load_model(path)
    keras.utils.set_random_seed(seed)
    preprocessing = Preprocessing.fit("standardize", x_train)
    encoder, decoder = keras_vae.architectures.mlp(
        data.x_train.shape[1:], defaults.LATENT_DIM
    )
    vae = keras_vae.models.VAE(encoder, decoder, preprocessing=preprocessing, seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(defaults.LEARNING_RATE))
    vae.fit(
        preprocessing.transform(x_train),
        epochs=epochs,
        batch_size=defaults.BATCH_SIZE,
        verbose=0,
    )
    os.makedirs(folder, exist_ok=True)
    vae.save(path)
    return vae


NEIGHBOUR_ROWS = (
    "vae elbo",
    "5-NN, all training codes",
    "5-NN, 10,000 training codes",
    "5-NN, validation codes",
    "5-NN, codes and statistics of all training images",
    "vae knn: hidden features and statistics of all training images",
)


def _neighbours_key(seed):
    """The results' key of `one-class-neighbours --seed`."""
    return "one_class_neighbours" + (f"_seed_{seed}" if seed else "")


def one_class_neighbours(backend, classes, epochs, seed=0):
    """Distances in the VAE's latent space as a one-class score; the VAEs
    trained from `seed` (0: those of the one-class table)."""
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    from keras_vae import anomaly
    from keras_vae.datasets import load

    data = load("fashion_mnist")
    key = _neighbours_key(seed)
    results = results_file.load(RESULTS).get(key, {"classes": {}})
    for held_out in classes:
        x_train, _, x_validation = _nine_classes(data, held_out)
        auroc = functools.partial(_auroc, held_out=data.y_test == held_out)
        started = time.perf_counter()
        vae = _one_class_vae(data, held_out, x_train, epochs, seed)
        chosen = np.sort(np.random.default_rng(0).permutation(len(x_train))[:10000])

        def codes(images, vae=vae):
            mean, _ = vae.encode(images)
            return mean.reshape(len(mean), -1)

        def statistics(images, vae=vae):
            values = anomaly.summary_statistics(vae, images)
            return np.stack(list(values.values()), 1)

        def distance(reference, test):
            finder = NearestNeighbors(n_neighbors=5).fit(reference)
            return finder.kneighbors(test)[0].mean(1)

        train, validation, test = (
            codes(x_train),
            codes(x_validation),
            codes(data.x_test),
        )
        test_statistics = statistics(data.x_test)
        # The knn score before the hidden features: codes and statistics,
        # standardized, the statistics scaled by sqrt(d / s) to weigh as much.
        both = np.concatenate([train, statistics(x_train)], 1)
        center, scale = both.mean(0), both.std(0)
        weights = np.ones(both.shape[1])
        weights[train.shape[1] :] = np.sqrt(train.shape[1] / test_statistics.shape[1])

        def standardized(values, center=center, scale=scale, weights=weights):
            return (values - center) / scale * weights

        # The library's knn score, calibrated as `keras-vae calibrate` does:
        # thresholds on the validation split, the training images as reference.
        anomaly.calibrate(vae, x_validation, methods=("knn",), reference=x_train)
        values = [
            test_statistics[:, 0] + test_statistics[:, 1],  # rate + distortion
            distance(train, test),
            distance(train[chosen], test),
            distance(validation, test),
            distance(
                standardized(both),
                standardized(np.concatenate([test, test_statistics], 1)),
            ),
            anomaly.score(vae, data.x_test, method="knn"),
        ]
        row = dict(zip(NEIGHBOUR_ROWS, map(auroc, values), strict=True))
        results["seed"] = seed
        _record(key, results, held_out, row, started, backend, epochs)


def _today():
    """The date a result is measured, which the docs show beside it."""
    return time.strftime("%Y-%m-%d")


def _record(key, results, held_out, row, started, backend, epochs):
    """Prints one held-out class's AUROCs and adds them to the results file."""
    print(
        held_out,
        f"{time.perf_counter() - started:.0f} s",
        {k: round(v, 3) for k, v in row.items()},
        flush=True,
    )
    results["classes"][str(held_out)] = row
    results.update(backend=backend, epochs=epochs, date=_today())
    results_file.add(RESULTS, key, results)


CVAE_METHODS = ("dose", "elbo", "class_entropy")


def one_class_cvae(backend, classes, epochs):
    import keras
    import numpy as np

    import keras_vae
    from keras_vae import anomaly, defaults
    from keras_vae.datasets import Preprocessing, load

    data = load("fashion_mnist")
    results = results_file.load(RESULTS).get("one_class_cvae", {"classes": {}})
    folder = os.path.join(RUNS, "one-class-cvae")
    os.makedirs(folder, exist_ok=True)
    for held_out in classes:
        x_train, y_train, x_validation = _nine_classes(data, held_out)
        # The nine classes as 0..8.
        labels = np.where(y_train > held_out, y_train - 1, y_train).astype("int32")
        started = time.perf_counter()
        path = os.path.join(folder, f"held-out-{held_out}-{epochs}-epochs.keras")
        if os.path.isfile(path):
            model = keras.saving.load_model(path)
        else:
            keras.utils.set_random_seed(0)
            preprocessing = Preprocessing.fit("standardize", x_train)
            encoder, decoder = keras_vae.architectures.conv_conditional(
                data.x_train.shape[1:], defaults.LATENT_DIM, 9
            )
            model = keras_vae.models.ConditionalVAE(
                encoder, decoder, num_classes=9, preprocessing=preprocessing, seed=0
            )
            model.compile(optimizer=keras.optimizers.Adam(defaults.LEARNING_RATE))
            model.fit(
                preprocessing.transform(x_train),
                labels,
                epochs=epochs,
                batch_size=defaults.BATCH_SIZE,
                verbose=0,
            )
            model.save(path)
        anomaly.calibrate(model, x_validation, methods=CVAE_METHODS)
        scores = anomaly.scores(model, data.x_test, methods=CVAE_METHODS)
        held_out_mask = data.y_test == held_out
        row = {
            f"cvae {method}": _auroc(values, held_out_mask)
            for method, values in scores.items()
        }
        _record("one_class_cvae", results, held_out, row, started, backend, epochs)


def _profile(model, x):
    """Per image: the -ELBO under each class (n, C) and the DoSE statistics
    at the most probable class."""
    import numpy as np

    from keras_vae.anomaly import statistics as stats_lib

    per_class = [
        stats_lib.summary_statistics(model, x, np.full(len(x), k, "int32"))
        for k in range(model.num_classes)
    ]
    elbos = np.stack([s["rate"] + s["distortion"] for s in per_class], 1)
    best = elbos.argmin(1)
    chosen = {
        name: np.choose(best, [s[name] for s in per_class])
        for name in stats_lib.STATISTICS
    }
    return elbos.astype("float64"), chosen


def one_class_combinations(classes, epochs):
    import keras
    import numpy as np
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import NearestNeighbors

    from keras_vae.anomaly import statistics as stats_lib
    from keras_vae.datasets import load

    data = load("fashion_mnist")
    results = results_file.load(RESULTS).get("one_class_combinations", {"classes": {}})
    folder = os.path.join(RUNS, "one-class-cvae")

    def standardize(train, test):
        center, scale = train.mean(0), train.std(0) + 1e-9
        return (train - center) / scale, (test - center) / scale

    def signed_log(values):
        return np.sign(values) * np.log1p(np.abs(values))

    for held_out in classes:
        path = os.path.join(folder, f"held-out-{held_out}-{epochs}-epochs.keras")
        if not os.path.isfile(path):
            sys.exit(f"{path} is missing: run `one-class-cvae --epochs {epochs}` first")
        _, _, x_validation = _nine_classes(data, held_out)
        started = time.perf_counter()
        model = keras.saving.load_model(path)
        parts = {}
        for name, x in [
            ("validation", x_validation),
            ("test", data.x_test),
        ]:
            elbos, chosen = _profile(model, x)
            marginal = stats_lib.marginal(elbos)
            profile = np.c_[elbos - elbos.min(1, keepdims=True), marginal]
            more = np.stack([chosen[k] for k in ("rate", "distortion", "code_norm")], 1)
            with_statistics = np.c_[profile, more]
            parts[name] = {
                "with statistics": signed_log(with_statistics),
                "elbo": marginal,
                "entropy": stats_lib.class_entropy(elbos),
                "statistics": np.stack([chosen[k] for k in stats_lib.STATISTICS], 1),
                "profile": signed_log(profile),
            }
        validation, test = parts["validation"], parts["test"]
        auroc = functools.partial(_auroc, held_out=data.y_test == held_out)

        def p_values(reference, values):
            ordered = np.sort(reference)
            return 1 - np.searchsorted(ordered, values) / (len(ordered) + 1)

        fisher = -np.log(p_values(validation["elbo"], test["elbo"])) - np.log(
            p_values(validation["entropy"], test["entropy"])
        )
        train_dose, test_dose = standardize(
            np.c_[validation["statistics"], np.log(validation["entropy"] + 1e-6)],
            np.c_[test["statistics"], np.log(test["entropy"] + 1e-6)],
        )
        mixture = GaussianMixture(5, covariance_type="full", random_state=0)
        mixture.fit(train_dose)
        train_profile, test_profile = standardize(
            validation["profile"], test["profile"]
        )
        neighbours = NearestNeighbors(n_neighbors=5).fit(train_profile)
        train_more, test_more = standardize(
            validation["with statistics"], test["with statistics"]
        )
        more_neighbours = NearestNeighbors(n_neighbors=5).fit(train_more)
        row = {
            "cvae elbo": auroc(test["elbo"]),
            "cvae class_entropy": auroc(test["entropy"]),
            "Fisher (elbo, class_entropy)": auroc(fisher),
            "DoSE statistics + log entropy": auroc(-mixture.score_samples(test_dose)),
            "5-NN in the class profile": auroc(
                neighbours.kneighbors(test_profile)[0].mean(1)
            ),
            "5-NN in the profile and rate, distortion, code norm": auroc(
                more_neighbours.kneighbors(test_more)[0].mean(1)
            ),
        }
        backend = keras.backend.backend()
        _record(
            "one_class_combinations", results, held_out, row, started, backend, epochs
        )


def cost(repeats):
    import numpy as np

    from keras_vae import anomaly
    from keras_vae.experiments import inference

    run = inference.load_run(os.path.join(RUNS, "default"))
    test, _ = run.split("test")
    anomaly.score(run.model, test[:512])
    seconds = {}
    for method in anomaly.applicable_methods(run.model):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            anomaly.score(run.model, test, method=method)
            times.append(time.perf_counter() - start)
        seconds[method] = statistics.median(times)
        print(method, seconds[method], flush=True)
    import keras

    results_file.add(
        RESULTS,
        "cost",
        {
            "backend": keras.backend.backend(),
            "date": _today(),
            "images": len(test),
            "repeats": repeats,
            "seconds": seconds,
        },
    )
    del np


def _table(header, rows):
    lines = [
        "| " + " | ".join(header) + " |",
        "|---" + "|---:" * (len(header) - 1) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _class_table(rows, class_names):
    """The AUROCs per held-out class and their means, as a markdown table.

    Returns:
        Tuple `(columns, means, table)`.
    """
    columns = list(next(iter(rows.values())))
    means = {k: statistics.mean(r[k] for r in rows.values()) for k in columns}
    body = [
        [class_names[int(c)]] + [f"{rows[c][k]:.3f}" for k in columns]
        for c in sorted(rows, key=int)
    ]
    body.append(["**mean**"] + [f"**{means[k]:.3f}**" for k in columns])
    return columns, means, _table(["held-out class", *columns], body)


def _knn_of_the_same_vaes(results, baseline):
    """The sentence that points from the one-class table to the knn score,
    measured on the same VAEs by one-class-neighbours when this table has no
    knn column (measured before the method existed)."""
    rows = results.get("one_class_neighbours", {}).get("classes", {})
    one_class = results.get("one_class", {}).get("classes", {})
    if len(rows) != 10 or any("vae knn" in r for r in one_class.values()):
        return ""
    key = next((k for k in next(iter(rows.values())) if k.startswith("vae knn")), None)
    if key is None:
        return ""
    mean = statistics.mean(r[key] for r in rows.values())
    return (
        f" The `knn` score of the same VAEs (`one-class-neighbours`, below): "
        f"{mean:.3f}, difference {mean - baseline:+.3f}."
    )


def _far_seeds_text(results):
    """The default method's AUROC on the far-OOD sets over trainings: the
    `far` table's runs (seed 0) and `far-seeds`'."""
    entry = results["far_seeds"]
    method = entry["method"]
    rows = []
    worst = {}
    for name, by_seed in entry["runs"].items():
        seeds = dict(by_seed)
        far_run = results.get("far", {}).get("runs", {}).get(name)
        if far_run is not None:
            seeds["0"] = {
                s: far_run[s][method]["auroc"] for s in seeds[next(iter(seeds))]
            }
        for seed in sorted(seeds, key=int):
            sets = seeds[seed]
            rows.append(
                [f"`{' '.join(FAR_RUNS[name])}`" if FAR_RUNS[name] else "none", seed]
                + [f"{v:.3f}" for v in sets.values()]
            )
            worst[name] = min(worst.get(name, 1.0), min(sets.values()))
    sets = list(next(iter(entry["runs"].values())).values())[0]
    lowest = ", ".join(f"{name} {value:.3f}" for name, value in worst.items())
    return (
        f"`python benchmarks/anomaly.py far-seeds` ({entry['date']}, "
        f"{entry['backend']}; seed 0: the `far` table above): AUROC of `{method}`, "
        "the test split against each set, for `keras-vae train --dataset "
        "fashion_mnist [flags] --seed S`:\n\n"
        + _table(["flags", "seed", *sets], rows)
        + f"\n\nLowest AUROC over trainings and sets: {lowest}."
    )


def _other_seeds(results):
    """Mean AUROCs of `one-class-neighbours --seed S`: the same measurement on
    VAEs trained again from another seed."""
    lines = []
    for key in sorted(k for k in results if k.startswith("one_class_neighbours_seed_")):
        entry = results[key]
        if len(entry["classes"]) != 10:
            continue
        rows = entry["classes"].values()
        means = {k: statistics.mean(r[k] for r in rows) for k in next(iter(rows))}
        lines.append(
            f"`--seed {entry['seed']}` ({entry['date']}, the ten VAEs trained again "
            "from another seed), mean AUROC: "
            + ", ".join(f"{name} {value:.3f}" for name, value in means.items())
            + "."
            + _target(results, max(means.values()))
        )
    return "".join("\n\n" + line for line in lines)


def _target(results, best):
    """The sentence that compares a mean AUROC with the issue's target: the
    best scikit-learn baseline's mean + 0.03."""
    baselines = results.get("one_class", {}).get("classes", {})
    if len(baselines) != 10:
        return ""
    baseline = max(
        statistics.mean(r[k] for r in baselines.values())
        for k in ("PCA reconstruction error", "IsolationForest", "LocalOutlierFactor")
    )
    verdict = "reaches" if best >= baseline + 0.03 else "is below"
    return (
        f" It {verdict} the best scikit-learn baseline + 0.03 "
        f"({baseline + 0.03:.3f}), the target of a method."
    )


def markdown():
    from page_blocks import replace_between

    from keras_vae.datasets.loading import CLASS_NAMES

    class_names = CLASS_NAMES["fashion_mnist"]
    results = results_file.load(RESULTS)
    if "far" in results:
        far_results = results["far"]
        parts = []
        for name, table in far_results["runs"].items():
            sets = [s for s in table if s != "test_flagged"]
            methods = list(table[sets[0]])
            flags = " ".join(["--dataset fashion_mnist", *FAR_RUNS[name]])
            parts.append(
                f"`keras-vae train {flags}`; AUROC of the "
                f"test split (10,000) against each set; {table['test_flagged']:.2%} "
                "of the test split flagged at the calibrated 1 % threshold:\n\n"
                + _table(
                    ["method", *sets],
                    [
                        [f"**{m}**" if m == "dose" else m]
                        + [f"{table[s][m]['auroc']:.3f}" for s in sets]
                        for m in methods
                    ],
                )
            )
        replace_between(
            PAGE,
            "<!-- far:start -->",
            "<!-- far:end -->",
            f"`python benchmarks/anomaly.py far` ({far_results['date']}, "
            f"{far_results['backend']}):\n\n" + "\n\n".join(parts),
        )
    if "far_seeds" in results:
        replace_between(
            PAGE,
            "<!-- far-seeds:start -->",
            "<!-- far-seeds:end -->",
            _far_seeds_text(results),
        )
    if "cvae" in results:
        c = results["cvae"]
        sets = list(c["auroc"])
        text = (
            f"`python benchmarks/anomaly.py cvae` ({c['date']}, {c['backend']}): the "
            f"conv CVAE of `keras-vae train --model cvae` classifies the test split "
            f"by argmax p(y|x) with **{c['accuracy']:.1%}** accuracy (per class: "
            + ", ".join(
                f"{n} {a:.0%}"
                for n, a in zip(class_names, c["per_class_accuracy"], strict=True)
            )
            + "). Its marginal scores, without labels, against the far-OOD sets "
            "(AUROC):\n\n"
            + _table(
                ["method", *sets],
                [
                    [m] + [f"{c['auroc'][s][m]:.3f}" for s in sets]
                    for m in c["auroc"][sets[0]]
                ],
            )
        )
        replace_between(PAGE, "<!-- cvae:start -->", "<!-- cvae:end -->", text)
    if "one_class" in results:
        o = results["one_class"]
        rows = o["classes"]
        conditional = results.get("one_class_cvae", {}).get("classes", {})
        if set(conditional) == set(rows):
            # The CVAE's columns after the VAE's, before the other models'.
            rows = {
                c: dict(
                    [(k, v) for k, v in r.items() if k.startswith("vae ")]
                    + list(conditional[c].items())
                    + [(k, v) for k, v in r.items() if not k.startswith("vae ")]
                )
                for c, r in rows.items()
            }
        columns, means, table = _class_table(rows, class_names)
        ours = [k for k in columns if k.startswith(("vae ", "cvae "))]
        vae = max(ours, key=means.get)
        baseline = max(
            ("PCA reconstruction error", "IsolationForest", "LocalOutlierFactor"),
            key=means.get,
        )
        text = (
            f"`python benchmarks/anomaly.py one-class` ({o['date']}, {o['backend']}, "
            f"{o['epochs']} epochs, {len(rows)} classes)"
            + (
                f" and `python benchmarks/anomaly.py one-class-cvae --backend "
                f"{results['one_class_cvae']['backend']} --epochs "
                f"{results['one_class_cvae']['epochs']}` (the cvae columns)"
                if set(conditional) == set(o["classes"])
                else ""
            )
            + ": AUROC of the held-out class among the 10,000 test images:\n\n"
            + table
            + f"\n\nBest VAE or CVAE score: {vae} ({means[vae]:.3f}); best "
            f"scikit-learn baseline: {baseline} ({means[baseline]:.3f}); difference "
            f"{means[vae] - means[baseline]:+.3f}."
            + _knn_of_the_same_vaes(results, means[baseline])
        )
        replace_between(
            PAGE, "<!-- one-class:start -->", "<!-- one-class:end -->", text
        )
    combinations = results.get("one_class_combinations", {})
    if len(combinations.get("classes", {})) == 10:
        rows = combinations["classes"]
        columns, means, table = _class_table(rows, class_names)
        best = max(columns, key=means.get)
        target = _target(results, means[best])
        text = (
            f"`python benchmarks/anomaly.py one-class-combinations --backend "
            f"{combinations['backend']} --epochs {combinations['epochs']}` "
            f"({combinations['date']}; "
            "the models of the cvae columns above), AUROC of the held-out class:\n\n"
            + table
            + f"\n\nBest: {best} ({means[best]:.3f}).{target}"
        )
        replace_between(
            PAGE,
            "<!-- one-class-combinations:start -->",
            "<!-- one-class-combinations:end -->",
            text,
        )
    neighbours = results.get("one_class_neighbours", {})
    if len(neighbours.get("classes", {})) == 10:
        columns, means, table = _class_table(neighbours["classes"], class_names)
        best = max(columns, key=means.get)
        text = (
            f"`python benchmarks/anomaly.py one-class-neighbours --backend "
            f"{neighbours['backend']} --epochs {neighbours['epochs']}` "
            f"({neighbours['date']}; the VAEs of the one-class table), AUROC of the "
            "held-out class:\n\n"
            + table
            + f"\n\nBest: {best} ({means[best]:.3f}).{_target(results, means[best])}"
            + _other_seeds(results)
        )
        replace_between(
            PAGE,
            "<!-- one-class-neighbours:start -->",
            "<!-- one-class-neighbours:end -->",
            text,
        )
    if "cost" in results:
        k = results["cost"]
        text = (
            f"`python benchmarks/anomaly.py cost --repeats {k['repeats']}` "
            f"({k['date']}, "
            f"{k['backend']}, 2 CPU cores): seconds to score the {k['images']:,} test "
            f"images of the default run, median of {k['repeats']} after a warm-up:\n\n"
            + _table(
                ["method", "seconds"],
                [[m, f"{s:.2f}"] for m, s in k["seconds"].items()],
            )
        )
        replace_between(PAGE, "<!-- cost:start -->", "<!-- cost:end -->", text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "part",
        choices=(
            "far",
            "far-seeds",
            "cvae",
            "one-class",
            "one-class-cvae",
            "one-class-combinations",
            "one-class-neighbours",
            "cost",
            "markdown",
        ),
    )
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--classes", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[1, 2, 3, 4],
        help="far-seeds: the training seeds (0 is the far table's)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="one-class-neighbours: the VAEs' training seed (0: the one-class "
        "table's VAEs)",
    )
    arguments = parser.parse_args()
    if arguments.part == "markdown":
        return markdown()
    os.environ.setdefault("KERAS_BACKEND", arguments.backend)
    os.makedirs(RUNS, exist_ok=True)
    if arguments.part == "far":
        far(arguments.backend)
    elif arguments.part == "far-seeds":
        far_seeds(arguments.backend, arguments.seeds)
    elif arguments.part == "cvae":
        cvae(arguments.backend)
    elif arguments.part == "one-class":
        one_class(arguments.backend, arguments.classes, arguments.epochs)
    elif arguments.part == "one-class-cvae":
        one_class_cvae(arguments.backend, arguments.classes, arguments.epochs)
    elif arguments.part == "one-class-combinations":
        one_class_combinations(arguments.classes, arguments.epochs)
    elif arguments.part == "one-class-neighbours":
        one_class_neighbours(
            arguments.backend, arguments.classes, arguments.epochs, arguments.seed
        )
    else:
        cost(arguments.repeats)


if __name__ == "__main__":
    main()
