#!/usr/bin/env bash
# The Laplace field's residual (docs/particles.md §4): the displacement field from an equilibrium start, M = N
# target samples, N = 256…4096, 3 seeds, d = 2: τ = 0.5 and τ = 2; and τ = 0.5 against a fixed M = 16384 (16N or
# more, N = 256…1024) to separate the particles' sampling error from the target samples'. About 15 minutes
# on 2 CPU cores. DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
grid=(--field laplace --sweep-n 256,512,1024,2048,4096 --seeds 3 --time 5 --start target --record-every 10)
out=docs/particles/laplace-residual
drift particles "${grid[@]}" --dims 2 --temperature 0.5 --out $out/tau0.5
drift particles "${grid[@]}" --dims 2 --temperature 2 --out $out/tau2
drift particles --field laplace --sweep-n 256,512,1024 --seeds 3 --time 5 --start target --record-every 10 \
  --dims 2 --temperature 0.5 --target-samples 16384 --out $out/tau0.5-m16384
