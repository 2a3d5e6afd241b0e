#!/usr/bin/env bash
# The README's Fashion-MNIST CPU results: the metric classifier and the feature encoder, both fields side by side
# (seed 0, 1200 steps, width 32, 32 generated and 256 data images per class and step, each field at its default
# learning rate (4e-3: laplace since 2026-12-05, conservative since 2026-12-06) and normalisation (laplace over rows only since 2026-12-06), feature spaces pixels mean2 mean4 std4 and the encoder's features and its two
# pooled maps (the features since 2026-12-05, the maps since later that day; the encoder's values on the training set
# computed once a run): about 11.5–12 minutes a field on 2 CPU cores with its probes at this VM's speed on 2026-12-05, plus
# 1.4 minutes once for `drift encoder`), 5,000 EMA samples per field (500 per class) as uint8 .npy for independent
# judging, and the grids.
# About 30 minutes on 2 CPU cores (the two fields 23.4 of them on 2026-12-05's VM, 36.9 on the slower one of 2026-12-06; the classifier 5, the encoder 1.4).
# Needs: sudo apt-get install -y dataset-fashion-mnist
set -euo pipefail
cd "$(dirname "$0")/.."
source docs/drift-cli.sh  # DRIFT_BIN: a copy of the build output, so the tree can be rebuilt while this runs.
classifier=checkpoints/classifier-fashion-mnist
encoder=checkpoints/encoder-fashion-mnist
[ -f "$classifier/classifier.bin" ] || drift classifier --data fashion-mnist --out "$classifier"
[ -f "$encoder/classifier.bin" ] || drift encoder --data fashion-mnist --out "$encoder"
out=docs/compare/fashion-mnist-cpu
rm -rf "$out"
drift compare-images --data fashion-mnist --seeds 1 --steps 1200 --width 32 --class-batch 32 --class-positives 256 \
  --features pixels mean2 mean4 std4 encoder encoder-map1 encoder-map2 --encoder "$encoder" --classifier "$classifier" --eval-every 100 --eval-samples 1000 --eval-n 5000 --grid-every 100 --out "$out"
mkdir -p docs/samples
for field in conservative laplace; do
  run="$out/runs/$field-seed0"
  cp "$run/grid.png" "docs/images/fashion-mnist-$field.png"
  drift sample --checkpoint "$run" --n 5000 --out "docs/samples/fashion-mnist-$field.npy"
done
(cd docs/samples && rm -f fashion-mnist-cpu.zip && zip -q -9 fashion-mnist-cpu.zip ./*.npy && rm ./*.npy)
