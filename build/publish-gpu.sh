#!/usr/bin/env bash
# Publishes drift for a GPU machine: self-contained linux-x64 (no .NET needed there), built against TorchSharp alone
# (-p:TorchBackend=external) so that it loads the machine's own CUDA libtorch, a PyTorch install's torch/lib, instead
# of bundling the CPU one; built apart, under .gpu/artifacts, so the ordinary build is left as it is. Packed with the
# GPU acceptance script and the PyTorch mirror into .gpu/drift-gpu.tar.xz.
#
# usage: bash build/publish-gpu.sh
# then, on the GPU machine (with PyTorch installed):
#   tar -xJf drift-gpu.tar.xz && drift-gpu/bench/gpu-acceptance.sh --out results      # or drift-gpu/drift ... directly
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu
out=.gpu/drift-gpu
rm -rf "$out" .gpu/drift-gpu.tar.xz
dotnet publish src/Drift.Train -c Release -r linux-x64 --self-contained -p:TorchBackend=external --artifacts-path .gpu/artifacts -o "$out/app" >.gpu/publish.log 2>&1 \
  || { tail -30 .gpu/publish.log >&2; echo "publish-gpu: dotnet publish failed (log: .gpu/publish.log)" >&2; exit 1; }
if [ -e "$out/app/libtorch_cpu.so" ]; then
  echo "publish-gpu: the CPU libtorch was published too; this build must leave libtorch to the machine" >&2
  exit 1
fi
# The GPU machine reaches no package server: Debian's Fashion-MNIST goes along where it is installed here.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  mkdir -p "$out/data"
  cp -r /usr/share/datasets/fashion-mnist "$out/data/"
fi
mkdir -p "$out/bench"
cp bench/gpu-acceptance.sh "$out/bench/"
cp -r bench/pytorch "$out/bench/pytorch"
# drift: the app with CUDA's libtorch on the library path, found through the machine's PyTorch.
cat >"$out/drift" <<'SH'
#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
torch_lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null) \
  || { echo "drift: no PyTorch found by python3; its torch/lib holds the CUDA libtorch this build loads" >&2; exit 2; }
LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/app/drift" "$@"
SH
chmod +x "$out/drift"
tar -C .gpu -cJf .gpu/drift-gpu.tar.xz drift-gpu
echo "publish-gpu: .gpu/drift-gpu.tar.xz, $(du -h .gpu/drift-gpu.tar.xz | cut -f1) (unpacked $(du -sh "$out" | cut -f1))"
