#!/usr/bin/python3
"""Export torchvision classifiers to ONNX for onnxbench and onnxrun.

Random initialisation (seeded), opset 13, a dynamic batch axis: the speed
and the Go engine's agreement with onnxruntime do not depend on trained
weights. BatchNorm's running statistics are first set from a few random
batches in training mode, so that activations keep a realistic scale
through the network (with the initial mean 0, variance 1 efficientnet_b0's
logits come out near 1e-14 and a comparison says little); then eval mode. Run with Debian's /usr/bin/python3 (torch 1.13,
torchvision 0.14); the files go to out/ (git-ignored), e.g.

    /usr/bin/python3 scripts/export-torchvision.py efficientnet_b0 googlenet
"""
import os
import sys

import torch
import torchvision


def export(name, outdir):
    torch.manual_seed(0)
    kwargs = {"weights": None}
    if name == "googlenet":
        kwargs.update(aux_logits=False, init_weights=True)
    model = getattr(torchvision.models, name)(**kwargs)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, 224, 224))
    model.eval()
    x = torch.randn(1, 3, 224, 224)
    path = os.path.join(outdir, name + ".onnx")
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, x, tmp, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True)
    os.replace(tmp, path)
    print(path)


def main():
    names = sys.argv[1:] or ["efficientnet_b0", "googlenet"]
    outdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out")
    os.makedirs(outdir, exist_ok=True)
    for n in names:
        export(n, os.path.normpath(outdir))


if __name__ == "__main__":
    main()
