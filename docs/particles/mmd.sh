#!/usr/bin/env bash
# The MMD field in the particle lab (docs/particles.md, section 10): its rate sweep from an equilibrium start on the
# grid of docs/particles/run.sh (M = N target samples: it has no exact form here), and one run at a narrow bandwidth
# towards a two-mode target, beside the runs of docs/particles/sinkhorn.sh. DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
out=docs/particles
drift particles --sweep-n 64,128,256,512,1024 --dims 1,2,4 --seeds 3 --time 5 --start target --field mmd --out $out/mmd-target
drift particles --field mmd --target mixture --target-samples 512 --start normal --n 512 --dim 2 --bandwidth 0.1 --time 5 \
  --out $out/narrow-mixture-mmd
