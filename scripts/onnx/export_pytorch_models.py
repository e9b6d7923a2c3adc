#!/usr/bin/env python3
"""Writes the PyTorch-exported ONNX files that tests/Unit/Onnx reads, with their inputs and
PyTorch's outputs.

    /usr/bin/python3 scripts/onnx/export_pytorch_models.py [FOLDER]   (default tests/Unit/Onnx/Data)
    /usr/bin/python3 scripts/onnx/export_pytorch_models.py --check FOLDER ...

Needs Debian's PyTorch and ONNX (apt-get install python3-torch python3-onnx; 1.13 and 1.12 on
Debian 12), nothing else: the tests read only the files this writes, so they need no Python. Each
case is a small nn.Sequential: an MLP (or one written with an explicit matmul, which the exporter
writes as MatMul + Add instead of Gemm), or a LeNet-style network of convolutions, max or average
pooling (with padding, which opsets before 19 write as a Pad of zeros then an AveragePool),
flattening (nn.Flatten, x.view(-1, n), or x.view(x.size(0), -1), whose batch size the exporter
computes from x's shape) and batch normalisation (after a Linear it stays a BatchNormalization node; after a Conv the exporter
folds it into the Conv's weights), exported by torch.onnx.export at one opset, in float32 or
float64. Every file written passes ONNX's checker (onnx.checker.check_model with full_check, which
also infers every shape). For every case the manifest (cases.json) holds the file name, the
element type, the opset, the layers the importer must find, a batch of inputs drawn from a fixed
seed (each example's values in C-H-W order for images) and PyTorch's outputs for them. Numbers
are written with repr, which round-trips every float64 exactly (and every float32, widened).

With --check, runs the same checker on every .onnx file in the folders instead (for example the
library's own exports, which `dotnet run --project fuzz/Fuzz -- seed FOLDER` writes to FOLDER/onnx),
but for files of an IR version or opset newer than the installed onnx knows.
"""

import json
import os
import sys

import onnx
import torch
from torch import nn


class ExplicitLinear(nn.Module):
    """y = x W + b with W stored [in, out]: the exporter writes MatMul + Add, as tf2onnx does."""

    def __init__(self, fan_in, units, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_in, units) / fan_in ** 0.5)
        self.bias = nn.Parameter(torch.randn(units) * 0.1) if bias else None

    def forward(self, x):
        z = torch.matmul(x, self.weight)
        return z + self.bias if self.bias is not None else z


class View(nn.Module):
    """x.view(-1, width): the exporter writes Reshape with a constant shape."""

    def __init__(self, width):
        super().__init__()
        self.width = width

    def forward(self, x):
        return x.view(-1, self.width)


class BatchView(nn.Module):
    """x.view(x.size(0), -1), as LeNet code often flattens: the exporter computes the batch size
    from x's shape (Shape, Gather, Unsqueeze, Concat) for the Reshape's target."""

    def forward(self, x):
        return x.view(x.size(0), -1)


def with_statistics(model):
    """Batch normalisation's γ, β and running statistics drawn at random (a fresh layer's are 1, 0,
    0 and 1, and would make inference the identity)."""
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.25, 2.0)
    return model


