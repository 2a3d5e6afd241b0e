#!/usr/bin/env bash
# The three fields on the toy sets (docs/particles.md §9): 3 seeds each at batch 512 and 1000 steps (the Sinkhorn
# field costs about twice the others per step on CPU), at the default scales and at one narrow fixed
# bandwidth, where the Sinkhorn-drifting paper reports one-sided normalisation losing modes. About 5 minutes
# on 2 CPU cores. DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
export CI=1
size=(--seeds 3 --steps 1000 --batch 512)
# drift compare never writes over a finished comparison: the committed reports make way for the new ones.
rm -rf docs/compare/sinkhorn-8gaussians docs/compare/sinkhorn-checkerboard docs/compare/sinkhorn-8gaussians-narrow
for data in 8gaussians checkerboard; do
  drift compare --data $data --fields conservative,laplace,sinkhorn "${size[@]}" --out docs/compare/sinkhorn-$data
done
drift compare --data 8gaussians --fields conservative,sinkhorn "${size[@]}" --bandwidth 0.05 --anneal 0 --out docs/compare/sinkhorn-8gaussians-narrow
