#!/usr/bin/env bash
# The tight rate table of docs/particles.md §1: the conservative field from an equilibrium start, h = N^(-1/(d+4)),
# N = 64…4096; 20 seeds in d = 1 (folders of 6, 6 and 8, combined by rate-intervals.py), 12 in d = 2, 6 in d = 4 and 8.
# About 110 minutes on 2 CPU cores (the folders' rates.md give each one's time); the last line draws the combined
# figure. DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
grid=(--sweep-n 64,128,256,512,1024,2048,4096 --time 5 --start target --record-every 50)
out=docs/particles/rate-table
drift particles "${grid[@]}" --dims 1 --seeds 6 --out $out/d1
drift particles "${grid[@]}" --dims 1 --seeds 6 --seed 6 --out $out/d1-seeds6-11
drift particles "${grid[@]}" --dims 1 --seeds 8 --seed 12 --out $out/d1-seeds12-19
drift particles "${grid[@]}" --dims 2 --seeds 12 --out $out/d2
drift particles "${grid[@]}" --dims 4,8 --seeds 6 --out $out/d4-8
docs/particles/rate-plot.py --out $out/rate-table.png \
  --title "Conservative field, equilibrium start, h = N^(-1/(d+4)): root time-averaged velocity" \
  =$out/d1/sweep.csv,$out/d1-seeds6-11/sweep.csv,$out/d1-seeds12-19/sweep.csv =$out/d2/sweep.csv =$out/d4-8/sweep.csv
