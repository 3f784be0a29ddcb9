"""The fidelity-diversity trade of a conditional run's sampling temperature,
for docs/commands/evaluate.md.

    python docs/conditional_temperature.py RUN    # about 10 minutes on 2 CPU cores

RUN is a `keras-vae train --model cvae --dataset fashion_mnist` run folder
(`docs/conditional_study.py WORK_DIR --priors` trains `cvae-default`). For
the prior and for the run's latent mixture (30 components per class fitted
to the training codes when the run has none), at each temperature of
`TEMPERATURES`: label fidelity over `FIDELITY_SAMPLES` samples per class and
within-class diversity over `DIVERSITY_SAMPLES` per class, each the mean of
the seeds `SEEDS`, judged by `keras-vae evaluate`'s classifier, divided by
its accuracy on the real test images. Writes
docs/figures/cvae-temperature-table.txt.
"""

import os
import sys

import numpy as np

FIGURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures")
TEMPERATURES = (1.0, 0.8, 0.7)
SEEDS = (0, 1, 2)
FIDELITY_SAMPLES = 1000
DIVERSITY_SAMPLES = 100
COMPONENTS = 30


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    from keras_vae import datasets, evaluation
    from keras_vae.experiments import evaluation as run_evaluation
    from keras_vae.experiments import inference, training

    run = inference.load_run(sys.argv[1])
    data = datasets.load(run.config["dataset_used"])
    classifier = run_evaluation.run_classifier(run.directory, data)
    judge = classifier.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)[
        "accuracy"
    ]
    model = run.model
    mixture = model.latent_mixture or training.fit_latent_mixture(
        model, run.config, data, COMPONENTS
    )
    to_pixels = model.preprocessing.to_pixels
    lines = [
        "| z drawn from | T | fidelity / judge (seeds) | diversity (seeds) |",
        "|---|---:|---:|---:|",
    ]
    for source, density in (
        (f"latent mixture ({mixture.components} per class)", mixture),
        (f"prior ({model.prior.description})", None),
    ):
        for temperature in TEMPERATURES:
            options = {"density": density, "temperature": temperature}
            fidelity = [
                evaluation.label_fidelity(
                    model, classifier, FIDELITY_SAMPLES, seed, to_pixels, **options
                )[0]
                / judge
                for seed in SEEDS
            ]
            diversity = [
                evaluation.within_class_diversity(
                    model,
                    classifier,
                    data.x_test,
                    data.y_test,
                    DIVERSITY_SAMPLES,
                    seed,
                    to_pixels,
                    **options,
                )[0]
                for seed in SEEDS
            ]
            lines.append(
                f"| {source} | {temperature:g} | **{np.mean(fidelity):.3f}** "
                f"({' '.join(f'{value:.3f}' for value in fidelity)}) | "
                f"**{np.mean(diversity):.2f}** "
                f"({' '.join(f'{value:.2f}' for value in diversity)}) |"
            )
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(
        f"The judge: {judge:.2%} on the real test images; fidelity over "
        f"{FIDELITY_SAMPLES:,} samples per class, diversity over {DIVERSITY_SAMPLES}, "
        f"seeds {', '.join(map(str, SEEDS))}."
    )
    with open(os.path.join(FIGURES, "cvae-temperature-table.txt"), "w") as file:
        file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
