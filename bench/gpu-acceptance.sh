#!/usr/bin/env bash
# The first GPU session in one script: smallest first, everything into one folder, about 8 minutes on an H100/H200.
#   1. drift check: every field (auto and chunked paths, grouped), the loss gradient and the generators (unpadded
#      convolutions on CUDA) in float32 on the device against float64 on the CPU; then the fields with TF32
#   2. drift bench: fields at 16384x16384x784 and 65536x65536x784, TF32, beside the PyTorch mirror on the same device
#   3. drift bench: the image training step at the documented sizes (width 32 and 64)
#   4. a 150-second Fashion-MNIST run per field (steps chosen from step 3's time), 5,000 EMA samples each (uint8 + labels)
#   5. the PyTorch mirrors of the training steps on the same device (bench/pytorch/step_bench.py, image_step_bench.py),
#      on a short 2-D run's and the conservative run's exported generators, beside steps 2 and 3's rows
#   6. summary.md: every table and what each run reached
#
# usage: bench/gpu-acceptance.sh [--out DIR] [--dry-run]
#   --dry-run: on the CPU at tiny sizes, on a tiny image set the script writes, with 6-second runs: proves every step
#              of the script works (CI runs it). Nothing in it is a measurement.
# drift comes from, in order: $DRIFT (a command), ../drift beside this script (build/publish-gpu.sh's package), the
# repository's Release build. The PyTorch mirror runs with the first python3 that imports torch ($PYTHON to choose).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=gpu-acceptance
dry=0
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    *) echo "gpu-acceptance: unknown argument $1 (use --out DIR, --dry-run)" >&2; exit 2 ;;
  esac
done
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "gpu-acceptance: $out exists and is not empty; choose a new --out" >&2
  exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -n "${DRIFT:-}" ]; then
  read -r -a drift_cmd <<<"$DRIFT"
elif [ -x "$here/../drift" ]; then
  drift_cmd=("$here/../drift")
else
  repo=$(cd "$here/.." && pwd)
  dll="$repo/src/Drift.Train/bin/Release/net10.0/linux-x64/drift.dll"
  [ -f "$dll" ] || dotnet build "$repo/src/Drift.Train" -c Release >/dev/null
  drift_cmd=(dotnet "$dll")
fi
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import torch' 2>/dev/null; then python=$candidate; break; fi
  done
fi

log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$out/log.txt"; }
step() { # NAME COMMAND...: runs one step (at most $step_limit s), its output in NAME.txt; a failed step is recorded and the script goes on
  local name=$1; shift
  log "$name: $*"
  [ "$1" = drift ] && { shift; set -- "${drift_cmd[@]}" "$@"; }  # timeout runs programs, not shell functions
  local started=$SECONDS
  if CI=1 timeout -k 10 "$step_limit" "$@" >"$out/$name.txt" 2>&1; then
    log "$name: done in $((SECONDS - started)) s"
  else
    log "$name: FAILED (exit $?) after $((SECONDS - started)) s; see $name.txt"
    failures+=("$name")
  fi
}
failures=()
# No one step may take the lease: a hang or a slow path costs at most this, and the rest still runs.
step_limit=${STEP_LIMIT:-120}

if ((dry)); then
  device=cpu
  sizes=256x256x16
  image_steps=4x4,8x8
  run_seconds=6
  samples=200
  data="$out/tiny-images"
  mkdir -p "$data"
  # Ten classes of 8x8 images, MNIST's IDX format, written with the standard library alone.
  python3 - "$data" <<'PY'
