#!/usr/bin/env bash
# The tight rate table of docs/particles.md §1: the conservative field from an equilibrium start, h = N^(-1/(d+4)),
# N = 64…4096; 12 seeds in d = 1 (two folders of 6, combined by rate-intervals.py) and d = 2, 6 in d = 4 and 8.
# About 85 minutes on 2 CPU cores.
# DRIFT_BIN: see docs/drift-cli.sh. The combined figure: docs/particles/rate-plot.py (see docs/particles.md §1).
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
grid=(--sweep-n 64,128,256,512,1024,2048,4096 --time 5 --start target --record-every 50)
out=docs/particles/rate-table
drift particles "${grid[@]}" --dims 1 --seeds 6 --out $out/d1
drift particles "${grid[@]}" --dims 1 --seeds 6 --seed 6 --out $out/d1-seeds6-11
drift particles "${grid[@]}" --dims 2 --seeds 12 --out $out/d2
drift particles "${grid[@]}" --dims 4,8 --seeds 6 --out $out/d4-8
