#!/usr/bin/env bash
# Sampling speed of one trained generator three ways, N images (default 10,000) each, on this machine's cores:
# drift sample (TorchSharp, EMA weights), ONNX Runtime for .NET on the exported generator.onnx, and the exported page
# in headless Chromium (ONNX Runtime Web, WebAssembly, one thread). Prints a markdown table.
# usage: bench/sampling/run.sh RUN_DIR [N]
# needs: a Release build, npm ci --prefix export/web and --prefix bench/sampling, Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
run=$1
n=${2:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
drift() { CI=1 dotnet src/Drift.Train/bin/Release/net10.0/linux-x64/drift.dll "$@"; }
drift export --checkpoint "$run" --out "$work/export" >/dev/null
dotnet build bench/sampling/OnnxSampling -c Release >/dev/null
ext=csv
grep -q '"kind": "images"' "$work/export/generator.json" && ext=npy
seconds() { local start=$EPOCHREALTIME; "$@" >/dev/null; echo "$EPOCHREALTIME - $start" | bc -l; }
# drift sample's time per image: the difference of N and 100 images, so process start and checkpoint loading cancel.
small=$(seconds drift sample --checkpoint "$run" --n 100 --out "$work/small.$ext")
large=$(seconds drift sample --checkpoint "$run" --n "$n" --out "$work/large.$ext")
per_second=$(echo "($n - 100) / ($large - $small)" | bc -l)
echo "| runtime | samples | per second | command |"
echo "|---|---|---|---|"
printf '| TorchSharp (drift sample, %s threads) | %s | %.0f | whole command %.1f s; `drift sample --checkpoint RUN --n %s --out x.%s` less the same with --n 100 |\n' \
  "$(nproc)" "$n" "$per_second" "$large" "$n" "$ext"
ort=$(dotnet bench/sampling/OnnxSampling/bin/Release/net10.0/linux-x64/OnnxSampling.dll "$work/export" "$n")
printf '| ONNX Runtime .NET | %s | %s | %s |\n' "$n" "$(sed -E 's/.*, ([0-9]+) per second.*/\1/' <<<"$ort")" "$ort"
page=$(node bench/sampling/page-speed.mjs "$work/export/web" "$n")
printf '| Chromium, ONNX Runtime Web | %s | %s | %s |\n' "$n" "$(sed -E 's/.*, ([0-9]+) per second.*/\1/' <<<"$page")" "$page"
