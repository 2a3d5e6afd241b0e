#!/usr/bin/env bash
# Fixed-seed proof that a refactor changed no result: short runs of every field, points and images, and both
# compare commands, with two builds of drift; metrics.csv must match in every column but wall time, config.json,
# report.json but wall time, samples and grids byte for byte.
#   bash bench/same-results.sh BEFORE_DIR AFTER_DIR   # each a folder holding drift.dll (a Release build's output)
#   bash bench/same-results.sh --run DIR OUT          # only write the runs of the build in DIR into OUT
# Fields are taken from `drift train --help`, so a field only the newer build has is run by it alone. compare-images
# needs a metric classifier: CLASSIFIER=DIR (from `drift classifier --epochs 1`, about a minute), else it is skipped.
set -euo pipefail

runs() {  # build-dir out-dir
    local drift=(dotnet "$1/drift.dll") out=$2 fields
    mkdir -p "$out"
    fields=$("${drift[@]}" train --help | sed -n 's/.*--field <\([a-z|]*\)>.*/\1/p' | head -1 | tr '|' ' ')
    for f in $fields; do
        "${drift[@]}" train --data moons --field "$f" --steps 60 --batch 128 --width 32 --depth 2 --log-every 5 \
            --eval-every 30 --eval-samples 200 --checkpoint-every 30 --seed 3 --out "$out/points-$f" > /dev/null
        "${drift[@]}" sample --checkpoint "$out/points-$f" --n 500 --seed 1 --out "$out/points-$f-samples.csv" > /dev/null
        "${drift[@]}" train-images --field "$f" --steps 8 --class-batch 4 --class-positives 8 --width 4 --noise-dim 8 \
            --features pixels mean2 std4 --log-every 2 --grid-every 4 --checkpoint-every 4 --warmup 2 --seed 3 \
            --out "$out/images-$f" > /dev/null
        "${drift[@]}" sample --checkpoint "$out/images-$f" --n 20 --seed 1 --out "$out/images-$f-samples.png" > /dev/null
    done
    "${drift[@]}" compare --data moons --fields conservative,laplace --seeds 2 --steps 40 --batch 128 --width 32 --depth 2 \
        --eval-every 20 --eval-samples 200 --out "$out/compare" > /dev/null
    if [[ -n ${CLASSIFIER:-} ]]; then
        "${drift[@]}" compare-images --classifier "$CLASSIFIER" --fields conservative,laplace --seeds 2 --steps 6 --class-batch 4 \
            --class-positives 8 --width 4 --noise-dim 8 --features pixels mean2 --eval-every 3 --eval-samples 20 --eval-n 200 \
            --out "$out/compare-images" > /dev/null
    fi
}

# metrics.csv without its wall-time column (the header names it).
no_time() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^wall_s$/) skip[i] = 1 }
    { line = ""; for (i = 1; i <= NF; i++) if (!(i in skip)) line = line $i ","; print line }' "$1"; }

if [[ ${1:-} == --run ]]; then runs "$2" "$3"; exit; fi
[[ $# == 2 ]] || { echo "usage: bash bench/same-results.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR" >&2; exit 2; }
work=$(mktemp -d)
runs "$1" "$work/before"
runs "$2" "$work/after"
status=0
for run in "$work"/before/*/ "$work"/before/compare*/runs/*/; do
    [[ -e $run/metrics.csv ]] || continue
    name=${run#"$work/before/"}; name=${name%/}
    if cmp -s <(no_time "$run/metrics.csv") <(no_time "$work/after/$name/metrics.csv"); then echo "same  $name/metrics.csv (but wall time)"
    else echo "DIFF  $name/metrics.csv"; status=1; fi
    for f in "$run"/config.json "$run"/grid.png "$run"/grids/*.png; do
        [[ -e $f ]] || continue
        rel=${f#"$work/before/"}; rel=${rel//\/\//\/}
        if cmp -s "$f" "$work/after/$rel"; then echo "same  $rel"; else echo "DIFF  $rel"; status=1; fi
    done
done
for f in "$work"/before/*-samples.* "$work"/before/compare*/samples.png; do
    rel=${f#"$work/before/"}
    if cmp -s "$f" "$work/after/$rel"; then echo "same  $rel"; else echo "DIFF  $rel"; status=1; fi
done
for f in "$work"/before/compare*/report.json; do
    rel=${f#"$work/before/"}
    if cmp -s <(grep -v wallSeconds "$f") <(grep -v wallSeconds "$work/after/$rel"); then echo "same  $rel (but wall time)"
    else echo "DIFF  $rel"; status=1; fi
done
echo "runs kept in $work"
exit $status
