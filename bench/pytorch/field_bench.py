"""The conservative field of `drift bench --sizes`, in PyTorch: the same inputs' shapes, the same math (Gaussian-kernel
softmax means of positives and of the other generated samples, self pairs left out, each bandwidth's field scaled to unit
RMS, bandwidths sqrt(d) * (1, 0.5, 2)), in row chunks of addmm logits as Drift computes it, timed with device sync and
medians, and checked against the same field in float64 on the first rows. The comparison that counts is on the GPU
(PyTorch 2.x there); Debian's python3-torch 1.13 runs it on the CPU too, slowly.

usage: python3 bench/pytorch/field_bench.py --sizes 16384x16384x784,65536x65536x784 --device cuda [--tf32] [--scales 1]
"""
import argparse
import math
import statistics
import time

import torch


def kernel_mean(rows, y, h, exclude_from=None):
    """Per row, sum_j softmax_j(-|x - y_j|^2 / 2h^2) y_j; the |x|^2 term cancels in the softmax."""
    logits = torch.addmm((-0.5 * (y * y).sum(1)).unsqueeze(0), rows, y.t()).div_(h * h)
    if exclude_from is not None:
        idx = torch.arange(rows.shape[0], device=rows.device)
        logits[idx, exclude_from + idx] = float("-inf")
    return torch.softmax(logits, 1) @ y


def field(x, pos, bandwidths, chunk_rows):
    centre = torch.cat([x, pos]).mean(0)
    x, pos = x - centre, pos - centre
    per_scale = [torch.empty_like(x) for _ in bandwidths]
    for r0 in range(0, x.shape[0], chunk_rows):
        rows = x[r0:r0 + chunk_rows]
        for s, h in enumerate(bandwidths):
            per_scale[s][r0:r0 + rows.shape[0]] = (kernel_mean(rows, pos, h) - kernel_mean(rows, x, h, r0)) / (h * h)
    return sum(v / v.pow(2).sum(1).mean().sqrt().clamp_min(1e-30) for v in per_scale)


def reference_rows(x, pos, bandwidths, rows):
    """The field's first `rows` rows in float64 (its per-scale RMS needs every row: computed in float64 chunks)."""
    x64, pos64 = x.double(), pos.double()
    centre = torch.cat([x64, pos64]).mean(0)
    x64, pos64 = x64 - centre, pos64 - centre
    total = 0
    for h in bandwidths:
        parts = []
        for r0 in range(0, x64.shape[0], 1024):
            chunk = x64[r0:r0 + 1024]
            parts.append((kernel_mean(chunk, pos64, h) - kernel_mean(chunk, x64, h, r0)) / (h * h))
        v = torch.cat(parts)
        total = total + v[:rows] / v.pow(2).sum(1).mean().sqrt()
    return total


def median_ms(run, device, repeats):
    run()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1024x1024x2,2048x2048x784")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tf32", action="store_true")
    parser.add_argument("--scales", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check-rows", type=int, default=512)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = args.tf32
    print(f"PyTorch {torch.__version__}, device {device}, {torch.get_num_threads()} CPU threads, "
          f"{'TF32' if args.tf32 else 'float32'}, {args.scales} scale(s)")
    print("| field | N | M | d | path | median ms | effective GFLOP/s | max error vs float64 (relative, first rows) |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        n, m, d = (int(v) for v in size.split("x"))
        g = torch.Generator().manual_seed(1)
        x = torch.randn(n, d, generator=g).to(device)
        pos = (torch.randn(m, d, generator=g) + 0.3).to(device)
        bandwidths = [s * math.sqrt(d) for s in (1, 0.5, 2)[:args.scales]]
        # Drift's GPU chunk budget: 2^28 float32 kernel entries (1 GiB) per chunk; its CPU one 2^22.
        budget = (1 << 28) if device.type == "cuda" else (1 << 22)
        chunk = max(1, min(n, budget // (n + m)))
        ms = median_ms(lambda: field(x, pos, bandwidths, chunk), device, args.repeats)
        rows = min(n, args.check_rows)
        ref = reference_rows(x, pos, bandwidths, rows)
        err = ((field(x, pos, bandwidths, chunk)[:rows].double() - ref).abs().max() / ref.abs().max()).item()
        flops = 2.0 * n * (n + m) * d * (1 + len(bandwidths))
        print(f"| conservative (PyTorch) | {n} | {m} | {d} | row chunks of {chunk} | {ms:.1f} | {flops / ms / 1e6:.1f} | {err:.1e} |", flush=True)


if __name__ == "__main__":
    main()
