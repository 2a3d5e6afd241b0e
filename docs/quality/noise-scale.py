"""The committed generators (docs/export, the EMA weights of docs/fashion-mnist-cpu.sh's runs) sampled at several noise
scales, as `drift sample --n 5000 --noise-scale S` draws them (seed 0, classes in turn): PyTorch on the exports, so that
no run folder is needed. Writes OUT/FIELD-sS.npy (uint8) and its labels. Usage: noise-scale.py OUT SCALE..."""
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "export", "fashion-mnist-laplace"))
from drift_generator import load  # noqa: E402  (the module shipped with every export; both exports ship the same)

out, scales = sys.argv[1], [float(s) for s in sys.argv[2:]]
torch.set_num_threads(2)
n = 5000
for field in ("conservative", "laplace"):
    generator = load(os.path.join(here, "..", "export", f"fashion-mnist-{field}"))
    labels = torch.arange(n) % 10
    noise = torch.randn(n, generator.noise_dim, generator=torch.Generator().manual_seed(0))
    for scale in scales:
        with torch.no_grad():
            images = generator(noise * scale, labels, torch.ones(n))  # in [0, 1], as drift sample stores them
        np.save(os.path.join(out, f"{field}-s{scale:g}.npy"), (images[:, 0] * 255).round().to(torch.uint8).numpy())
        np.save(os.path.join(out, f"{field}-s{scale:g}.labels.npy"), labels.numpy())
