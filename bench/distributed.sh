#!/usr/bin/env bash
# Data-parallel training on one machine (docs/distributed.md): steps per second of the 2-D default run (the
# conservative field, the laplace field, over both axes on points, and the Sinkhorn field) and of the documented image run (the
# conservative field, and the laplace field over rows only and over both axes) at K = 1 (libtorch's threads: all
# cores) and K = 2 (drift gives each process its share of them: one thread each here), and what each process spent
# communicating (drift's own log line).
# Needs MPICH (apt-get install mpich).
#   bash bench/distributed.sh [points-steps] [image-steps]      # defaults 300 and 30
set -euo pipefail
cd "$(dirname "$0")/.."
points_steps=${1:-300}
image_steps=${2:-30}
dotnet build src/Drift.Train -c Release >/dev/null
drift=(dotnet src/Drift.Train/bin/Release/net10.0/linux-x64/drift.dll)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CI=1
run() {  # name processes args...
  local name=$1 k=$2; shift 2
  local launch=() start end
  (( k > 1 )) && launch=(mpiexec.mpich -n "$k")
  start=$(date +%s.%N)
  "${launch[@]}" "${drift[@]}" "$@" --out "$work/$name-$k" > "$work/$name-$k.log" 2>&1
  end=$(date +%s.%N)
  local steps wall
  steps=$(tail -n 1 "$work/$name-$k/metrics.csv" | cut -d, -f1)
  wall=$(tail -n 1 "$work/$name-$k/metrics.csv" | cut -d, -f2)
  printf '| %s | %d | %d | %.1f | %.2f | %s |\n' "$name" "$k" "$steps" "$wall" "$(bc -l <<< "$steps / $wall")" \
    "$(grep -o 'per step and process: .*' "$work/$name-$k.log" | sed 's/per step and process: //' || echo '-')"
}
echo "| run | processes | steps | training wall s | steps/s | communication per step and process |"
echo "|---|---|---|---|---|---|"
points=(train --steps "$points_steps" --eval-every 100000 --log-every 50)
images=(train-images --width 32 --class-batch 32 --steps "$image_steps" --eval-every 100000 --grid-every 100000 --log-every 10)
for k in 1 2; do run points "$k" "${points[@]}"; done
for k in 1 2; do run points-laplace "$k" "${points[@]}" --field laplace; done
for k in 1 2; do run points-sinkhorn "$k" "${points[@]}" --field sinkhorn; done
for k in 1 2; do run images "$k" "${images[@]}"; done
for k in 1 2; do run images-laplace-rows "$k" "${images[@]}" --field laplace; done
for k in 1 2; do run images-laplace-both "$k" "${images[@]}" --field laplace --rows-only false; done
