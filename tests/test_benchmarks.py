"""The benchmark harness's arithmetic and report writing (no training here:
`.ci/run` runs `benchmarks/run.py --quick` to prove the whole suite works)."""

import json
import os
import re
import runpy
import subprocess
import sys
import textwrap

import pytest

import keras_vae

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module(name):
    return runpy.run_path(os.path.join(ROOT, "benchmarks", f"{name}.py"))


def test_training_flops_of_the_original_networks():
    flops = _module("workload")["training_flops"]
    mlp = keras_vae.architectures.mlp((28, 28, 1), 2)
    # 784-500-120-2z encoder, z-120-500-784 decoder: 6 FLOPs per multiply-add,
    # 4 for the first layer, whose input gradient is never needed.
    rest = 500 * 120 + 120 * 4 + 2 * 120 + 120 * 500 + 500 * 784
    assert flops(*mlp) == 4 * 784 * 500 + 6 * rest == 4_644_320
    conv = keras_vae.architectures.conv_conditional((28, 28, 1), 15, 10)
    assert 30e6 < flops(*conv) < 36e6


def test_report_replaces_only_its_own_section(tmp_path):
    run = _module("run")
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Title\n\nprose\n\n{run['START']}\nold\n{run['END']}\n\nmore\n")
    results = {
        "machine": {
            "date": "2026-11-24",
            "cpu": "cpu",
            "cores": 2,
            "vector_extensions": ["avx2"],
            "python": "3.11",
            "versions": {"keras": "3.15", "torch": None},
        },
        "data": "data",
        "rounds": 2,
        "epochs": 3,
        "gemm": {"2048^3": 100.0, "256x784x500": 90.0},
        "rows": run["summarize"](
            {
                "w | keras_vae, jax": [
                    {"images_per_second": [1.0, 30.0, 50.0], "peak_rss_mb": 900}
                ],
                "w | peer, PyTorch": [
                    {"images_per_second": [1.0, 20.0], "peak_rss_mb": 800}
                ],
            },
            {"w": 1e9},
            {"2048^3": 100.0},
        ),
        "help_seconds": 0.2,
    }
    jax_row = results["rows"][0]
    assert jax_row["images_per_second"] == 40.0  # first epoch dropped
    assert jax_row["ratio_to_best_peer"] == pytest.approx(2.0)
    assert jax_row["ratio_to_floor"] == pytest.approx(0.4)  # floor 100 img/s
    run["write_markdown"](str(page), run["markdown"](results))
    text = page.read_text()
    assert text.startswith("# Title\n\nprose\n\n") and text.endswith("\n\nmore\n")
    assert "old" not in text
    assert "| w | keras_vae, jax | 40 | 2.00 | 100 | 40 % | 900 |" in text


