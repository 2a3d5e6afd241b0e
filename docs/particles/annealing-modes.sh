#!/usr/bin/env bash
# Annealing against K modes (docs/particles.md, section 11): the time from which N = 512 particles hold every
# mode's share to a mode-mass error below 0.1, for a line of K modes (std 0.5, SPACING apart), started at
# N(0, 1), with a fixed bandwidth h = 0.3 against one annealed from the target's half-width σ0 = SPACING·K/2
# down to 0.3 at rate RATE (σ(t) = σ0·e^(−RATE·t) until it reaches 0.3, then held). K = 2, 4, 8, 16, three
# seeds, total time TIME. DISPLACEMENT=1 moves the particles by the mean shift h²·V (the drifting paper's
# Gaussian-kernel field) instead of the score difference V.
#   docs/particles/annealing-modes.sh                                  # score field, rate 1, T = 40: ~15 min
#   DISPLACEMENT=1 RATE=0.2 TIME=60 docs/particles/annealing-modes.sh  # mean shift: ~3 min
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh  # DRIFT_BIN: see there
spacing=${SPACING:-2}; rate=${RATE:-1}; time=${TIME:-40}; displacement=${DISPLACEMENT:-0}
name="spacing$spacing-rate$rate$([ "$displacement" = 1 ] && echo -displacement || true)"
out=${OUT:-runs/annealing-modes}/$name
h=0.3
for k in 2 4 8 16; do
  for seed in 0 1 2; do
    common="--target line --modes $k --spacing $spacing --start normal --n 512 --dim 1 --time $time --seed $seed"
    [ "$displacement" = 1 ] && common="$common --displacement"
    drift particles $common --bandwidth $h --out "$out/k$k-fixed-seed$seed" >/dev/null
    h0=$(python3 -c "print($spacing * $k / 2)")
    r=$(python3 -c "import math; print(math.log($h0 / $h))")
    t=$(python3 -c "print($r / $rate)")
    drift particles $common --bandwidth "$h0" --anneal "$r" --anneal-time "$t" --out "$out/k$k-anneal-seed$seed" >/dev/null
  done
done
docs/particles/time-to-eps.py "$out" "docs/particles/annealing-modes-$name"
