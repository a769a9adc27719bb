#!/usr/bin/python3
"""Reference sequences for package train, computed by PyTorch itself.

Writes train/testdata/lr_schedules.json (learning rates and momenta of
torch.optim.lr_scheduler, step by step), train/testdata/optim_steps.json
(weights after each step of torch.optim.SGD/Adam/AdamW on fixed gradients)
and train/testdata/label_smoothing.json (F.cross_entropy with
label_smoothing and its gradient). Run with Debian's /usr/bin/python3
(python3-torch 1.13): scripts/train-references.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler as S

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train", "testdata")


def f64(xs):
    return [float(x) for x in xs]


def run_schedule(case):
    p = torch.nn.Parameter(torch.zeros(1))
    if case.get("optimizer") == "adam":
        opt = torch.optim.Adam([p], lr=case["lr"])
    else:
        opt = torch.optim.SGD([p], lr=case["lr"], momentum=case.get("momentum", 0.9))
    kind = case["kind"]

    def main():
        if kind == "constant":
            return None
        if kind == "step":
            return S.StepLR(opt, step_size=case["step_size"], gamma=case["gamma"])
        if kind == "multistep":
            return S.MultiStepLR(opt, milestones=case["milestones"], gamma=case["gamma"])
        if kind == "cosine":
            return S.CosineAnnealingLR(opt, T_max=case["t_max"], eta_min=case["eta_min"])
        if kind == "onecycle":
            return S.OneCycleLR(opt, max_lr=case["lr"], total_steps=case["total_steps"],
                                pct_start=case["pct_start"], anneal_strategy=case["anneal"],
                                div_factor=case["div_factor"], final_div_factor=case["final_div_factor"])
        raise ValueError(kind)

    w = case.get("warmup", 0)
    if w > 0:
        warm = S.LinearLR(opt, start_factor=case["warmup_start_factor"], end_factor=1.0, total_iters=w)
        m = main()
        sched = warm if m is None else S.SequentialLR(opt, [warm, m], milestones=[w])
    else:
        sched = main()
    lrs, moms = [], []
    for _ in range(case["n"]):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["betas"][0] if "betas" in g else g["momentum"])
        opt.step()
        if sched is not None:
            sched.step()
    case = dict(case)
    case["lr_seq"] = f64(lrs)
    case["momentum_seq"] = f64(moms)
    return case


SCHEDULES = [
    {"name": "constant", "kind": "constant", "lr": 0.1, "n": 5},
    {"name": "step", "kind": "step", "lr": 0.1, "step_size": 3, "gamma": 0.1, "n": 12},
    {"name": "multistep", "kind": "multistep", "lr": 0.05, "milestones": [2, 5, 6], "gamma": 0.5, "n": 10},
    {"name": "cosine", "kind": "cosine", "lr": 0.1, "t_max": 10, "eta_min": 0.001, "n": 15},
    {"name": "cosine-long", "kind": "cosine", "lr": 0.01, "t_max": 2814, "eta_min": 0.0, "n": 2815},
    {"name": "onecycle-cos", "kind": "onecycle", "lr": 0.1, "total_steps": 100, "pct_start": 0.3,
     "anneal": "cos", "div_factor": 25.0, "final_div_factor": 1e4, "n": 100},
    {"name": "onecycle-linear", "kind": "onecycle", "lr": 0.02, "total_steps": 37, "pct_start": 0.25,
     "anneal": "linear", "div_factor": 10.0, "final_div_factor": 100.0, "n": 37},
    {"name": "onecycle-adam", "kind": "onecycle", "optimizer": "adam", "lr": 0.003, "total_steps": 50,
     "pct_start": 0.3, "anneal": "cos", "div_factor": 25.0, "final_div_factor": 1e4, "n": 50},
    {"name": "warmup-constant", "kind": "constant", "lr": 0.1, "warmup": 4, "warmup_start_factor": 1 / 3, "n": 8},
    {"name": "warmup-step", "kind": "step", "lr": 0.1, "step_size": 2, "gamma": 0.5, "warmup": 3,
     "warmup_start_factor": 0.01, "n": 12},
    {"name": "warmup-multistep", "kind": "multistep", "lr": 0.1, "milestones": [3, 4], "gamma": 0.1, "warmup": 2,
     "warmup_start_factor": 0.25, "n": 10},
    {"name": "warmup-cosine", "kind": "cosine", "lr": 0.1, "t_max": 15, "eta_min": 0.0, "warmup": 5,
     "warmup_start_factor": 0.1, "n": 21},
]


def run_optim(case):
    torch.manual_seed(case["seed"])
    w0 = torch.randn(7)
    grads = [torch.randn(7) for _ in range(case["steps"])]
    p = torch.nn.Parameter(w0.clone())
    kw = dict(case["kwargs"])
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[case["optimizer"]]([p], **kw)
    ws = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        ws.append(f64(p.detach()))
    case = dict(case)
    case["w0"] = f64(w0)
    case["grads"] = [f64(g) for g in grads]
    case["weights"] = ws
    return case


OPTIMS = [
    {"name": "sgd-plain", "optimizer": "sgd", "kwargs": {"lr": 0.1}},
    {"name": "sgd-momentum-wd", "optimizer": "sgd", "kwargs": {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}},
    {"name": "sgd-dampening", "optimizer": "sgd", "kwargs": {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}},
    {"name": "sgd-nesterov", "optimizer": "sgd", "kwargs": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}},
    {"name": "adam", "optimizer": "adam", "kwargs": {"lr": 1e-2}},
    {"name": "adam-wd", "optimizer": "adam", "kwargs": {"lr": 1e-2, "weight_decay": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}},
    {"name": "adam-amsgrad", "optimizer": "adam", "kwargs": {"lr": 1e-2, "amsgrad": True}},
    {"name": "adamw", "optimizer": "adamw", "kwargs": {"lr": 1e-2}},
    {"name": "adamw-amsgrad", "optimizer": "adamw", "kwargs": {"lr": 3e-3, "weight_decay": 0.05, "amsgrad": True}},
]


def label_smoothing():
    torch.manual_seed(3)
    cases = []
    for eps in (0.0, 0.1, 0.25):
        x = (torch.randn(5, 4) * 3).requires_grad_(True)
        y = torch.tensor([0, 3, 1, 1, 2])
        loss = F.cross_entropy(x, y, label_smoothing=eps)
        loss.backward()
        cases.append({"smoothing": eps, "logits": f64(x.detach().flatten()), "shape": [5, 4],
                      "labels": [int(v) for v in y], "loss": float(loss), "grad": f64(x.grad.flatten())})
    return cases


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    meta = {"torch_version": torch.__version__, "script": "scripts/train-references.py"}
    with open(os.path.join(OUT, "lr_schedules.json"), "w") as f:
        json.dump({**meta, "cases": [run_schedule(c) for c in SCHEDULES]}, f, indent=None)
    for i, c in enumerate(OPTIMS):
        c["seed"], c["steps"] = 10 + i, 4
    with open(os.path.join(OUT, "optim_steps.json"), "w") as f:
        json.dump({**meta, "cases": [run_optim(c) for c in OPTIMS]}, f, indent=None)
    with open(os.path.join(OUT, "label_smoothing.json"), "w") as f:
        json.dump({**meta, "cases": label_smoothing()}, f, indent=None)


if __name__ == "__main__":
    main()
