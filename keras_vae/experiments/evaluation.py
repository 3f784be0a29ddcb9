"""Metrics of a saved run on its test or training split."""

import json
import os

from keras_vae import datasets
from keras_vae.experiments import training


def evaluate_run(directory, split="test"):
    """Re-evaluates the model of a run folder on a split of its dataset.

    Args:
        directory: String, a run folder written by `keras-vae train`.
        split: String, `"test"` or `"train"`.

    Returns:
        Tuple `(metrics, config)`: a dict of floats and the run's settings.

    Raises:
        ValueError: if the folder is not a complete run, its model cannot be
            loaded (a class that is not importable here), or the split is
            unknown.
    """
    import keras

    if split not in ("test", "train"):
        raise ValueError(f"Unknown split {split!r}. Expected 'test' or 'train'.")
    missing = [
        name
        for name in ("config.json", "model.keras")
        if not os.path.isfile(os.path.join(directory, name))
    ]
    if missing:
        raise ValueError(
            f"{directory} is not a finished run folder: it lacks {', '.join(missing)}."
        )
    with open(os.path.join(directory, "config.json")) as file:
        config = json.load(file)
    data = datasets.load(config["dataset_used"], config["data_path"])
    preprocessing = datasets.Preprocessing(**config["preprocessing_state"])
    path = os.path.join(directory, "model.keras")
    try:
        model = keras.models.load_model(path)
    except (TypeError, ValueError) as error:
        # Keras names the class it could not find, then dumps the whole config.
        reason = str(error).strip().splitlines()[0].split(" Full object config")[0]
        raise ValueError(f"{path} cannot be loaded: {reason}") from None
    x, y = (
        (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    )
    seed = config["seed"] + (1 if split == "test" else 0)
    metrics = training.evaluate_split(
        model, training.model_inputs(config, preprocessing, x, y, seed)
    )
    return metrics, config
