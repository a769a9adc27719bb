# torch.nn.utils.prune.global_unstructured(L1Unstructured) on the raw float32
# weights written by `vgg16bench dump`; prints the time and zeros per layer.
import json, os, sys, time
import numpy as np
import torch
import torch.nn.utils.prune as prune

raw, amount = sys.argv[1], float(sys.argv[2])
meta = json.load(open(raw + ".json"))
data = np.fromfile(raw, dtype=np.float32)
mods, off = [], 0
for l in meta:
    n = int(np.prod(l["shape"]))
    m = torch.nn.Module()
    m.weight = torch.nn.Parameter(torch.from_numpy(data[off:off + n].reshape(l["shape"]).copy()))
    mods.append(m)
    off += n
torch.set_num_threads(os.cpu_count())
print("torch", torch.__version__, "threads", torch.get_num_threads())
t0 = time.time()
prune.global_unstructured([(m, "weight") for m in mods], pruning_method=prune.L1Unstructured, amount=amount)
t1 = time.time()
print("global_unstructured %.3f s" % (t1 - t0))
tz = 0
for l, m in zip(meta, mods):
    z = int((m.weight == 0).sum())
    tz += z
    print(l["name"], "%d/%d" % (z, m.weight.numel()))
print("global %d/%d" % (tz, off))
