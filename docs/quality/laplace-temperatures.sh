#!/usr/bin/env bash
# Issue #29 item 4: the laplace field's image temperatures, default (0.02 0.05 0.2) against sets 2.5x wider
# (0.05 0.2 0.5) and 2.5x narrower (0.008 0.02 0.08), 300 steps at the README's CPU size, seeds 0 and 1, each run
# judged in the three feature spaces of docs/judges.md (5,000 EMA samples). About 7 minutes a set on 2 CPU cores.
# Results: docs/quality.md. Needs both metric classifiers (docs/judges.sh trains them). STUDY_DIR: where the runs go
# (new folders); SETS: the temperature sets, separated by commas (default: all three).
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
root=${STUDY_DIR:-runs/laplace-temperatures}
mkdir -p "$root"
IFS=, read -r -a sets <<<"${SETS:-0.02 0.05 0.2,0.05 0.2 0.5,0.008 0.02 0.08}"
for temps in "${sets[@]}"; do
  for seed in 0 1; do
    name="tau-${temps// /-}-seed$seed"
    # shellcheck disable=SC2086  # the temperatures are separate arguments
    drift train-images --field laplace --temperature $temps --seed $seed --steps 300 --width 32 --class-batch 32 \
      --grid-every 100 --out "$root/$name" > "$root/$name.log" 2>&1
    drift eval --checkpoint "$root/$name" --n 5000 --classifier checkpoints/classifier-fashion-mnist \
      checkpoints/classifier-pooled-fashion-mnist --out "$root/$name.json" > "$root/$name.md"
  done
done
