#!/usr/bin/env bash
# The small grid of docs/particles.md §2–6 (N = 64…1024, d = 1, 2, 4, 3 seeds; about 7 minutes on 2 CPU cores).
# The other sections have their own scripts (rate-table.sh, laplace-residual.sh, sinkhorn.sh, annealing-modes.sh,
# beta.sh). DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
grid=(--sweep-n 64,128,256,512,1024 --dims 1,2,4 --seeds 3 --time 5)
out=docs/particles
drift particles "${grid[@]}" --start target --out $out/conservative-rule-target
drift particles "${grid[@]}" --start target --bandwidth 0.3 --out $out/conservative-fixed-target
drift particles "${grid[@]}" --start shifted --out $out/conservative-rule-shifted
drift particles "${grid[@]}" --start shifted --anneal 1 --out $out/conservative-rule-shifted-anneal
drift particles "${grid[@]}" --start target --field laplace --out $out/laplace-target
drift particles --self-term exclude --n 512 --dim 2 --time 5 --out $out/conservative-exclude-single
