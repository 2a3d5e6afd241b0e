"""Loads an export with the shipped PyTorch module, as a PyTorch user would, runs it on the inputs the test wrote,
and writes its output; also runs the ONNX checker on generator.onnx when there is one.

usage: pytorch_check.py EXPORT_DIR INPUT_DIR   (noise.f32, and labels.i64 / guidance.f32 where the model takes them;
raw little-endian arrays) -> INPUT_DIR/pytorch.f32; with INPUT_DIR/sample.json ({"n", "seed", "noise_scale", and
"guidance" for images}) also INPUT_DIR/sample.f32, the module's own sample() with those arguments; with
INPUT_DIR/interpolate.json (interpolate()'s arguments) INPUT_DIR/interpolate.f32; where the card
names classes, INPUT_DIR/class_labels.json: class_label() of each name, then of each name in upper case. Checks that
the generator converted to float64 gives each of these within float32's rounding, in float64, and that its network
compiled with torch.jit.script computes what the module does, and that a folder of its weights without the card is
refused by name.
"""
import copy
import json
import os
import shutil
import sys
import tempfile

import torch

export, inputs = sys.argv[1], sys.argv[2]
sys.path.insert(0, export)
from drift_generator import load  # noqa: E402  (the module copied beside the weights)

generator = load(export)
noise = torch.from_file(os.path.join(inputs, "noise.f32"), dtype=torch.float32,
                        size=os.path.getsize(os.path.join(inputs, "noise.f32")) // 4).reshape(-1, generator.noise_dim)


def optional(name, dtype, size):
    path = os.path.join(inputs, name)
    return torch.from_file(path, dtype=dtype, size=os.path.getsize(path) // size) if os.path.exists(path) else None


with torch.no_grad():
    if generator.card["kind"] == "points":
        out = generator(noise)
    else:
        out = generator(noise, optional("labels.i64", torch.int64, 8), optional("guidance.f32", torch.float32, 4))
out.contiguous().numpy().tofile(os.path.join(inputs, "pytorch.f32"))
# In float64 (generator.double(), as a user would convert it for another dtype): the same outputs to float32's rounding,
# in float64; sample() and interpolate() draw their noise in the weights' dtype.
wide = copy.deepcopy(generator).double()
scale = max(1.0, out.abs().max().item())


def check_wide(name, narrow, wide_out):
    assert wide_out.dtype == torch.float64, f"{name} in float64 gave {wide_out.dtype}"
    worst = (wide_out - narrow.double()).abs().max().item()
    assert worst <= 1e-4 * scale, f"{name}: float64 and float32 differ by {worst:g}"


with torch.no_grad():
    if generator.card["kind"] == "points":
        check_wide("forward", out, wide(noise.double()))
    else:
        check_wide("forward", out, wide(noise.double(), optional("labels.i64", torch.int64, 8), optional("guidance.f32", torch.float32, 4)))
    # TorchScript of the network computes what the module does.
    scripted = torch.jit.script(generator.network)
    network_inputs = (noise,)
    if generator.card["kind"] == "images":
        network_inputs += (torch.randint(0, generator.network.classes + 1, (noise.shape[0],)), 1 + torch.rand(noise.shape[0]))
    scripted_out, eager_out = scripted(*network_inputs), generator.network(*network_inputs)
    assert (scripted_out - eager_out).abs().max().item() <= 1e-5 * max(1.0, eager_out.abs().max().item()), "TorchScript differs from the module"
names = generator.card.get("class_names") or []
if names:
    with open(os.path.join(inputs, "class_labels.json"), "w") as f:
        json.dump({name: generator.class_label(name) for name in names + [name.upper() for name in names]}, f)
sample_args = os.path.join(inputs, "sample.json")
if os.path.exists(sample_args):
    sampled = generator.sample(**json.load(open(sample_args)))
    sampled.contiguous().numpy().tofile(os.path.join(inputs, "sample.f32"))
    check_wide("sample()", sampled, wide.sample(**json.load(open(sample_args))))
walk_args = os.path.join(inputs, "interpolate.json")
if os.path.exists(walk_args):
    walks = generator.interpolate(**json.load(open(walk_args)))
    walks.contiguous().numpy().tofile(os.path.join(inputs, "interpolate.f32"))
    check_wide("interpolate()", walks, wide.interpolate(**json.load(open(walk_args))))

# The export's files without their card, as an export stopped part way leaves them: load() refuses them by name.
with tempfile.TemporaryDirectory() as partial:
    shutil.copy(os.path.join(export, generator.card["files"]["safetensors"]), partial)
    try:
        load(partial)
        sys.exit("load() read an export folder that has no generator.json")
    except FileNotFoundError as e:
        assert "holds no generator.json: not an export, or one that did not finish; run drift export again" in str(e), e

onnx_path = os.path.join(export, "generator.onnx")
if os.path.exists(onnx_path):
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path), full_check=True)
    print("onnx checker: ok")
print(f"pytorch {torch.__version__}: {tuple(out.shape)}")
