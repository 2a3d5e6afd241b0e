"""docs/quality.md, "Where the two normalisations differ": the laplace field over both axes, over both axes without its
cross weights (each side's entries normalised over their own row: the column correction kept, every sample's attraction
and repulsion mass equal) and over rows only on the same batches, in pixel space, as an image run computes them
(features centred on the positives and divided by the mean generated-to-data distance over sqrt(D), temperatures
0.02 0.05 0.2 times sqrt(D), each temperature's field at unit RMS within its class group, summed). The batches: 32
samples a class of the committed conservative generator (docs/export, neither field's; seed SEED) and 256 training
images a class. Prints, averaged over the 10 classes, per normalisation:
  - positives reached: exp(entropy) of the positives' shares of all attraction weight in the group (of 256);
  - attraction per sample, as a spread: the coefficient of variation over the 32 samples of each sample's total
    attraction weight (rows only: 1 per temperature, so 0);
  - field against isolation: the Spearman correlation over the samples of |V| with the distance to the nearest other sample.
The field itself is checked against bench/pytorch/image_step_bench.py's laplace field (which ExportTests holds to
Drift's loss) to 1e-9 on every batch, so the weights counted are the field's; the variant without cross weights, which
the mirror lacks, against the both-axes entries divided by their row sum on each side.
Usage: /usr/bin/python3 docs/quality/normalisation.py [SEED [EXPORT]]   (Debian's python3-torch; a few seconds)
EXPORT: the generator's export folder (default docs/export/fashion-mnist-conservative). The numbers in docs/quality.md
came from the conservative export at lr 1e-3, which that folder held until commit b481ab3:
  mkdir -p /tmp/old && git archive b481ab3 docs/export/fashion-mnist-conservative | tar -x -C /tmp/old
  /usr/bin/python3 docs/quality/normalisation.py 0 /tmp/old/docs/export/fashion-mnist-conservative"""
import gzip
import math
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
export = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "export", "fashion-mnist-conservative")
sys.path.insert(0, export)
sys.path.insert(0, os.path.join(here, "..", "..", "bench", "pytorch"))
from drift_generator import load  # noqa: E402
from image_step_bench import laplace  # noqa: E402

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
torch.manual_seed(seed)
data = "/usr/share/datasets/fashion-mnist"
with gzip.open(os.path.join(data, "train-images-idx3-ubyte.gz")) as f:
    train = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).copy())
with gzip.open(os.path.join(data, "train-labels-idx1-ubyte.gz")) as f:
    train_labels = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).copy()).long()
generator = load(export)
temperatures = [0.02, 0.05, 0.2]


def rank(v):
    return torch.argsort(torch.argsort(v)).double()


def spearman(a, b):
    ra, rb = rank(a) - (len(a) - 1) / 2, rank(b) - (len(b) - 1) / 2
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))


rows = {"both axes": [], "both axes, no cross weights": [], "rows only": []}
for c in range(10):
    with torch.no_grad():
        x = generator.network(torch.randn(32, generator.noise_dim), torch.full((32,), c), torch.ones(32)).reshape(32, -1).double()
    pool = train[train_labels == c]
    y = pool[torch.randperm(len(pool))[:256]].double() / 127.5 - 1
    dim = x.shape[1]
    scale = torch.cdist(x, y).mean() / math.sqrt(dim)
    centre = y.mean(0, keepdim=True)
    x, y = (x - centre) / scale, (y - centre) / scale
    targets = torch.cat([x, y])
    distance = torch.cdist(x, targets)
    distance[:, :32].fill_diagonal_(float("inf"))
    isolation = distance[:, :32].min(1).values
    for name in rows:
        velocity, pull = 0, torch.zeros(32, 256, dtype=torch.float64)
        for t in temperatures:
            logits = -distance / (t * math.sqrt(dim))
            if name == "rows only":
                w_pos, w_neg = torch.softmax(logits[:, 32:], 1), torch.softmax(logits[:, :32], 1)
            elif name == "both axes, no cross weights":
                # Each side's weights normalised over its own row after the column correction: the same as the
                # both-axes entries divided by their row sum on each side (checked), without the other side's mass.
                corrected = logits - torch.logsumexp(logits, 0, keepdim=True) / 2
                w_pos, w_neg = torch.softmax(corrected[:, 32:], 1), torch.softmax(corrected[:, :32], 1)
                a = (logits - (torch.logsumexp(logits, 1, keepdim=True) + torch.logsumexp(logits, 0, keepdim=True)) / 2).exp()
                for w, side in ((w_pos, a[:, 32:]), (w_neg, a[:, :32])):
                    assert (w - side / side.sum(1, keepdim=True)).abs().max() <= 1e-12, f"class {c}: not the entries over their row"
            else:
                a = (logits - (torch.logsumexp(logits, 1, keepdim=True) + torch.logsumexp(logits, 0, keepdim=True)) / 2).exp()
                w_pos, w_neg = a[:, 32:] * a[:, :32].sum(1, keepdim=True), a[:, :32] * a[:, 32:].sum(1, keepdim=True)
            v = w_pos @ y - w_neg @ x
            velocity = velocity + v / v.pow(2).mean().sqrt()
            pull += w_pos / w_pos.sum()
        if name != "both axes, no cross weights":  # the mirror has no such variant: its weights are checked above
            mirror = laplace(x[None], y[None], [t * math.sqrt(dim) for t in temperatures], rows_only=name == "rows only")[0]
            assert (mirror - velocity).abs().max() <= 1e-9 * velocity.abs().max(), f"class {c}, {name}: not the mirror's field"
        share = pull.sum(0) / pull.sum()
        per_sample = pull.sum(1)
        rows[name].append((float(torch.exp(-(share * share.clamp_min(1e-300).log()).sum())),
                           float(per_sample.std() / per_sample.mean()), spearman(velocity.norm(dim=1), isolation)))
print(f"seed {seed}, pixel space, 32 samples (committed conservative generator) and 256 training images a class, mean over 10 classes")
print("| normalisation | positives reached (of 256) | attraction per sample, coefficient of variation | Spearman(|V|, isolation) |")
print("|---|---|---|---|")
for name, r in rows.items():
    m = np.array(r).mean(0)
    print(f"| {name} | {m[0]:.1f} | {m[1]:.2f} | {m[2]:+.2f} |")
