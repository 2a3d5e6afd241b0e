#!/usr/bin/env bash
# Reproduces every table in docs/particles.md (about 15 minutes on 2 CPU cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build src/Drift.Train -c Release >/dev/null
drift() { dotnet src/Drift.Train/bin/Release/net10.0/linux-x64/drift.dll "$@"; }
grid=(--sweep-n 64,128,256,512,1024 --dims 1,2,4 --seeds 3 --time 5)
out=docs/particles
drift particles "${grid[@]}" --start target --out $out/conservative-rule-target
drift particles "${grid[@]}" --start target --bandwidth 0.3 --out $out/conservative-fixed-target
drift particles "${grid[@]}" --start shifted --out $out/conservative-rule-shifted
drift particles "${grid[@]}" --start shifted --anneal 1 --out $out/conservative-rule-shifted-anneal
drift particles "${grid[@]}" --start target --field laplace --out $out/laplace-target
drift particles --self-term exclude --n 512 --dim 2 --time 5 --out $out/conservative-exclude-single
