#!/usr/bin/env bash
# Regenerates every figure and number in the docs from the package itself, on
# real Fashion-MNIST (Debian's dataset-fashion-mnist, or --data-path files).
# Usage: docs/make_figures.sh [WORK_DIR]   (about 40 minutes on 2 CPU cores)
set -euo pipefail
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
  --out train-cvae > train-cvae.txt
run keras-vae evaluate train-vae > evaluate.txt
run keras-vae sweep --beta 0 12 200 --dataset fashion_mnist --epochs 10 --iw-samples 1000 \
  --out sweep > sweep.txt
run keras-vae tune --dataset fashion_mnist --max-examples 12000 --tuner bayesian \
  --max-trials 12 --epochs 4 --latent-dim 2 64 --beta 0 200 --directory tune \
  --project fashion > tune.txt

copy() { cp "$1" "$docs/figures/$2"; }
for name in latent_tsne reconstructions samples; do copy "train-vae/$name.png" "train-$name.png"; done
copy train-vae-2d/manifold.png train-manifold.png
copy train-vae-2d/latent_tsne.png train-latent-2d.png
copy train-cvae/conditioned.png train-conditioned.png
copy sweep/sweep.png sweep.png
copy sweep/rate_distortion.png sweep-rate-distortion.png
copy tune/fashion/results.png tune-results.png
for log in train-vae train-cvae evaluate sweep tune; do
  grep -v "^Epoch\|step -\|^I0000\|^WARNING: All log" "$log.txt" > "$docs/figures/$log-output.txt" || true
done
cp tune/fashion/results.csv "$docs/figures/tune-results.csv"
echo "figures and outputs written to $docs/figures (runs kept in $work)" >&2
