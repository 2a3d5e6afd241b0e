#!/usr/bin/env bash
# The committed Fashion-MNIST samples judged in three feature spaces (docs/judges.md): the project's classifier
# (conv, seed 0), a second network sharing neither its architecture nor its seed (pooled, seed 1), and raw pixels.
# `drift eval --n 5000 --seed 0` draws exactly the 5,000 images of docs/samples/fashion-mnist-cpu.zip (drift sample's
# draw; checked byte for byte). The runs are docs/fashion-mnist-cpu.sh's (its run folders are not committed: rerun it,
# or pass the folders of runs re-trained with its settings). About 10 minutes on 2 CPU cores, classifiers included.
#   bash docs/judges.sh [CONSERVATIVE_RUN LAPLACE_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
source docs/drift-cli.sh
conservative=${1:-docs/compare/fashion-mnist-cpu/runs/conservative-seed0}
laplace=${2:-docs/compare/fashion-mnist-cpu/runs/laplace-seed0}
conv=checkpoints/classifier-fashion-mnist
pooled=checkpoints/classifier-pooled-fashion-mnist
[ -f "$conv/classifier.bin" ] || drift classifier --data fashion-mnist --out "$conv"
[ -f "$pooled/classifier.bin" ] || drift classifier --data fashion-mnist --architecture pooled --seed 1 --out "$pooled"
mkdir -p docs/judges
for field in conservative laplace; do
  run=${!field}
  drift eval --checkpoint "$run" --n 5000 --seed 0 --classifier "$conv" "$pooled" --out "docs/judges/fashion-mnist-$field.json" \
    > "docs/judges/fashion-mnist-$field.md"
done