# name, element type, opset, input shape of one example, model factory, the layers the importer must
# find (as FunctionalBackprop prints them), and extra export options.
CASES = [
    ("gemm-sigmoid-float32-opset9", torch.float32, 9, (4,),
     lambda: nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 3), nn.Sigmoid()),
     ["dense 4→6 sigmoid", "dense 6→3 sigmoid"], {}),
    ("gemm-relu-softmax-float32-opset13", torch.float32, 13, (5,),
     lambda: nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 4), nn.Softmax(dim=1)),
     ["dense 5→8 relu", "dense 8→8 tanh", "dense 8→4 softmax"], {}),
    ("gemm-leaky-identity-float32-opset11", torch.float32, 11, (3,),
     lambda: nn.Sequential(nn.Linear(3, 7), nn.LeakyReLU(0.1), nn.Linear(7, 2)),
     ["dense 3→7 leaky-relu(0.1)", "dense 7→2 identity"], {}),
    ("gemm-tanh-leaky-float64-opset11", torch.float64, 11, (3,),
     lambda: nn.Sequential(nn.Linear(3, 7), nn.Tanh(), nn.Linear(7, 5), nn.LeakyReLU(0.2), nn.Linear(5, 2)),
     ["dense 3→7 tanh", "dense 7→5 leaky-relu(0.2)", "dense 5→2 identity"], {}),
    ("gemm-relu-softmax-float64-opset17", torch.float64, 17, (6,),
     lambda: nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 3), nn.Softmax(dim=-1)),
     ["dense 6→10 relu", "dense 10→3 softmax"], {}),
    ("matmul-add-relu-float32-opset13", torch.float32, 13, (5,),
     lambda: nn.Sequential(ExplicitLinear(5, 9), nn.ReLU(), ExplicitLinear(9, 4), nn.Sigmoid()),
     ["dense 5→9 relu", "dense 9→4 sigmoid"], {}),
    ("matmul-add-tanh-float64-opset15", torch.float64, 15, (4,),
     lambda: nn.Sequential(ExplicitLinear(4, 6), nn.Tanh(), ExplicitLinear(6, 6), nn.Sigmoid(), ExplicitLinear(6, 3), nn.Softmax(dim=1)),
     ["dense 4→6 tanh", "dense 6→6 sigmoid", "dense 6→3 softmax"], {}),
    ("matmul-nobias-float32-opset17", torch.float32, 17, (4,),
     lambda: nn.Sequential(nn.Linear(4, 5, bias=False), nn.Sigmoid(), ExplicitLinear(5, 2, bias=False)),
     ["dense 4→5 sigmoid", "dense 5→2 identity"], {}),
    ("flatten-gemm-float32-opset13", torch.float32, 13, (1, 4, 4),
     lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1)),
     ["dense 16→8 relu", "dense 8→3 softmax"], {}),
    ("reshape-gemm-float64-opset13", torch.float64, 13, (3, 4),
     lambda: nn.Sequential(View(12), nn.Linear(12, 5), nn.Tanh(), nn.Linear(5, 1), nn.Sigmoid()),
     ["dense 12→5 tanh", "dense 5→1 sigmoid"], {}),
    ("initializers-as-inputs-float32-opset9", torch.float32, 9, (3,),
     lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
     ["dense 3→4 tanh", "dense 4→2 identity"], {"keep_initializers_as_inputs": True}),
    # LeNet-style networks on small images.
    ("lenet-maxpool-float32-opset11", torch.float32, 11, (1, 14, 14),
     lambda: nn.Sequential(
         nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.Tanh(), nn.MaxPool2d(2),
         nn.Flatten(), nn.Linear(24, 10), nn.Sigmoid(), nn.Linear(10, 3), nn.Softmax(dim=1)),
     ["conv 1→4 5×5 stride 1×1 padding 2×2 relu", "maxpool 2×2 stride 2×2", "conv 4→6 3×3 stride 1×1 tanh", "maxpool 2×2 stride 2×2",
      "flatten", "dense 24→10 sigmoid", "dense 10→3 softmax"], {}),
    ("lenet-avgpool-padded-float32-opset13", torch.float32, 13, (2, 12, 10),
     lambda: nn.Sequential(
         nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)), nn.ReLU(), nn.AvgPool2d(2, stride=1, padding=1),
         nn.Conv2d(3, 4, 3), nn.Sigmoid(), nn.AvgPool2d(2), View(32), nn.Linear(32, 5), nn.Tanh(), nn.Linear(5, 2)),
     ["conv 2→3 3×2 stride 2×1 padding 1×0 relu", "avgpool 2×2 stride 1×1 padding 1×1", "conv 3→4 3×3 stride 1×1 sigmoid",
      "avgpool 2×2 stride 2×2", "flatten", "dense 32→5 tanh", "dense 5→2 identity"], {}),
    ("lenet-float32-opset17", torch.float32, 17, (1, 16, 16),
     lambda: nn.Sequential(
         nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=2),
         BatchView(), nn.Dropout(0.5), nn.Linear(72, 16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=1)),
     ["conv 1→6 5×5 stride 1×1 relu", "maxpool 2×2 stride 2×2", "conv 6→8 3×3 stride 1×1 padding 1×1 relu", "maxpool 2×2 stride 2×2",
      "flatten", "dense 72→16 relu", "dense 16→4 softmax"], {}),
    ("lenet-batchnorm-float64-opset13", torch.float64, 13, (1, 12, 12),
     lambda: with_statistics(nn.Sequential(
         nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.AvgPool2d(3, stride=2, padding=1), nn.Conv2d(4, 5, 3), nn.ReLU(),
         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(20, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1))),
     ["conv 1→4 3×3 stride 1×1 padding 1×1 tanh", "avgpool 3×3 stride 2×2 padding 1×1", "conv 4→5 3×3 stride 1×1 relu",
      "maxpool 2×2 stride 2×2", "flatten", "dense 20→8 identity", "batchnorm(8, m = 0.1, ε = 1E-05)", "activation relu",
      "dense 8→3 softmax"], {}),
    ("lenet-batchnorm-linear-float32-opset17", torch.float32, 17, (1, 14, 14),
     lambda: with_statistics(nn.Sequential(
         nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
         nn.Flatten(), nn.Linear(24, 10), nn.BatchNorm1d(10, eps=1e-3, momentum=0.2), nn.Sigmoid(), nn.Linear(10, 3))),
     ["conv 1→4 5×5 stride 1×1 padding 2×2 relu", "maxpool 2×2 stride 2×2", "conv 4→6 3×3 stride 1×1 relu", "maxpool 2×2 stride 2×2",
      "flatten", "dense 24→10 identity", "batchnorm(10, m = 0.2, ε = 0.001)", "activation sigmoid", "dense 10→3 identity"], {}),
    ("lenet-batchnorm-conv-folded-float32-opset11", torch.float32, 11, (1, 14, 14),
     lambda: with_statistics(nn.Sequential(
         nn.Conv2d(1, 4, 5, padding=2), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.BatchNorm2d(6),
         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(24, 3), nn.Softmax(dim=1))),
     ["conv 1→4 5×5 stride 1×1 padding 2×2 relu", "maxpool 2×2 stride 2×2", "conv 4→6 3×3 stride 1×1 relu", "maxpool 2×2 stride 2×2",
      "flatten", "dense 24→3 softmax"], {}),
    ("lenet-avgpool-padded-float32-opset9", torch.float32, 9, (1, 10, 10),
     lambda: nn.Sequential(
         nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2, padding=1), nn.MaxPool2d(3, stride=2, padding=1),
         BatchView(), nn.Linear(27, 4), nn.Softmax(dim=1)),
     ["conv 1→3 3×3 stride 1×1 padding 1×1 relu", "avgpool 2×2 stride 2×2 padding 1×1", "maxpool 3×3 stride 2×2 padding 1×1",
      "flatten", "dense 27→4 softmax"], {}),
]

