#!/usr/bin/env bash
# The tight rate table of docs/particles.md §1: the conservative field from an equilibrium start, h = N^(-1/(d+4)),
# N = 64…4096, 24 seeds in d = 1 (its runs spread most) and 12 in d = 2, 4, 8. About 50 minutes on 2 CPU cores.
# DRIFT_BIN: a built drift.dll folder to use instead of building (to keep rebuilding while it runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${DRIFT_BIN:-}" ]]; then
  dotnet build src/Drift.Train -c Release >/dev/null
  DRIFT_BIN=src/Drift.Train/bin/Release/net10.0/linux-x64
fi
drift() { dotnet "$DRIFT_BIN/drift.dll" "$@"; }
grid=(--sweep-n 64,128,256,512,1024,2048,4096 --time 5 --start target --record-every 50)
out=docs/particles/rate-table
drift particles "${grid[@]}" --dims 1 --seeds 24 --out $out/d1
drift particles "${grid[@]}" --dims 2,4,8 --seeds 12 --out $out/d2-4-8
