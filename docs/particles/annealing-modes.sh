#!/usr/bin/env bash
# Annealing against K modes (docs/particles.md, section 11): the time until N = 512 particles hold every
# mode's share to a mode-mass error below 0.1, for a line of K modes (std 0.5, SPACING apart, default 2),
# started at N(0, 1), with a fixed bandwidth h = 0.3 against one annealed from the target's half-width
# σ0 = SPACING·K/2 down to 0.3 at rate 1 (σ(t) = σ0·e^(−t) until it reaches 0.3, then held).
# K = 2, 4, 8, 16, three seeds, T = 40. About 15 minutes on 2 CPU cores per spacing.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DRIFT_BIN:-src/Drift.Train/bin/Release/net10.0/linux-x64}
[ -n "${DRIFT_BIN:-}" ] || dotnet build src/Drift.Train -c Release >/dev/null
drift() { CI=1 dotnet "$bin/drift.dll" "$@" >/dev/null; }
spacing=${SPACING:-2}
out=${OUT:-runs/annealing-modes}/spacing$spacing
h=0.3
for k in 2 4 8 16; do
  for seed in 0 1 2; do
    common="--target line --modes $k --spacing $spacing --start normal --n 512 --dim 1 --time 40 --seed $seed"
    drift particles $common --bandwidth $h --out "$out/k$k-fixed-seed$seed"
    h0=$(python3 -c "print($spacing * $k / 2)")
    r=$(python3 -c "import math; print(math.log($h0 / $h))")
    drift particles $common --bandwidth "$h0" --anneal "$r" --anneal-time "$r" --out "$out/k$k-anneal-seed$seed"
  done
done
python3 docs/particles/time-to-eps.py "$out" "docs/particles/annealing-modes-spacing$spacing"
