#!/usr/bin/env bash
# The stop-gradient ablation (docs/particles.md, section 10): `drift train` with the drift loss as designed
# (target x + ηV held fixed) and with --through-field (no stop-gradient: the loss η²‖V(x)‖² differentiated
# through the conservative field), each with and without per-scale normalisation, on two toy sets.
# Batch 256 (the ablation's autograd through B×B kernels is slow at the default 1024), 2000 steps, seed 0.
# Writes docs/ablation/stop-gradient.md and the sample plots. About 10 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh  # DRIFT_BIN: see there
out=${OUT:-runs/stop-gradient}
rm -rf "$out"
table=docs/ablation/stop-gradient.md
{
  echo "| data | scales | stop-gradient (default) | through the field | data-vs-data floor |"
  echo "|---|---|---|---|---|"
  for data in checkerboard 8gaussians; do
    for norm in true false; do
      row="| $data | $([ $norm = true ] && echo "unit RMS each" || echo "raw") |"
      for through in false true; do
        name="$data-norm$norm-through$through"
        line=$(drift train --data $data --batch 256 --normalize-scales $norm --through-field $through --out "$out/$name" 2>&1 \
          | grep -o 'energy distance to held-out.*')
        row="$row $(sed -E 's/energy distance to held-out ([^ ]+).*/\1/' <<<"$line") |"
        floor=$(sed -E 's/.*data vs held-out: ([^)]+)\)/\1/' <<<"$line")
        cp "$out/$name/samples.png" "docs/ablation/$name.png"
      done
      echo "$row $floor |"
    done
  done
} > "$table"
cat "$table"
