"""Drift's generators in plain PyTorch, for the files `drift export` writes.

Copy this one file next to your code. Then:

    from drift_generator import load
    generator = load("path/to/export")           # reads generator.json and generator.safetensors
    x = generator.sample(16, seed=0)             # points in data units, or images in [0, 1] (N, C, H, W)
    x = generator.sample(16, noise_scale=0.9)    # noise x0.9: more precise, less varied (drift sample --noise-scale)
    x = generator(noise, labels, guidance)       # the same mapping on your own inputs
    generator.to(torch.bfloat16)                 # any dtype or device, as any module; sample() draws noise in the weights' dtype
    torch.jit.script(generator.network)          # TorchScript of the network (images: noise, labels, guidance in; [-1, 1] out)

The modules mirror Drift's (src/Drift.Models): the same layers under the same parameter names, so the exported
state dict loads with load_state_dict(strict=True). Needs PyTorch; uses the `safetensors` package when it is
installed, else reads the file itself (the format is a JSON header and raw little-endian tensors).
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class MlpGenerator(nn.Module):
    """Noise [B, noise_dim] -> [B, out_dim] through `depth` hidden SiLU layers of `width`."""

    def __init__(self, noise_dim, width, depth, out_dim):
        super().__init__()
        layers = OrderedDict()
        inputs = noise_dim
        for i in range(depth):
            layers[f"fc{i}"] = nn.Linear(inputs, width)
            layers[f"act{i}"] = nn.SiLU()
            inputs = width
        layers["out"] = nn.Linear(inputs, out_dim)
        self.net = nn.Sequential(layers)

    def forward(self, noise):
        return self.net(noise)


class ConvBlock(nn.Module):
    """Nearest x2 upsampling, conv-norm-(condition)-SiLU, conv-norm-SiLU; without upsampling a residual block."""

    def __init__(self, in_channels, out_channels, cond_dim, upsample):
        super().__init__()
        self.upsample = upsample
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.norm1 = nn.GroupNorm(min(8, out_channels), out_channels, eps=1e-5)
        self.norm2 = nn.GroupNorm(min(8, out_channels), out_channels, eps=1e-5)
        self.film = nn.Linear(cond_dim, 2 * out_channels)

    def forward(self, x, cond):
        h = self.conv1(F.interpolate(x, scale_factor=2.0, mode="nearest") if self.upsample else x)
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, 1)
        h = F.silu(self.norm1(h) * (scale + 1) + shift)
        h = F.silu(self.norm2(self.conv2(h)))
        return h if self.upsample else x + h


class ConvGenerator(nn.Module):
    """Noise, class label (index `classes` = no class) and guidance scale -> image in [-1, 1] (before clamping)."""

    def __init__(self, noise_dim, image_size, channels, classes, width, grid_blocks=0, cond_dim=128):
        super().__init__()
        stages = 3 if image_size % 8 == 0 and image_size >= 64 else 2
        self.grid = image_size >> stages
        self.c0 = width << stages
        self.classes = classes
        self.label = nn.Embedding(classes + 1, cond_dim)
        self.guidance = nn.Linear(1, cond_dim)
        self.stem = nn.Linear(noise_dim + cond_dim, self.c0 * self.grid * self.grid)
        self.blocks = nn.ModuleList(
            ConvBlock(width << (stages - i), width << (stages - i - 1), cond_dim, True) for i in range(stages))
        self.output = nn.Conv2d(width, channels, 3, padding=1)
        self.gridBlocks = nn.ModuleList(ConvBlock(self.c0, self.c0, cond_dim, False) for _ in range(grid_blocks))

    def forward(self, noise, labels, guidance):
        cond = F.silu(self.label(labels) + self.guidance((guidance.to(self.guidance.weight.dtype) - 1).unsqueeze(1)))
        h = F.silu(self.stem(torch.cat([noise, cond], 1))).view(-1, self.c0, self.grid, self.grid)
        for block in self.gridBlocks:
            h = block(h, cond)
        for block in self.blocks:
            h = block(h, cond)
        return self.output(h)


class ExportedGenerator(nn.Module):
    """A generator with its card: maps inputs to what `drift sample` returns (points in data units, images in [0, 1])."""

    def __init__(self, card):
        super().__init__()
        self.card = card
        arch = card["architecture"]
        args = arch["arguments"]
        if arch["name"] == "mlp":
            self.network = MlpGenerator(args["noise_dim"], args["width"], args["depth"], args["out_dim"])
            self.register_buffer("mean", torch.tensor(card["data_mean"], dtype=torch.float32))
            self.register_buffer("std", torch.tensor(card["data_std"], dtype=torch.float32))
        elif arch["name"] == "conv":
            self.network = ConvGenerator(args["noise_dim"], args["image_size"], args["channels"], args["classes"],
                                         args["width"], args["grid_blocks"], args["cond_dim"])
        else:
            raise ValueError(f"unknown architecture {arch['name']!r}")
        self.noise_dim = args["noise_dim"]

    def forward(self, noise, labels=None, guidance=None):
        if self.card["kind"] == "points":
            return self.network(noise) * self.std + self.mean
        n = noise.shape[0]
        if labels is None:
            labels = torch.full((n,), self.network.classes, dtype=torch.long, device=noise.device)
        if guidance is None:
            guidance = torch.ones(n, dtype=noise.dtype, device=noise.device)
        return ((self.network(noise, labels, guidance) + 1) / 2).clamp(0, 1)

    def class_label(self, name):
        """The label of the class called `name` (the card's class_names: a folder's subfolder, Fashion-MNIST's "Sneaker"),
        in any case where only case tells two apart, as `drift sample --class NAME` finds it."""
        names = self.card.get("class_names") or []
        matches = [c for c, known in enumerate(names) if known == name] or \
                  [c for c, known in enumerate(names) if known.lower() == name.lower()]
        if len(matches) != 1:
            raise ValueError(f"{name!r} names {'more than one class' if matches else 'no class'} of this generator: {names}")
        return matches[0]

    @torch.no_grad()
    def sample(self, n, labels=None, guidance=1.0, seed=0, noise_scale=1.0):
        """n samples from standard normal noise times `noise_scale`, drawn with `seed` as `drift sample --seed SEED
        --noise-scale S` draws it (images 1000 at a time), so that both give the same samples; images: labels default
        to the classes in turn, as there. A scale below 1 trades variety for precision, above 1 the reverse; 1 samples
        the distribution the generator trained on."""
        if n < 1 or not 0 < noise_scale <= 10:
            raise ValueError(f"need n >= 1 and a noise scale in (0, 10], got n={n}, noise_scale={noise_scale}")
        weights = next(self.network.parameters())
        device = weights.device
        rng = torch.Generator().manual_seed(seed)
        block = n if self.card["kind"] == "points" else 1000
        noise = torch.cat([torch.randn(min(block, n - start), self.noise_dim, generator=rng).mul_(noise_scale)
                           for start in range(0, n, block)]).to(device, weights.dtype)
        if self.card["kind"] == "points":
            return self(noise)
        if labels is None and self.network.classes > 0:
            labels = torch.arange(n) % self.network.classes
        return self(noise, None if labels is None else torch.as_tensor(labels).to(device), torch.full((n,), float(guidance), device=device))

    @torch.no_grad()
    def interpolate(self, rows, steps, label=None, guidance=1.0, seed=0, noise_scale=1.0):
        """`rows` walks of `steps` images through the noise, as `drift sample --interpolate STEPS --n ROWS*STEPS --seed SEED
        --noise-scale S [--class LABEL]` makes them: each row from a noise a to a noise b (the a of all rows drawn from
        `seed` first, then the b) along the great circle between them, z(t) = (sin((1-t)θ) a + sin(tθ) b) / sin θ, one
        class a row (`label`, or the classes in turn). Images only; [rows*steps, C, H, W] in [0, 1], row by row."""
        if self.card["kind"] != "images":
            raise ValueError("interpolate: walks are for image generators")
        if rows < 1 or steps < 2 or not 0 < noise_scale <= 10:
            raise ValueError(f"need rows >= 1, steps >= 2 and a noise scale in (0, 10], got {rows}, {steps}, {noise_scale}")
        weights = next(self.network.parameters())
        device = weights.device
        rng = torch.Generator().manual_seed(seed)
        ends = torch.randn(2 * rows, self.noise_dim, generator=rng).mul_(noise_scale).double()
        a, b = ends[:rows, None], ends[rows:, None]
        cos = ((a * b).sum(2, keepdim=True) / (a.norm(dim=2, keepdim=True) * b.norm(dim=2, keepdim=True))).clamp(-1, 1)
        theta = cos.acos()
        t = torch.linspace(0, 1, steps, dtype=torch.float64)[None, :, None]
        sin = theta.sin()
        straight = sin < 1e-12  # a and b point the same way: the straight line, the formula's limit
        wa = torch.where(straight, 1 - t, ((1 - t) * theta).sin() / sin)
        wb = torch.where(straight, t, (t * theta).sin() / sin)
        noise = (wa * a + wb * b).reshape(-1, self.noise_dim).float().to(device, weights.dtype)
        n = rows * steps
        labels = None
        if self.network.classes > 0:
            labels = torch.full((n,), label) if label is not None else torch.arange(n) // steps % self.network.classes
        return self(noise, None if labels is None else labels.to(device), torch.full((n,), float(guidance), device=device))


def load_safetensors(path):
    """The tensors of a .safetensors file by name."""
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:
        pass
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
              "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        buffer = bytearray(data[start:end])
        tensors[name] = torch.frombuffer(buffer, dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).clone()
    return tensors


def load(directory, device="cpu"):
    """The exported generator in `directory` (generator.json and generator.safetensors), in eval mode."""
    path = os.path.join(directory, "generator.json")
    if os.path.isdir(directory) and not os.path.exists(path):
        # drift export writes the card last, so an export folder without one is an export that was stopped part way.
        raise FileNotFoundError(f"{directory} holds no generator.json: not an export, or one that did not finish; run drift export again")
    # UTF-8 whatever the locale: the card keeps class and column names as typed.
    with open(path, encoding="utf-8") as f:
        card = json.load(f)
    if "safetensors" not in card["files"]:
        raise ValueError(f"{directory}: this export has no PyTorch weights (its files: {', '.join(card['files'].values())}); "
                         "export with drift export --format safetensors")
    generator = ExportedGenerator(card)
    state = load_safetensors(os.path.join(directory, card["files"]["safetensors"]))
    generator.network.load_state_dict(state, strict=True)
    return generator.to(device).eval()
