#!/usr/bin/env bash
# The Sinkhorn field next to the other two (docs/particles.md, section 9): its rate sweep from an equilibrium
# start, and single runs at a narrow bandwidth towards a two-mode target, where one-sided normalisation can stall.
# DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
out=docs/particles
drift particles --sweep-n 64,128,256,512,1024 --dims 1,2,4 --seeds 3 --time 5 --start target --field sinkhorn --out $out/sinkhorn-target
for field in conservative sinkhorn; do
  drift particles --field $field --target mixture --target-samples 512 --start normal --n 512 --dim 2 --bandwidth 0.1 --time 5 \
    --out $out/narrow-mixture-$field
done
drift particles --field laplace --target mixture --target-samples 512 --start normal --n 512 --dim 2 --temperature 0.1 --time 5 \
  --out $out/narrow-mixture-laplace
