#!/usr/bin/env bash
# One screening run of the image-quality study: train-images with the given options (seed, steps and the
# README's CPU size unless overridden), FD and recall every 50 steps against steps and wall time
# (metrics.csv), then `drift eval` on 5,000 EMA samples (eval.json: FD, precision/recall k = 5,
# per-class recall). Usage: docs/quality/screen.sh NAME [train-images options...]
# Needs the metric classifier: drift classifier --data fashion-mnist
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1; shift
root=${STUDY_DIR:-runs/quality}
source docs/drift-cli.sh  # DRIFT_BIN: a copy of the build output, so the tree can be rebuilt while a screen runs.
mkdir -p "$root"
rm -rf "${root:?}/$name"
drift train-images --steps 300 --width 32 --class-batch 32 --classifier checkpoints/classifier-fashion-mnist \
  --eval-every 50 --eval-samples 1000 --grid-every 100 "$@" --out "$root/$name" > "$root/$name.log" 2>&1
drift eval --checkpoint "$root/$name" --n 5000 > "$root/$name.eval.log" 2>&1
tail -n 1 "$root/$name/metrics.csv" | awk -F, -v n="$name" '{printf "%s: %s s,", n, $2}'
grep -E 'FD|recall \(|precision|per-class' "$root/$name.eval.log" | awk -F'|' '{printf " %s=%s", $2, $3}'; echo
