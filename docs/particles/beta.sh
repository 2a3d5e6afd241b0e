#!/usr/bin/env bash
# The β-optimised bandwidth rule of docs/particles.md §12: h = N^(-1/(d+4-β)) with β = 0 and 1, against the
# smooth N(0, I) and the uniform cube [-√3, √3]^d (a discontinuous density, where the bound needs β > 0), from an
# equilibrium start; d = 1, 2, N = 64…1024, 6 seeds. Each sweep also fits the quadrature gap |S − F| (§12).
# About 15 minutes on 2 CPU cores. DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
grid=(--sweep-n 64,128,256,512,1024 --dims 1,2 --seeds 6 --time 5 --start target --record-every 50)
out=docs/particles/beta
for target in gaussian uniform; do
  for beta in 0 1; do
    drift particles "${grid[@]}" --target $target --beta $beta --out $out/$target-beta$beta
  done
done
