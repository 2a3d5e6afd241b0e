#!/usr/bin/env bash
# docs/quality.md, "The noise scale": the committed generators sampled at noise scales 0.8 to 1.35 (noise-scale.py, on
# the exports in PyTorch) and judged as the committed samples are (drift eval --images, the four spaces of
# docs/judges.md). Needs /usr/bin/python3 with torch and numpy (build/test-deps.sh installs them) and the three metric
# networks (docs/judges.sh trains them). About 10 minutes on 2 CPU cores. Reports: runs/noise-scale/FIELD-sS.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh
out=runs/noise-scale
scales=(0.8 0.9 1 1.1 1.2 1.35)
[[ ! -e $out ]] || { echo "$out exists: move it away first" >&2; exit 2; }
mkdir -p "$out"
/usr/bin/python3 docs/quality/noise-scale.py "$out" "${scales[@]}"
for field in conservative laplace; do
  for scale in "${scales[@]}"; do
    drift eval --images "$out/$field-s$scale.npy" --data fashion-mnist --classifier checkpoints/classifier-fashion-mnist \
      checkpoints/classifier-pooled-fashion-mnist checkpoints/classifier-e10-fashion-mnist --out "$out/$field-s$scale.json" > "$out/$field-s$scale.md"
  done
done
