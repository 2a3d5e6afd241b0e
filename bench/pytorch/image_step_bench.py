"""The image training step of `drift train-images` in PyTorch: the conditional conv generator (the module `drift export`
ships), the drift loss per class in each feature space (pixels, meanK patch means, stdK patch standard deviations),
every space's features divided by a detached scale (the mean generated-to-data distance over sqrt(D)) and the field's
relative scales multiplied by sqrt(D), each space's loss divided by D; then backward, gradient clipping, AdamW and the
EMA update: the same shapes and the same math as Drift's step (without classifier-free guidance negatives, as the
documented runs train), timed as `drift bench --image-steps` times its own.

Fields, per class group (negatives: the group's generated images, each one's pair with itself left out):
  conservative: per bandwidth h, (softmax-weighted mean of positives - that of negatives) / h^2, weights
                softmax_j(-|x - y_j|^2 / 2h^2), each bandwidth's field at unit RMS, summed.
  laplace:      per temperature t, logits -|x - y|/t against negatives and positives together, normalised by the
                geometric mean of row and column sums, cross-weighted: V = A+ y+ sum(A-) - A- y- sum(A+); unit RMS, summed.
                With --rows-only (Drift's image default for it): V = softmax(logits+) y+ - softmax(logits-) y-.

  python3 bench/pytorch/image_step_bench.py --export DIR [--field conservative] [--rows-only] [--class-batch 32] [--positives 256]
      DIR: `drift export --format safetensors` of an image run (28x28, 10 classes for the documented size);
      times the step on random images and prints its median.
  python3 bench/pytorch/image_step_bench.py --export DIR --check INPUTS --field laplace --rows-only --scales 0.02 0.05 0.2 \
          --features pixels mean2 mean4 std4 --groups G --eta 1
      INPUTS: noise.f32 [G*B, noise_dim], labels.i64 [G*B] and positives.f32 [G*P, C, H, W] (images in [-1, 1]);
      writes INPUTS/loss.f32 (the loss) for the caller to compare with Drift's (ExportTests).
"""
import argparse
import functools
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def features(space, images):
    """[n, C, H, W] -> [n, D], as Drift's ImageFeatures."""
    n = images.shape[0]
    if space == "pixels":
        return images.reshape(n, -1)
    kind, k = space[:-1], int(space[-1])
    mean = F.avg_pool2d(images, k, k)
    if kind == "mean":
        return mean.reshape(n, -1)
    return (F.avg_pool2d(images * images, k, k) - mean * mean).clamp_min(0).add(1e-4).sqrt().reshape(n, -1)


def squared_distances(x, y):
    return (x.pow(2).sum(-1, keepdim=True) + y.pow(2).sum(-1).unsqueeze(-2) - 2 * x @ y.transpose(-1, -2)).clamp_min(0)


def unit_rms_sum(per_scale):
    """Each scale's field divided by its RMS within its group, summed."""
    return sum(v / (v.pow(2).mean((-2, -1), keepdim=True).sqrt() + 1e-12) for v in per_scale)


def conservative(x, pos, bandwidths):
    """x [G, B, D], pos [G, P, D]: the field at x, the negatives being x without each point itself."""
    to_pos, to_neg = squared_distances(x, pos), squared_distances(x, x)
    to_neg.diagonal(dim1=-2, dim2=-1).fill_(float("inf"))
    return unit_rms_sum([(torch.softmax(-to_pos / (2 * h * h), -1) @ pos - torch.softmax(-to_neg / (2 * h * h), -1) @ x) / (h * h)
                         for h in bandwidths])


def laplace(x, pos, temperatures, rows_only=False):
    q = x.shape[1]
    targets = torch.cat([x, pos], 1)
    distance = squared_distances(x, targets).sqrt()
    distance.diagonal(dim1=-2, dim2=-1).fill_(float("inf"))  # the first q columns are x itself
    fields = []
    for t in temperatures:
        logits = -distance / t
        if rows_only:
            fields.append(torch.softmax(logits[..., q:], -1) @ pos - torch.softmax(logits[..., :q], -1) @ x)
            continue
        a = (logits - (torch.logsumexp(logits, -1, keepdim=True) + torch.logsumexp(logits, -2, keepdim=True)) / 2).exp()
        a_neg, a_pos = a[..., :q], a[..., q:]
        fields.append(a_pos @ pos * a_neg.sum(-1, keepdim=True) - a_neg @ x * a_pos.sum(-1, keepdim=True))
    return unit_rms_sum(fields)


FIELDS = {"conservative": conservative, "laplace": laplace}
DEFAULT_SCALES = {"conservative": [0.1, 0.2, 0.4], "laplace": [0.02, 0.05, 0.2]}


