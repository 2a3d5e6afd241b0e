"""The 2-D training step of `drift train` in PyTorch: the MLP generator (the module `drift export` ships), the
conservative field over the batch (Gaussian-kernel softmax means of the positives and of the other generated samples,
self pairs left out, each bandwidth's field at unit RMS), the drift loss mean |x - stopgrad(x + eta V)|^2 = eta^2 mean |V|^2,
backward and Adam: the same shapes and the same math as Drift's step, timed as `drift bench --step-batches` times its own.

  python3 bench/pytorch/step_bench.py --export DIR [--batch 1024] [--repeats 20] [--device cuda]
      DIR: `drift export --checkpoint RUN --format safetensors` of a points run (the default MLP 256x3 for the
      README's comparison); times the step and prints its median.
  python3 bench/pytorch/step_bench.py --export DIR --check INPUTS --bandwidths 0.4 0.8 1.6 3.2 --eta 1
      INPUTS: noise.f32 [B, noise_dim] and positives.f32 [P, d] (raw little-endian, standardised units); writes
      INPUTS/step.f32 (the loss, then the field V, row by row) for the caller to compare with Drift's (ExportTests).
"""
import argparse
import os
import statistics
import sys
import time

import torch


def field(x, pos, bandwidths):
    """Drift's conservative field with its self pairs left out, centred on the positives' mean as Drift centres it."""
    centre = pos.mean(0)
    x, pos = x - centre, pos - centre
    total = 0
    for h in bandwidths:
        data = torch.softmax(torch.addmm((-0.5 * (pos * pos).sum(1)).unsqueeze(0), x, pos.t()).div_(h * h), 1) @ pos
        logits = torch.addmm((-0.5 * (x * x).sum(1)).unsqueeze(0), x, x.t()).div_(h * h)
        logits.fill_diagonal_(float("-inf"))
        model = torch.softmax(logits, 1) @ x
        v = (data - model) / (h * h)
        total = total + v / (v.pow(2).mean().sqrt() + 1e-12)
    return total


def step_loss(network, noise, positives, bandwidths, eta):
    x = network(noise)
    with torch.no_grad():
        target = x + eta * field(x.detach(), positives, bandwidths)
    return (x - target).pow(2).sum(1).mean(), (target - x.detach()) / eta


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def read(path, columns):
    return torch.from_file(path, dtype=torch.float32, size=os.path.getsize(path) // 4).reshape(-1, columns)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", required=True)
    parser.add_argument("--check")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--bandwidths", type=float, nargs="+", default=[0.4, 0.8, 1.6, 3.2])
    parser.add_argument("--eta", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (Debian's build starts with one)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (PyTorch 2.x on the GPU machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.export)
    from drift_generator import load  # noqa: E402  (the module drift export copies beside the weights)
    generator = load(args.export)
    if generator.card["kind"] != "points":
        sys.exit("step_bench.py: the 2-D step needs a points run's export")
    network = generator.network  # standardised units, as the step trains in
    dim = generator.card["architecture"]["arguments"]["out_dim"]
    if args.check:
        noise = read(os.path.join(args.check, "noise.f32"), generator.noise_dim)
        positives = read(os.path.join(args.check, "positives.f32"), dim)
        loss, velocity = step_loss(network, noise, positives, args.bandwidths, args.eta)
        torch.cat([loss.detach().reshape(1), velocity.flatten()]).numpy().tofile(os.path.join(args.check, "step.f32"))
        print(f"pytorch {torch.__version__}: loss {loss.item():.6g}")
        return
    device = torch.device(args.device)
    network.to(device)
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(network.parameters(), args.lr)
    times = []
    for i in range(args.repeats + 2):
        sync(device)
        start = time.perf_counter()
        noise = torch.randn(args.batch, generator.noise_dim, device=device)
        positives = torch.randn(args.batch, dim, device=device)
        loss, _ = step_loss(network, noise, positives, args.bandwidths, args.eta)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sync(device)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1000)
    print(f"pytorch {torch.__version__}, {device.type}, {torch.get_num_threads()} threads: 2-D step, batch {args.batch}, "
          f"MLP {generator.card['architecture']['arguments']}: median {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    main()
