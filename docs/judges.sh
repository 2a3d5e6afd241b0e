#!/usr/bin/env bash
# Samples judged in four feature spaces (docs/judges.md) as the files hold them (drift eval --images): the project's
# classifier (conv, seed 0, 2 epochs), a second network sharing neither its architecture nor its seed (pooled, seed 1),
# a third trained to convergence (conv, seed 2, 10 epochs), and raw pixels. Two sets of samples: the committed ones,
# docs/samples/fashion-mnist-cpu.zip, and the ones the outside judge scored (the same file at commit 6240c9b, 700-step
# runs; needs the repository's history), so each space can be read against the judge's verdict.
# About 25 minutes on 2 CPU cores with the three classifiers to train (5, 5 and 10), 10 without.
set -euo pipefail
cd "$(dirname "$0")/.."
source docs/drift-cli.sh
conv=checkpoints/classifier-fashion-mnist
pooled=checkpoints/classifier-pooled-fashion-mnist
converged=checkpoints/classifier-e10-fashion-mnist
[ -f "$conv/classifier.bin" ] || drift classifier --data fashion-mnist --out "$conv"
[ -f "$pooled/classifier.bin" ] || drift classifier --data fashion-mnist --architecture pooled --seed 1 --out "$pooled"
[ -f "$converged/classifier.bin" ] || drift classifier --data fashion-mnist --epochs 10 --seed 2 --out "$converged"
samples=runs/judges  # scratch: the .npy files unzipped
mkdir -p "$samples/committed" "$samples/judged" docs/judges
unzip -q -o docs/samples/fashion-mnist-cpu.zip -d "$samples/committed"
git show 6240c9b:docs/samples/fashion-mnist-cpu.zip > "$samples/judged.zip"
unzip -q -o "$samples/judged.zip" -d "$samples/judged"
for set in committed judged; do
  for field in conservative laplace; do
    name=fashion-mnist-$field$([ "$set" = judged ] && echo -judged-700-steps || true)
    drift eval --images "$samples/$set/fashion-mnist-$field.npy" --data fashion-mnist --classifier "$conv" "$pooled" "$converged" \
      --out "docs/judges/$name.json" > "docs/judges/$name.md"
  done
done
