#!/usr/bin/python3
"""torchvision's side of scripts/bench-loader.sh.

make DIR N: write N 224x224 JPEGs (quality 90, 10 classes) under DIR with PIL.
time DIR WORKERS EPOCHS: ImageFolder + RandomResizedCrop(224),
RandomHorizontalFlip, ToTensor, Normalize(ImageNet), DataLoader(batch 64,
shuffle, num_workers=WORKERS, persistent workers); one warm-up epoch, then
prints images/s over EPOCHS epochs.
"""
import os
import sys
import time

import numpy as np
from PIL import Image

if sys.argv[1] == "make":
    root, n = sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:224, 0:224]
    for i in range(n):
        d = os.path.join(root, f"class{i % 10}")
        os.makedirs(d, exist_ok=True)
        base = np.stack([(x + 3 * i) % 256, (y * (1 + i % 3)) % 256, (x ^ y) % 256], -1)
        img = (base + rng.integers(0, 48, base.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(img, "RGB").save(os.path.join(d, f"{i:05d}.jpg"), quality=90)
    sys.exit(0)

import torch
import torchvision.transforms as T
from torchvision.datasets import ImageFolder

root, workers, epochs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(1)
tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
ds = ImageFolder(root, tf)
dl = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
for _ in dl:  # warm-up epoch (starts the workers)
    pass
n, t0 = 0, time.perf_counter()
for _ in range(epochs):
    for x, y in dl:
        n += x.shape[0]
dt = time.perf_counter() - t0
print(f"{n / dt:.1f}")
