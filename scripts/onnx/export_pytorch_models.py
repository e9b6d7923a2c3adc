#!/usr/bin/env python3
"""Writes the PyTorch-exported ONNX files that tests/Unit/Onnx reads, with their inputs and
PyTorch's outputs.

    /usr/bin/python3 scripts/onnx/export_pytorch_models.py [FOLDER]   (default tests/Unit/Onnx/Data)

Needs Debian's PyTorch (apt-get install python3-torch; 1.13 on Debian 12), nothing else: the
tests read only the files this writes, so they need no Python. Each case is a small nn.Sequential
MLP (or one written with an explicit matmul, which the exporter writes as MatMul + Add instead of
Gemm), exported by torch.onnx.export at one opset, in float32 or float64. For every case the
manifest (cases.json) holds the file name, the element type, the opset, the layers the importer
must find, a batch of inputs drawn from a fixed seed and PyTorch's outputs for them. Numbers are
written with repr, which round-trips every float64 exactly (and every float32, widened).
"""

import json
import os
import sys

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
]

BATCH = 5


def main():
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
