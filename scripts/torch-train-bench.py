#!/usr/bin/python3
"""PyTorch's training speed on mnist_cnn or mnist_resnet8, the reference
for onnxtune's images/s: the same network (the tutorial CNN for MNIST, or
the fixtures' small ResNet with BatchNorm in training mode), SGD lr 0.01
momentum 0.9, batch B, the first N MNIST training images normalized once in
memory, one pass in order; prints images/s of the training loop (forward,
cross-entropy, backward, step), like onnxtune's train_images_per_s.

Usage: scripts/torch-train-bench.py MNIST_DIR THREADS BATCH N [cnn|resnet8]
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
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


class ResNet8(nn.Module):
    """fixtures/mnist_resnet8: stem conv-BN-ReLU, three torchvision
    BasicBlocks (16, 32 stride 2, 64 stride 2, 1x1 downsample), average
    pool, Linear(64, 10)."""

    def __init__(self):
        super().__init__()
        from torchvision.models.resnet import BasicBlock

        def down(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout))

        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2, downsample=down(16, 32))
        self.layer3 = BasicBlock(32, 64, stride=2, downsample=down(32, 64))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    d, threads, batch, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    arch = sys.argv[5] if len(sys.argv) > 5 else "cnn"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = idx(os.path.join(d, "train-images-idx3-ubyte.gz"), 16)[: n * 784].reshape(n, 1, 28, 28)
    y = idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), 8)[:n]
    x = torch.from_numpy(x.copy()).float().div(255).sub(0.5).div(0.5)
    y = torch.from_numpy(y.astype(np.int64))
    m = ResNet8() if arch == "resnet8" else Net()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    m.train()
    t0 = time.perf_counter()
    for lo in range(0, n, batch):
        opt.zero_grad()
        loss = F.cross_entropy(m(x[lo:lo + batch]), y[lo:lo + batch])
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    print(f"torch {torch.__version__} {arch} threads {threads} batch {batch}: {n} images in {dt:.2f} s = {n / dt:.0f} images/s")


if __name__ == "__main__":
    main()
