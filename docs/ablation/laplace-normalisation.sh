#!/usr/bin/env bash
# The laplace field's normalisation on 2-D data (docs/quality.md, "Without the cross weights", measured it on images
# only): the paper's (both axes, cross-weighted, the points default), both axes without the cross weights, and rows
# only, each `drift train --field laplace` at the README's default otherwise (2000 steps, batch 1024), seeds 0–2, on a
# toy set with a uniform density (checkerboard), one with 25 modes (25gaussians) and one with a 10 % mode far from the
# rest (docs/unseen/blobs.csv, docs/annealing.md); each final generator judged by `drift eval` (2,000 samples against
# held-out data). Writes docs/ablation/laplace-normalisation.md (means ± standard deviations over the seeds). About 30
# minutes on 2 CPU cores. OUT: where the runs go (a new folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/drift-cli.sh  # DRIFT_BIN: see there
out=${OUT:-runs/laplace-normalisation}
[[ ! -e $out ]] || { echo "$out exists: give OUT a new folder" >&2; exit 2; }
variants=("paper=" "no-cross=--cross-weights false" "rows-only=--rows-only")
for data in checkerboard 25gaussians docs/unseen/blobs.csv; do
  for variant in "${variants[@]}"; do
    read -r -a options <<<"${variant#*=}"
    for seed in 0 1 2; do
      run="$out/$(basename "$data" .csv)-${variant%%=*}-seed$seed"
      drift train --data "$data" --field laplace "${options[@]}" --seed "$seed" --out "$run" > /dev/null
      drift eval --checkpoint "$run" > /dev/null
    done
  done
done
# The table goes into the run folder first, so that a failure leaves the committed one whole.
python3 - "$out" > "$out/table.md" <<'PY'
import json, statistics, sys
out = sys.argv[1]
names = {"paper": "both axes, cross-weighted (the paper's; the points default)", "no-cross": "both axes, no cross weights",
         "rows-only": "rows only"}
metrics = ["energy distance", "MMD²", "sliced W2²", "modes covered", "mode mass error", "off-mode share"]
print("| data | normalisation | " + " | ".join(metrics) + " |")
print("|---|---|" + "---|" * len(metrics))
for data in ("checkerboard", "25gaussians", "blobs"):
    for variant, label in names.items():
        evals = [json.load(open(f"{out}/{data}-{variant}-seed{s}/eval.json", encoding="utf-8")) for s in range(3)]
        cells, floors = [], []
        for metric in metrics:
            found = [next((r for r in e["metrics"] if r["metric"].startswith(metric)), None) for e in evals]
            if found[0] is None:
                cells.append("–"); floors.append("–"); continue
            values = [f["generated"] for f in found]
            cells.append(f"{statistics.mean(values):.4g} ± {statistics.stdev(values):.2g}")
            floors.append(f"{statistics.mean(f['floor'] for f in found):.4g}")
        print(f"| {data} | {label} | " + " | ".join(cells) + " |")
    print(f"| {data} | data vs held-out (floor) | " + " | ".join(floors) + " |")
PY
mv "$out/table.md" docs/ablation/laplace-normalisation.md
cat docs/ablation/laplace-normalisation.md