def test_matmul_ceiling_runs_the_steps_own_products():
    # Its own process: the script runs on JAX. The product-only step must
    # count the FLOPs the harness counts for the real step.
    code = textwrap.dedent(
        """
        import runpy
        ceiling = runpy.run_path("benchmarks/matmul_ceiling.py")
        workload = runpy.run_path("benchmarks/workload.py")
        import keras_vae
        for z in (2, 20):
            _, _, flops = ceiling["products"](ceiling["kernel_shapes"](z), 8)
            networks = keras_vae.architectures.mlp((28, 28, 1), z)
            assert flops == 8 * workload["training_flops"](*networks), z
        ceiling["main"](["--batch-size", "8", "--latent-dim", "2", "--calls", "2",
                         "--repeats", "1"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.fullmatch(
        r"MLP VAE z=2 b=8: matrix products only [\d,]+ img/s \(\d+ GFLOP/s\)\n",
        result.stdout,
    )


def test_label_check_benchmark_runs_and_writes_its_table(tmp_path):
    label_check = _module("label_check")
    result = label_check["measure"]("tensorflow", 128, 1)
    assert set(result["rates"]) == {"checked", "unchecked"}
    assert all(len(rates) == 1 for rates in result["rates"].values())
    text = label_check["table"]([result], 128, 1)
    assert re.search(
        r"\| tensorflow \| 32 \| [\d,]+ \| [\d,]+ \| \d\.\d{3} \| \d\.\d{3} \|", text
    )


def test_startup_benchmark_measures_fresh_processes():
    startup = _module("startup")
    elapsed, tensorflow = startup["_time"](None, "import keras_vae")
    assert elapsed > 0
    # A bare `import keras_vae` imports no framework.
    assert tensorflow is False
    result = {
        "python": 0.02,
        "cases": [{"name": "`x`", "seconds": 1.234, "tensorflow": True}],
    }
    text = startup["table"](result, 3)
    assert "| `x` | 1.23 | yes |" in text and "medians of 3" in text


def test_likelihood_gap_compares_each_row_with_the_peers_same_seeds():
    gap = _module("likelihood_gap")
    train, test = gap["photo_patches"]()
    assert train.dtype == test.dtype == "uint8"
    assert train.shape[1:] == test.shape[1:] == (16, 16, 3)
    # The right fifth of each photograph is the test split: about a quarter
    # as many patches as the training split.
    assert 0.15 < len(test) / len(train) < 0.3, (len(train), len(test))
    row = {"train_images": 10, "test_images": 5, "negative_elbo": 0.0}
    results = {
        "digits/0/peer": {**row, "bound": 50.0},
        "digits/1/peer": {**row, "bound": 52.0},
        "digits/0/defaults": {**row, "bound": 49.0},
        "digits/1/defaults": {**row, "bound": 50.0},
        "digits/0/lr2": {**row, "bound": 51.0},
    }
    lines = gap["table"](results).splitlines()
    defaults = next(line for line in lines if "keras_vae defaults" in line)
    assert "| 0, 1 |" in defaults and "| 49.50 | -1.50 (-2.9 %) |" in defaults
    # A variant of seed 0 only is set beside the peer's seed 0 alone.
    doubled = next(line for line in lines if "learning rate 2e-3" in line)
    assert "| 0 |" in doubled and "| 51.00 | +1.00 (+2.0 %) |" in doubled


def test_the_anomaly_guide_is_what_its_results_file_says(tmp_path):
    """docs/guides/anomalies.md's tables are written from
    benchmarks/anomaly_results.json, each with the date it was measured."""
    _check_page_is_written_by("anomaly", "anomalies.md", tmp_path)


def _check_page_is_written_by(script, page, tmp_path):
    """The committed guide `page` is what `benchmarks/SCRIPT.py markdown`
    writes from the committed results."""
    markdown = _module(script)["markdown"]
    path = os.path.join(ROOT, "docs", "guides", page)
    copy = tmp_path / page
    with open(path) as file:
        committed = file.read()
    copy.write_text(committed)
    markdown.__globals__["PAGE"] = str(copy)
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        markdown()
    finally:
        sys.path.remove(os.path.join(ROOT, "benchmarks"))
    assert copy.read_text() == committed


def test_the_likelihood_table_reads_bits_per_pixel_over_seeds(tmp_path):
    module = _module("priors")
    results = tmp_path / "likelihoods_results.json"
    page = tmp_path / "priors.md"
    page.write_text(
        "before\n<!-- likelihoods:start -->\nold\n<!-- likelihoods:end -->\n"
        "<!-- priors:start -->\n<!-- priors:end -->\n"
    )
    run = {"bound": 0.0, "elbo": 0.0, "train_seconds": None}
    results.write_text(
        json.dumps(
            {
                "10_epochs": {
                    "logistic/0": {**run, "bound_bits": 3.7, "elbo_bits": 3.8},
                    "logistic/1": {**run, "bound_bits": 3.9, "elbo_bits": 4.0},
                    "gaussian/0": {**run, "bound_bits": 7.5, "elbo_bits": 7.6},
                    "gaussian_dequantized/1": {
                        **run,
                        "bound_bits": 7.4,
                        "elbo_bits": 7.5,
                    },
                }
            }
        )
    )
    module["markdown"].__globals__.update(
        LIKELIHOOD_RESULTS=str(results),
        RESULTS=str(tmp_path / "no_priors.json"),
        PAGE=str(page),
    )
    module["markdown"]()
    text = page.read_text()
    assert text.startswith("before\n") and "old" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    # The table's order, not the file's: the default Gaussian first.
    assert rows[0].startswith(
        "| Gaussian, variance 1/2 (the default) | `--likelihood gaussian` | 0 |"
    )
    assert "| 7.500 | 7.600 |" in rows[0]
    # A density trained on dequantized pixels: its own row, its flags.
    assert rows[1].startswith(
        "| Gaussian, variance 1/2 (the default), trained dequantized | "
        "`--likelihood gaussian --dequantize` | 1 | 7.400 | 7.500 |"
    )
    assert "| 0, 1 | 3.800 ± 0.141 | 3.900 |" in rows[2]
    assert "priors.py likelihoods --epochs 10 --seeds 0 1" in text


def test_the_priors_guide_is_what_its_results_files_say(tmp_path):
    _check_page_is_written_by("priors", "priors.md", tmp_path)


def test_the_priors_table_adds_the_tight_bound_where_every_seed_has_it(tmp_path):
    module = _module("priors")
    page = tmp_path / "priors.md"
    page.write_text(
        "<!-- likelihoods:start -->\n<!-- likelihoods:end -->\n"
        "<!-- priors:start -->\nold\n<!-- priors:end -->\n"
    )
    run = {"test_elbo": 240.0, "train_seconds": 60.0, "bound_seconds": 40.0}
    results = tmp_path / "priors_results.json"
    results.write_text(
        json.dumps(
            {
                "10_epochs_day": {
                    "vae/0": {**run, "bound": 237.0, "tight_bound": 236.5},
                    "vae/1": {**run, "bound": 237.4, "tight_bound": 236.7},
                    "vamp/0": {**run, "bound": 235.8, "tight_bound": 235.0},
                    "vamp/1": {**run, "bound": 235.6, "tight_bound": 235.2},
                    # Seed 1 has no tight bound yet: the row shows none.
                    "mixture100/0": {**run, "bound": 236.0, "tight_bound": 235.5},
                    "mixture100/1": {**run, "bound": 236.2},
                }
            }
        )
    )
    module["markdown"].__globals__.update(
        LIKELIHOOD_RESULTS=str(tmp_path / "no_likelihoods.json"),
        RESULTS=str(results),
        PAGE=str(page),
    )
    module["markdown"]()
    text = page.read_text()
    assert "k = 5,000 bound | vs VAE |" in text
    rows = {
        line.split(" | ")[0]: line for line in text.splitlines() if "| 0, 1 |" in line
    }
    assert rows["| VAE, N(0, I)"].endswith("| 236.60 ± 0.14 | +0.00 |")
    # The paired change: (235.0 - 236.5 + 235.2 - 236.7) / 2.
    assert rows["| VAE, VampPrior (50)"].endswith("| 235.10 ± 0.14 | -1.50 |")
    assert rows["| VAE, mixture prior (100)"].endswith("| — | — |")


def test_a_study_resumes_with_the_runs_it_lacks_interleaved_by_seed():
    pending = _module("priors")["_pending"]
    table = {"vae/0": {}, "vamp/1": {}}
    assert list(pending(table, [0, 1], ["vae", "vamp"])) == [
        ("vamp", 0, "vamp/0"),
        ("vae", 1, "vae/1"),
    ]


def test_side_by_side_imports_keras_vae_from_each_tree(tmp_path):
    # The editable install's import hook outranks PYTHONPATH: without its
    # removal both "trees" would run this checkout's code.
    tree = tmp_path / "tree"
    (tree / "keras_vae").mkdir(parents=True)
    (tree / "keras_vae" / "__init__.py").write_text("MARK = 'the other tree'\n")
    script = tmp_path / "script.py"
    script.write_text("import sys, keras_vae\nprint(keras_vae.MARK, sys.argv[1:])\n")
    snippet = _module("side_by_side")["FROM_TREE"]
    command = [sys.executable, "-c", snippet, str(tree), str(script), "--x", "1"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "the other tree ['--x', '1']"
    assert f"keras_vae from {tree / 'keras_vae' / '__init__.py'}" in result.stderr
