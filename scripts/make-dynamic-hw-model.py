#!/usr/bin/python3
"""Writes testdata/exporters/torch_dynamic_hw: a small fully convolutional
classifier exported by torch.onnx.export with dynamic_axes on batch, height
and width, and PyTorch's outputs for two inputs of different sizes (ONNX
model zoo layout: test_data_set_N/input_0.pb, output_0.pb).

Run with Debian's python3-torch (1.13) and python3-onnx:
    scripts/make-dynamic-hw-model.py
"""
import os

import onnx
import torch
from onnx import numpy_helper

out = os.path.join(os.path.dirname(__file__), "..", "testdata", "exporters", "torch_dynamic_hw")
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU())
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


net = Net().eval()
with torch.no_grad():
    for m in net.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2)
path = os.path.join(out, "model.onnx")
torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, opset_version=13, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}})
onnx.checker.check_model(onnx.load(path))
g = torch.Generator().manual_seed(1)
for i, shape in enumerate([(1, 3, 40, 56), (2, 3, 34, 46)]):
    x = torch.rand(shape, generator=g) * 2 - 1
    with torch.no_grad():
        y = net(x)
    d = os.path.join(out, f"test_data_set_{i}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x.numpy(), "input").SerializeToString())
    with open(os.path.join(d, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y.numpy(), "logits").SerializeToString())
print("wrote", out)
