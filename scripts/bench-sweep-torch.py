#!/usr/bin/python3
"""The onnxsweep benchmark's PyTorch side: the same sweep in PyTorch.

For every method (global: prune.global_unstructured with L1Unstructured;
local: prune.l1_unstructured per layer) and amount, deepcopy the trained
mnist_cnn, prune its five weights, and evaluate it on the 10,000 MNIST test
images (batch 256, torch.no_grad), as onnxsweep does. The weights come from
the ONNX file itself (its initializers are the PyTorch parameters, bit for
bit). Prints one JSON object: the seconds of the sweep loop, of loading,
and each point's accuracy.

usage: bench-sweep-torch.py MODEL.onnx MNIST_DIR [--threads 2] [--amounts 0:0.95:0.05]
"""
import argparse
import copy
import gzip
import json
import os
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune


class Net(nn.Module):
    """mnist_cnn: the PyTorch tutorial net on 1x28x28 inputs."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def amounts(s):
    if ":" in s:
        a, b, step = (float(v) for v in s.split(":"))
        n = int(np.floor((b - a) / step + 1e-9)) + 1
        return [round(a + i * step, 9) for i in range(n)]
    return [float(v) for v in s.split(",")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("mnist")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--amounts", default="0:0.95:0.05")
    ap.add_argument("--methods", default="global,local")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    net = Net()
    weights = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in onnx.load(args.model).graph.initializer}
    net.load_state_dict(weights)
    net.eval()
    x = idx(os.path.join(args.mnist, "t10k-images-idx3-ubyte.gz")).astype(np.float32)
    x = torch.from_numpy(((x / np.float32(255) - np.float32(0.5)) / np.float32(0.5)).reshape(-1, 1, 28, 28))
    y = torch.from_numpy(idx(os.path.join(args.mnist, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    points = []
    for method in args.methods.split(","):
        for a in amounts(args.amounts):
            m = copy.deepcopy(net)
            params = [(m.conv1, "weight"), (m.conv2, "weight"), (m.fc1, "weight"), (m.fc2, "weight"), (m.fc3, "weight")]
            if method == "global":
                prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=a)
            else:
                for mod, name in params:
                    prune.l1_unstructured(mod, name, amount=a)
            correct = 0
            with torch.no_grad():
                for lo in range(0, len(y), 256):
                    correct += int((m(x[lo:lo + 256]).argmax(1) == y[lo:lo + 256]).sum())
            points.append({"method": method, "amount": a, "correct": correct, "accuracy": correct / len(y)})
    sweep_s = time.perf_counter() - t0
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "load_seconds": load_s, "sweep_seconds": sweep_s, "points": points}))


if __name__ == "__main__":
    main()
