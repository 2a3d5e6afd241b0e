#!/usr/bin/env bash
# The fourth field, the MMD gradient flow, next to the conservative field it is the unnormalised form of (README,
# "Fields compared"): 3 seeds each at batch 512 and 1000 steps on two toy sets, as docs/compare/sinkhorn.sh runs
# the Sinkhorn field. About 5 minutes on 2 CPU cores. DRIFT_BIN: see docs/drift-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
export CI=1
size=(--seeds 3 --steps 1000 --batch 512)
# drift compare never writes over a finished comparison: the committed reports make way for the new ones.
for data in 8gaussians checkerboard; do
  rm -rf docs/compare/mmd-$data
  drift compare --data $data --fields conservative,mmd "${size[@]}" --out docs/compare/mmd-$data
done