import random, struct, sys
rng = random.Random(0)
for split, n in (("train", 200), ("t10k", 50)):
    labels = [i % 10 for i in range(n)]
    pixels = bytes(min(255, (40 + 20 * l if (p + l) % 3 == 0 else 0) + rng.randrange(30)) for l in labels for p in range(64))
    with open(f"{sys.argv[1]}/{split}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">BBBBiii", 0, 0, 8, 3, n, 8, 8) + pixels)
    with open(f"{sys.argv[1]}/{split}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">BBBBi", 0, 0, 8, 1, n) + bytes(labels))
PY
  run_args=(--data "$data" --width 4 --class-batch 4 --class-positives 8 --features pixels mean2)
  mirror_args=(--class-batch 4 --positives 8 --features pixels mean2 --repeats 1)
  points_batch=64
  points_device=cpu
else
  device=cuda
  sizes=16384x16384x784,65536x65536x784
  image_steps=32x32,64x64
  run_seconds=150
  samples=5000
  # Fashion-MNIST from build/publish-gpu.sh's package where it brought it, else from Debian's package on this machine.
  data=fashion-mnist
  [ -d "$here/../data/fashion-mnist" ] && data="$here/../data/fashion-mnist"
  run_args=(--data "$data" --width 64 --class-batch 64 --class-positives 256)
  mirror_args=(--class-batch 64 --positives 256 --repeats 5)
  points_batch=1024
  points_device=cuda:0  # the one step on an explicitly numbered GPU (--device cuda:N)
fi
log "drift: ${drift_cmd[*]}; device $device; python with torch: ${python:-none}; out $out"

tf32=()
[ "$device" = cuda ] && tf32=(--tf32)
step check drift check --device "$device" "${tf32[@]}" --out "$out/check.md"
step bench-fields drift bench --device "$device" "${tf32[@]}" --sizes "$sizes" --step-batches 1024 --image-steps none --repeats 3 --out "$out/bench-fields.md"
if [ -n "$python" ]; then
  step bench-pytorch "$python" "$here/pytorch/field_bench.py" --device "$device" "${tf32[@]}" --sizes "$sizes" --repeats 3
else
  log "bench-pytorch: skipped, no python3 with torch"
  failures+=(bench-pytorch)
fi
step bench-images drift bench --device "$device" --sizes 64x64x2 --repeats 3 --step-batches 64 --image-steps "$image_steps" --out "$out/bench-images.md"

# Steps for the timed runs: the bench's step time at the run's width (the last image-steps entry), with a tenth to
# spare for evaluation and grids; the run is stopped by SIGTERM at the time limit regardless (it saves and exits 130).
width=${image_steps##*,}; width=${width%x*}
for field in conservative laplace; do
  # The "median ms" column of the image-step table, found by its header.
  ms=$(awk -F'|' -v f="$field" -v w="$width" '/^\| image training step/ { for (i = 1; i <= NF; i++) if ($i ~ /median ms/) c = i; next }
    c && $2 ~ "^ " f "," && $3+0 == w { gsub(/ /, "", $c); print $c; exit }' "$out/bench-images.md" 2>/dev/null || true)
  steps=$(awk -v s="$run_seconds" -v ms="${ms:-0}" 'BEGIN { n = ms > 0 ? int(0.9 * s * 1000 / ms) : 100; print (n < 10 ? 10 : n) }')
  run="$out/runs/$field"
  log "run-$field: $steps steps (bench: ${ms:-?} ms a step), stopped at $run_seconds s at the latest"
  started=$SECONDS
  set +e
  CI=1 timeout -s TERM -k 60 "$run_seconds" "${drift_cmd[@]}" train-images --device "$device" --field "$field" "${run_args[@]}" --steps "$steps" \
    --warmup $((steps / 10)) --grid-every 1000000 --checkpoint-every 1000000 --out "$run" >"$out/run-$field.txt" 2>&1
  code=$?
  set -e
  log "run-$field: exit $code after $((SECONDS - started)) s ($( [ $code = 0 ] && echo finished || echo 'stopped at the time limit, checkpoint saved'))"
  if [ $code != 0 ] && [ $code != 124 ] && [ $code != 130 ]; then failures+=("run-$field"); continue; fi
  step "samples-$field" drift sample --checkpoint "$run" --device "$device" --n "$samples" --out "$out/samples/fashion-mnist-$field.npy"
done

# The training steps in PyTorch on the same device: the image step on the conservative run's generator (width 64, as
# bench-images' 64x64 row, full float32 as it is), the 2-D step on a two-step run's MLP (bench-fields' step row).
if [ -n "$python" ] && [ -f "$out/runs/conservative/checkpoint.bin" ]; then
  step export-image drift export --checkpoint "$out/runs/conservative" --format safetensors --out "$out/export-image"
  # Each field as drift train-images trains it by default: the laplace field over rows only.
  for field in conservative laplace; do
    step "bench-pytorch-image-$field" "$python" "$here/pytorch/image_step_bench.py" --export "$out/export-image" --device "$device" \
      --field "$field" $( [ "$field" = laplace ] && echo --rows-only ) "${mirror_args[@]}"
  done
  step train-points drift train --device "$points_device" --steps 2 --batch "$points_batch" --out "$out/runs/points"
  step export-points drift export --checkpoint "$out/runs/points" --format safetensors --out "$out/export-points"
  step bench-pytorch-points "$python" "$here/pytorch/step_bench.py" --export "$out/export-points" --device "$device" --batch "$points_batch" --repeats 5
else
  log "bench-pytorch-steps: skipped, no python3 with torch or no conservative run"
  failures+=(bench-pytorch-steps)
fi

{
  echo "# GPU acceptance ($( ((dry)) && echo 'dry run on the CPU: no measurement' || echo "device $device"))"
  echo
  echo "drift: ${drift_cmd[*]}; $(date -u +%Y-%m-%dT%H:%MZ)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/GPU: /'
  for part in check bench-fields bench-pytorch bench-images bench-pytorch-image-conservative bench-pytorch-image-laplace bench-pytorch-points; do
    echo; echo "## $part"; echo
    if [ -f "$out/$part.md" ]; then cat "$out/$part.md"; elif [ -f "$out/$part.txt" ]; then grep '^|\|PyTorch' "$out/$part.txt" || tail -5 "$out/$part.txt"; fi
  done
  echo; echo "## runs"; echo
  for field in conservative laplace; do
    [ -f "$out/runs/$field/metrics.csv" ] && echo "- $field: $(tail -1 "$out/runs/$field/metrics.csv" | cut -d, -f1,2 | sed 's/,/ steps in /') s; samples: $(ls "$out/samples" 2>/dev/null | grep -c "$field" || true) files"
  done
  echo; echo "failed steps: ${failures[*]:-none}"
} >"$out/summary.md"
log "wrote $out/summary.md; failed steps: ${failures[*]:-none}"
((${#failures[@]} == 0))
