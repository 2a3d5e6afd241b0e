#!/usr/bin/env bash
# Bandwidth annealing before/after in `drift train` (docs/annealing.md): the conservative field with fixed
# bandwidths 0.05-0.4, the same annealed from 8x wider (the default), and the Laplace field, on two toy
# sets and three CSV sets the defaults were not tuned on. About 15 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source docs/drift-cli.sh
out=$(mktemp -d)
echo "| data | conservative, fixed 0.05-0.4 | conservative, annealed (default) | laplace (default) | data-vs-data floor |"
echo "|---|---|---|---|---|"
for data in checkerboard 25gaussians docs/unseen/blobs.csv docs/unseen/spirals.csv docs/unseen/pinwheel.csv; do
  row="| $(basename "$data") |"
  for args in "--field conservative --bandwidth 0.05 0.1 0.2 0.4 --anneal 0" "--field conservative" "--field laplace"; do
    line=$(drift train --data "$data" $args --out "$out/$RANDOM" 2>&1 | grep -o 'energy distance to held-out.*')
    row="$row $(sed -E 's/energy distance to held-out ([^ ]+).*/\1/' <<<"$line") |"
    floor=$(sed -E 's/.*data vs held-out: ([^)]+)\)/\1/' <<<"$line")
  done
  echo "$row $floor |"
done
