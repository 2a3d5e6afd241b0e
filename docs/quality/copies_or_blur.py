#!/usr/bin/python3
"""docs/quality.md, "Copies or blur?": the data-copying test by nearest distance and by the nearest over the
second-nearest distance, on Fashion-MNIST pixels (Debian's dataset-fashion-mnist), in NumPy.

  /usr/bin/python3 docs/quality/copies_or_blur.py            # the NumPy trial: 10,000 training and 1,000 test images (~1 min)
  /usr/bin/python3 docs/quality/copies_or_blur.py DIR        # writes DIR/train5000.npy, train5000-noise8.npy, blur2/5/20.npy for drift eval
                                                             # (new files only: an existing one is left as it is, and the script stops)
"""
import gzip, math, sys
import numpy as np

BASE = "/usr/share/datasets/fashion-mnist/"


def load(name, offset):
    with gzip.open(BASE + name, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


images = load("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
labels = load("train-labels-idx1-ubyte.gz", 8)
rng = np.random.default_rng(0)


def blur(pool, pool_labels, k, n, classes):
    """n means of k images of one class each, the class drawn from `classes`."""
    return np.stack([pool[rng.choice(np.where(pool_labels == c)[0], k, replace=False)].astype(float).mean(0) for c in classes(n)])


def save_new(path, array):
    with open(path, "xb") as f:  # "x": never over a file that is already there
        np.save(f, array)


if len(sys.argv) > 1:
    out = sys.argv[1]
    save_new(f"{out}/train5000.npy", images[:5000])
    noisy = images[:5000].astype(int) + rng.integers(-8, 9, (5000, 28, 28))
    save_new(f"{out}/train5000-noise8.npy", np.clip(noisy, 0, 255).astype(np.uint8))
    for k in (2, 5, 20):
        means = blur(images, labels, k, 5000, lambda n: np.repeat(np.arange(10), n // 10))
        save_new(f"{out}/blur{k}.npy", np.round(means).astype(np.uint8))
    sys.exit(0)

X = images.reshape(-1, 784).astype(np.float32)
T = load("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32)
train, held = X[:10000], T[:1000]
pool, pool_labels = X[10000:], labels[10000:]


def nearest_two(queries, refs):
    out, norms = [], (refs ** 2).sum(1)
    for i in range(0, len(queries), 500):
        q = queries[i:i + 500]
        d = norms[None, :] - 2 * q @ refs.T + (q ** 2).sum(1)[:, None]
        out.append(np.sqrt(np.maximum(np.partition(d, 1, axis=1)[:, :2], 0)))
    return np.concatenate(out)


def z(a, b):
    """Mann-Whitney z of a against b (continuous values: no tie correction)."""
    ranks = np.concatenate([a, b]).argsort().argsort() + 1
    m, k = len(a), len(b)
    return (ranks[:m].sum() - m * (m + 1) / 2 - m * k / 2) / math.sqrt(m * k * (m + k + 1) / 12)


reference = nearest_two(held[:500], train)
ratio_ref = reference[:, 0] / reference[:, 1]
near = np.sort(reference[:, 0])[int(0.01 * 499)]
near_ratio = np.sort(ratio_ref)[int(0.01 * 499)]


def report(name, queries):
    g = nearest_two(queries, train)
    r = g[:, 0] / g[:, 1]
    print(f"{name:18s} z(d1) {z(g[:, 0], reference[:, 0]):7.2f} near(d1) {np.mean(g[:, 0] < near):.3f}  "
          f"z(d1/d2) {z(r, ratio_ref):7.2f} near(d1/d2) {np.mean(r < near_ratio):.3f}")


report("held-out (floor)", held[500:])
for k in (20, 5, 2):
    report(f"mean-of-{k}", blur(pool, pool_labels, k, 500, lambda n: rng.integers(0, 10, n)))
report("fresh+noise20", np.clip(pool[:500] + rng.normal(0, 20, (500, 784)), 0, 255))
report("fresh+noise50", np.clip(pool[:500] + rng.normal(0, 50, (500, 784)), 0, 255))
for s in (0, 20, 50, 80):
    report(f"copies+noise{s}", np.clip(train[:500] + rng.normal(0, s, (500, 784)), 0, 255))
