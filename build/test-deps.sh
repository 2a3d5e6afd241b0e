#!/usr/bin/env bash
# What the tests need beyond the .NET SDK, installed only where missing: Debian's PyTorch and ONNX (the export
# tests load exported generators with them), Chromium (the web page test), MPICH (the data-parallel tests start
# drift under its mpiexec) and ONNX Runtime Web from npm (export/web, pinned by its lockfile; drift export
# --format web copies it).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
/usr/bin/python3 -c 'import torch, onnx, numpy' 2>/dev/null || need+=(python3-torch python3-onnx python3-numpy)
command -v chromium >/dev/null || need+=(chromium)
{ command -v mpiexec.mpich >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/libmpich.so.12 ]; } || need+=(mpich)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -f export/web/node_modules/onnxruntime-web/dist/ort.wasm.min.js ] || npm ci --prefix export/web --no-audit --no-fund --loglevel=error