BATCH = 5


def check(path):
    """ONNX's own checker, with full_check: the model, every node against its operator's schema at
    the model's opset, and shape inference through the graph."""
    onnx.checker.check_model(onnx.load(path), full_check=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        paths = [os.path.join(folder, name) for folder in sys.argv[2:] for name in sorted(os.listdir(folder)) if name.endswith(".onnx")]
        checked = 0
        for path in paths:
            model = onnx.load(path)
            opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
            if model.ir_version > onnx.IR_VERSION or opset > onnx.defs.onnx_opset_version():
                print(f"{path}: not checked, IR version {model.ir_version} and opset {opset} are newer than onnx {onnx.__version__} knows")
                continue
            check(path)
            checked += 1
            print(f"{path}: passes onnx.checker (full_check)")
        print(f"{checked} of {len(paths)} files checked, all pass onnx.checker {onnx.__version__}")
        return
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "Unit", "Onnx", "Data")
    os.makedirs(folder, exist_ok=True)
    manifest = []
    for index, (name, dtype, opset, shape, factory, layers, extra) in enumerate(CASES):
        torch.manual_seed(1000 + index)
        model = factory().to(dtype).eval()
        x = torch.randn((BATCH,) + shape, dtype=dtype)
        with torch.no_grad():
            y = model(x)
        path = os.path.join(folder, name + ".onnx")
        torch.onnx.export(
            model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, do_constant_folding=True, **extra)
        check(path)
        manifest.append({
            "file": name + ".onnx",
            "elementType": "float32" if dtype == torch.float32 else "float64",
            "opset": opset,
            "layers": layers,
            "inputs": [[float(v) for v in row] for row in x.reshape(BATCH, -1).tolist()],
            "outputs": [[float(v) for v in row] for row in y.tolist()],
        })
        print(f"{path}: {os.path.getsize(path)} bytes")
    manifest_path = os.path.join(folder, "cases.json")
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump({"torch": torch.__version__, "cases": manifest}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{manifest_path}: {len(manifest)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
