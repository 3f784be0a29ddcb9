#!/usr/bin/env bash
# Regenerates the figures and command outputs of the docs (train, evaluate,
# sweep, tune, sample/interpolate/encode, the photographs, the parameterization
# study, the bad-input table) from the package itself, on real Fashion-MNIST
# (Debian's dataset-fashion-mnist, or --data-path files). With --all, also the
# conditional study (docs/conditional_study.py, about 70 minutes, and its
# learned-prior lever, --priors, about 20 minutes, and the default's sampling
# temperatures, docs/conditional_temperature.py, about 10 minutes), the
# likelihood table beside the PyTorch peer (benchmarks/likelihood_table.py,
# about 35 minutes) and the speed tables of docs/benchmarks.md
# (benchmarks/run.py, about 40 minutes; run nothing else meanwhile) and the
# memory soak table (benchmarks/soak.py --table, about 6 minutes).
# Usage: docs/make_figures.sh [--all] [WORK_DIR]
#        (about 20 minutes on 2 CPU cores; with --all about 3 hours)
set -euo pipefail
all=false
if [ "${1:-}" = --all ]; then all=true; shift; fi
docs=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work" "$docs/figures"
cd "$work"
export TF_CPP_MIN_LOG_LEVEL=3
run() { echo "+ $*" >&2; "$@"; }

run keras-vae train --dataset fashion_mnist --out train-vae > train-vae.txt
run keras-vae train --dataset fashion_mnist --latent-dim 2 --epochs 10 --out train-vae-2d \
  > train-vae-2d.txt
run keras-vae train --dataset fashion_mnist --model cvae --latent-dim 2 --epochs 10 \
  --likelihood gaussian --prior normal --no-condition-all-layers \
  --latent-mixture 0 --sample-temperature 1 --out train-cvae > train-cvae.txt
run keras-vae evaluate train-vae > evaluate.txt
run keras-vae sweep --beta 0 12 200 --dataset fashion_mnist --epochs 10 --iw-samples 1000 \
  --out sweep > sweep.txt
run keras-vae tune --dataset fashion_mnist --max-examples 12000 --tuner bayesian \
  --max-trials 12 --epochs 4 --latent-dim 2 64 --beta 0 200 --directory tune \
  --project fashion > tune.txt
run keras-vae sample train-cvae --n 40 --out use-sample-cvae.png > use.txt
run keras-vae sample train-cvae --n 40 --temperature 0.5 --out use-sample-cvae-cold.png \
  >> use.txt
run keras-vae interpolate train-vae --from test:0 --to test:1 --steps 10 \
  --out use-interpolate.png >> use.txt
run keras-vae encode train-vae test --out codes.csv >> use.txt
head -3 codes.csv | cut -c1-90 >> use.txt
run python "$docs/photo_patches.py" photos > photos.txt
run keras-vae train --data-path photos --model conv_vae --color-mode rgb --latent-dim 32 \
  --epochs 10 --out photos-run >> photos.txt
run keras-vae sample photos-run --n 64 --out photos-samples.png >> photos.txt

# sigma = softplus(rho) against exp(log_var / 2): test ELBO, or the epoch that diverged.
{
  printf '%-16s %13s %22s %22s\n' parameterization "learning rate" "seed 0" "seed 1"
  for lr in 0.001 0.01 0.03; do
    for p in softplus log_var; do
      cells=()
      for seed in 0 1; do
        out=param-$p-$lr-$seed
        echo "+ keras-vae train --parameterization $p --learning-rate $lr --seed $seed" >&2
        keras-vae train --dataset fashion_mnist --parameterization "$p" --learning-rate "$lr" \
          --seed "$seed" --epochs 5 --out "$out" > "$out.txt" 2>&1 || true
        cell=$(awk '/^test /{print $NF}' "$out.txt")
        epoch=$(sed -n 's/.*infinite in epoch \([0-9]*\).*/\1/p' "$out.txt")
        if [ -n "$epoch" ]; then cell="diverged, epoch $epoch"; fi
        if [ -z "$cell" ]; then cell="failed: see $out.txt"; fi
        cells+=("$cell")
      done
      printf '%-16s %13s %22s %22s\n' "$p" "$lr" "${cells[0]}" "${cells[1]}"
    done
  done
} > parameterization-table.txt

copy() { cp "$1" "$docs/figures/$2"; }
copy use-sample-cvae.png use-sample-cvae.png
copy use-sample-cvae-cold.png use-sample-cvae-cold.png
copy use-interpolate.png use-interpolate.png
copy photos-run/reconstructions.png photos-reconstructions.png
copy photos-run/latent_tsne.png photos-latent_tsne.png
copy photos-samples.png photos-samples.png
for name in latent_tsne reconstructions samples; do copy "train-vae/$name.png" "train-$name.png"; done
copy train-vae-2d/manifold.png train-manifold.png
copy train-vae-2d/latent_tsne.png train-latent-2d.png
copy train-cvae/conditioned.png train-conditioned.png
copy sweep/sweep.png sweep.png
copy sweep/rate_distortion.png sweep-rate-distortion.png
copy tune/fashion/results.png tune-results.png
for log in train-vae train-cvae evaluate sweep tune use photos; do
  grep -v "^Epoch\|step -\|^I0000\|^WARNING: All log" "$log.txt" > "$docs/figures/$log-output.txt" || true
done
cp tune/fashion/results.csv "$docs/figures/tune-results.csv"
sed -n '/^beta /,/^(test set/p' sweep.txt > "$docs/figures/sweep-table.txt"
cp parameterization-table.txt "$docs/figures/parameterization-table.txt"
run python "$docs/bad_inputs_table.py"
# TensorBoard served on 127.0.0.1, its Scalars tab rendered by headless Chromium
# (Debian's chromium package).
run keras-vae train --dataset digits --epochs 15 --out tensorboard-run --tensorboard logs
tensorboard --logdir logs --host 127.0.0.1 --port 6006 > tensorboard.log 2>&1 &
server=$!
sleep 15
run chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=1400,900 --virtual-time-budget=20000 --screenshot=tensorboard.png \
  "http://127.0.0.1:6006/?darkMode=false#scalars&tagFilter=epoch_(elbo%7Ckl_loss%7Creconstruction_loss%7Cactive_units)&_smoothingWeight=0"
kill "$server"
python -c "from PIL import Image; Image.open('tensorboard.png').crop((0, 0, 1400, 770)).save('$docs/figures/tensorboard-scalars.png', optimize=True)"

if $all; then
  run python "$docs/conditional_study.py" study
  run python "$docs/conditional_study.py" study --priors
  run python "$docs/conditional_temperature.py" study/cvae-default
  # The runs of docs/likelihoods.md's commands, under their names there.
  ln -sfn train-vae vae && ln -sfn study/original cvae
  run python "$docs/../benchmarks/likelihood_table.py" vae cvae \
    --iw-samples 100 --markdown "$docs/figures/likelihood-table.txt"
  run python "$docs/../benchmarks/soak.py" --table "$docs/figures/soak-table.txt"
  run python "$docs/../benchmarks/run.py"
fi
echo "figures and outputs written to $docs/figures (runs kept in $work)" >&2