def step_loss(network, noise, labels, positives, groups, field, scales, spaces, eta):
    """The loss of one step: generated images of each group drift towards that group's positives."""
    generated = network(noise, labels, torch.ones(noise.shape[0], device=noise.device))
    loss = 0
    for space in spaces:
        f = features(space, generated)
        dim = f.shape[1]
        x = f.view(groups, -1, dim)
        with torch.no_grad():
            y = features(space, positives).view(groups, -1, dim)
            scale = squared_distances(x.detach(), y).sqrt().mean((-2, -1), keepdim=True).div(math.sqrt(dim)).clamp_min(1e-12)
            xs, ys = x.detach() / scale, y / scale
            centre = ys.mean(-2, keepdim=True)
            velocity = field(xs - centre, ys - centre, [s * math.sqrt(dim) for s in scales])
            target = xs + eta * velocity
        loss = loss + (x / scale - target).pow(2).sum(-1).mean() / dim
    return loss


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def read(path, dtype, shape):
    size = os.path.getsize(path) // torch.tensor([], dtype=dtype).element_size()
    return torch.from_file(path, dtype=dtype, size=size).reshape(shape)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", required=True)
    parser.add_argument("--check")
    parser.add_argument("--field", choices=sorted(FIELDS), default="conservative")
    parser.add_argument("--rows-only", action="store_true", help="laplace: normalise over rows only, as Drift's image runs do by default")
    parser.add_argument("--scales", type=float, nargs="+", help="relative scales (default: the field's image defaults)")
    parser.add_argument("--features", nargs="+", default=["pixels", "mean2", "mean4", "std4"])
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--class-batch", type=int, default=32)
    parser.add_argument("--positives", type=int, default=256, help="data images per class and step")
    parser.add_argument("--eta", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=4e-3, help="both fields' image default")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (Debian's build starts with one)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (PyTorch 2.x on the GPU machine)")
    parser.add_argument("--tf32", action="store_true", help="CUDA: TF32 matmuls and convolutions (default: full float32, as drift bench)")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = args.tf32
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.export)
    from drift_generator import load  # noqa: E402  (the module drift export copies beside the weights)
    generator = load(args.export)
    if generator.card["kind"] != "images":
        sys.exit("image_step_bench.py: the image step needs an image run's export")
    if args.rows_only and args.field != "laplace":
        sys.exit("image_step_bench.py: --rows-only is a variant of the laplace field")
    field = functools.partial(laplace, rows_only=True) if args.rows_only else FIELDS[args.field]
    network = generator.network  # raw images in [-1, 1], as the step trains them
    scales = args.scales or DEFAULT_SCALES[args.field]
    arch = generator.card["architecture"]["arguments"]
    shape = [arch["channels"], arch["image_size"], arch["image_size"]]
    if args.check:
        noise = read(os.path.join(args.check, "noise.f32"), torch.float32, [-1, generator.noise_dim])
        labels = read(os.path.join(args.check, "labels.i64"), torch.int64, [-1])
        positives = read(os.path.join(args.check, "positives.f32"), torch.float32, [-1] + shape)
        loss = step_loss(network, noise, labels, positives, args.groups, field, scales, args.features, args.eta)
        loss.detach().reshape(1).numpy().tofile(os.path.join(args.check, "loss.f32"))
        print(f"pytorch {torch.__version__}: loss {loss.item():.6g}")
        return
    device = torch.device(args.device)
    network.to(device).train()
    ema = [p.detach().clone() for p in network.parameters()]
    optimizer = torch.optim.AdamW(network.parameters(), args.lr, weight_decay=0.01)
    torch.manual_seed(0)
    labels = torch.arange(args.groups, device=device).repeat_interleave(args.class_batch)
    times = []
    for i in range(args.repeats + 2):
        sync(device)
        start = time.perf_counter()
        noise = torch.randn(labels.shape[0], generator.noise_dim, device=device)
        positives = torch.rand([args.groups * args.positives] + shape, device=device) * 2 - 1
        loss = step_loss(network, noise, labels, positives, args.groups, field, scales, args.features, args.eta)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            for e, p in zip(ema, network.parameters()):
                e.lerp_(p, 1 - 0.999)
        sync(device)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1000)
    print(f"pytorch {torch.__version__}, {device.type}, {torch.get_num_threads()} threads: image step, {args.field}{' over rows only' if args.rows_only else ''}, "
          f"{args.groups} x {args.class_batch} generated, {args.positives} data images per class, {arch}"
          f"{', TF32' if args.tf32 else ''}: "
          f"median {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    main()
