#!/usr/bin/python3
"""Reference outputs of torchvision's transforms on a few tiny images, for
data/transform_torch_test.go. Run with Debian's python3 (torch 1.13,
torchvision 0.14, Pillow 9.4):

    /usr/bin/python3 scripts/torchvision-refs.py data/testdata/torchvision

It writes the input images as PNG (made here from a formula, so nothing is
downloaded), each transform's PIL result as uint8 H×W×C .npy, one
ToTensor+Normalize result as float32 C×H×W, and RandomResizedCrop's drawn
boxes (top, left, h, w) for the distribution test. Total well under 100 KB.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "data/testdata/torchvision"
os.makedirs(out, exist_ok=True)


def make(w, h, k):
    """An RGB image with gradients, a hard edge and a checker, so that
    resampling has something to do."""
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1) + 13 * k) % 256
    g = (y * 255 // max(h - 1, 1) * ((x // 3 + y // 3 + k) % 2) + 40 * k) % 256
    b = np.where(x * h > y * w, 230 - 20 * k, 20 + 10 * k)
    return Image.fromarray(np.stack([r, g, b], -1).astype(np.uint8), "RGB")


images = {"a": make(37, 23, 0), "b": make(24, 40, 1), "c": make(50, 50, 2)}
cases = []


def save(name, img):
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[:, :, None]
    np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(a))


for key, img in images.items():
    img.save(os.path.join(out, key + ".png"))
    ops = {
        "resize17": T.Resize(17),
        "resize80": T.Resize(80),
        "resize13x29": T.Resize((13, 29)),
        "resize5": T.Resize(5),
        "centercrop16": T.CenterCrop(16),
        "centercrop15x21": T.CenterCrop((15, 21)),
        "centercrop45": T.CenterCrop(45),
        "gray1": T.Grayscale(1),
        "gray3": T.Grayscale(3),
        "hflip": T.RandomHorizontalFlip(1.0),
        "resize20_centercrop16": T.Compose([T.Resize(20), T.CenterCrop(16)]),
    }
    for name, op in ops.items():
        save(f"{key}_{name}", op(img))
        cases.append({"image": key, "name": name, "spec": str(op)})
    # Random ops with fixed parameters: RandomResizedCrop's box, resized.
    w, h = img.size
    for n, (i, j, ch, cw, size) in enumerate([(1, 2, h - 3, w - 5, (12, 12)), (0, 0, h // 2, w // 3, (20, 20)), (h // 4, w // 4, h // 2, w // 2, (9, 14))]):
        save(f"{key}_resizedcrop{n}", F.resized_crop(img, i, j, ch, cw, size))
        cases.append({"image": key, "name": f"resizedcrop{n}", "box": [i, j, ch, cw], "size": list(size) if isinstance(size, tuple) else [size, size]})
    # RandomCrop(16, padding=3) at a fixed place: pad then crop.
    padded = F.pad(img, 3)
    save(f"{key}_padcrop", F.crop(padded, 1, 4, 16, 16))
    cases.append({"image": key, "name": "padcrop", "box": [1, 4, 16, 16], "padding": 3})

# JPEG: PIL's encoding (quality 90, 4:2:0) and PIL's decoding (libjpeg-turbo).
for key, img in images.items():
    img.save(os.path.join(out, key + ".jpg"), quality=90)
    save(f"{key}_jpeg_pil", Image.open(os.path.join(out, key + ".jpg")).convert("RGB"))

# ToTensor + Normalize after Resize and CenterCrop, in float32.
tf = T.Compose([T.Resize(20), T.CenterCrop(16), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
np.save(os.path.join(out, "a_normalized.npy"), tf(images["a"]).numpy().astype(np.float32))

# RandomResizedCrop's box distribution: 4000 draws on a 64×48 and a 120×10 image.
torch.manual_seed(0)
for w, h in [(64, 48), (120, 10)]:
    img = Image.new("RGB", (w, h))
    boxes = [T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(4000)]
    np.save(os.path.join(out, f"rrc_boxes_{w}x{h}.npy"), np.array(boxes, dtype=np.int16))

with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "pillow": Image.__version__, "cases": cases}, f, indent=1)
print("wrote", len(cases), "cases to", out)
