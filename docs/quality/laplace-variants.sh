#!/usr/bin/env bash
# Issue #29 item 4: the laplace field's image run in variants, each given as extra train-images options, 300 steps at
# the README's CPU size, seeds 0 and 1, each run judged in the three feature spaces of docs/judges.md (5,000 EMA
# samples). About 4 minutes a run on 2 CPU cores. Results: docs/quality.md. Needs both metric classifiers
# (docs/judges.sh trains them). STUDY_DIR: where the runs go (new folders); VARIANTS: name=options pairs separated by
# commas; default: the suspects besides the temperatures (laplace-temperatures.sh), scales summed unnormalised and
# twice the positives per class, against the default. FIELD: the field (default laplace; the encoder screen of
# docs/quality.md ran the conservative field this way).
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
root=${STUDY_DIR:-runs/laplace-variants}
field=${FIELD:-laplace}
mkdir -p "$root"
IFS=, read -r -a variants <<<"${VARIANTS:-default=,raw-scales=--normalize-scales false,positives-512=--class-positives 512}"
for variant in "${variants[@]}"; do
  name=${variant%%=*}
  read -r -a options <<<"${variant#*=}"
  for seed in 0 1; do
    run="$root/$name-seed$seed"
    drift train-images --field "$field" "${options[@]}" --seed $seed --steps 300 --width 32 --class-batch 32 \
      --grid-every 100 --out "$run" > "$run.log" 2>&1
    drift eval --checkpoint "$run" --n 5000 --classifier checkpoints/classifier-fashion-mnist \
      checkpoints/classifier-pooled-fashion-mnist --out "$run.json" > "$run.md"
  done
done
