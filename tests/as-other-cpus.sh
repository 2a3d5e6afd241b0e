#!/usr/bin/env bash
# The numerics tests (Category=Numerics: every field, loss, network and metric against its float64 or explicit-loop
# oracle) again as a CPU with AVX2 and no AVX-512, and as one with SSE4.1 only, would run them. libtorch's kernels pick
# their code by the CPU they run on (ATen's vector code, oneDNN's convolutions with their channel blocks of 16 floats
# under AVX-512 and 8 under AVX2, MKL's matrix products); these variables cap that choice, so the other code paths run
# here. They cannot lift a CPU past what it has, nor bring another CPU's faults at the same instruction set (the AVX-512
# convolution fault showed on some AVX-512 hosts and not others: README, "Hardware notes").
# One test at a time, as the whole suite runs (tests/Drift.Tests/xunit.runner.json): TorchSharp 0.107 frees a tensor or a Scalar made from a .NET number in its finalizer, and nothing
# keeps one alive while libtorch reads it, so a collection that another test's thread starts meanwhile can free it under
# libtorch (README, "TorchSharp's objects and the garbage collector"). The slower kernels of a capped CPU widen that window:
# run in parallel under the SSE4.1 cap, these tests crashed the test host in 2 of 17 runs (a segfault inside libtorch's
# multiply, reading memory no longer mapped), and with collections forced often (DOTNET_GCgen0size=0x80000) in every parallel run,
# capped or not; one at a time, under that forcing and the SSE4.1 cap, both runs passed.
# A test host of its own beside the suite's, as CI runs this, shares none of that: its objects and collections are its own.
# usage, after a Release build (README's test command makes one): bash tests/as-other-cpus.sh [dotnet test options]
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
as_cpu() { # NAME ONEDNN_MAX_CPU_ISA ATEN_CPU_CAPABILITY MKL_ENABLE_INSTRUCTIONS [dotnet test options]
  local name=$1 onednn=$2 aten=$3 mkl=$4; shift 4
  echo "numerics tests as $name (ONEDNN_MAX_CPU_ISA=$onednn ATEN_CPU_CAPABILITY=$aten MKL_ENABLE_INSTRUCTIONS=$mkl)"
  ONEDNN_MAX_CPU_ISA=$onednn ATEN_CPU_CAPABILITY=$aten MKL_ENABLE_INSTRUCTIONS=$mkl \
    dotnet test tests/Drift.Tests -c Release --no-build --filter Category=Numerics "$@" || status=1
}
# A CPU with neither AVX-512 nor AVX-VNNI is itself an AVX2 CPU at most: the caps of that pass are at or above what it
# has, so the suite has just run the code that pass would (2 minutes saved on such a host); only the SSE4.1 pass is new.
if grep -qwE 'avx512f|avx_vnni' /proc/cpuinfo; then
  as_cpu "an AVX2 CPU" AVX2 avx2 AVX2 "$@"
else
  echo "numerics tests as an AVX2 CPU: skipped, this CPU has no AVX-512 or AVX-VNNI, so the suite ran as one"
fi
as_cpu "an SSE4.1 CPU" SSE41 default SSE4_2 "$@"
exit "$status"
