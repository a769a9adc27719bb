#!/usr/bin/python3
"""Counts the weights an ONNX model keeps in Constant nodes, independently of
the Go code (python3-onnx and numpy only), with the rule ops.LiftConstantWeights
documents: a float Constant of two or more elements that feeds a weight slot
(Conv, ConvTranspose and Gemm inputs 1-2, BatchNormalization, InstanceNormalization,
GroupNormalization, LayerNormalization inputs 1-2 (BN: 1-4), MatMul input 1)
or is the constant addend of an Add after such a MatMul. BatchNormalization's
running mean and variance (inputs 3 and 4) are buffers, counted apart.

Usage: scripts/count-constant-weights.py model.onnx ...   (prints JSON lines)
"""
import json
import sys

import onnx
from onnx import numpy_helper

SLOTS = {"Conv": [1, 2], "ConvTranspose": [1, 2], "Gemm": [1, 2], "MatMul": [1],
         "BatchNormalization": [1, 2, 3, 4], "InstanceNormalization": [1, 2],
         "GroupNormalization": [1, 2], "LayerNormalization": [1, 2]}

for path in sys.argv[1:]:
    g = onnx.load(path).graph
    const = {}
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type in (1, 10, 11, 16):
                    const[n.output[0]] = numpy_helper.to_array(a.t)
    weights, matmul_out = set(), set()
    for n in g.node:
        for s in SLOTS.get(n.op_type, []):
            if s < len(n.input) and n.input[s] in const:
                weights.add(n.input[s])
                if n.op_type == "MatMul":
                    matmul_out.add(n.output[0])
    for n in g.node:
        if n.op_type == "Add":
            for i in (0, 1):
                if n.input[1 - i] in matmul_out and n.input[i] in const:
                    weights.add(n.input[i])
    weights = [w for w in weights if const[w].size >= 2]
    buffers = set()
    for n in g.node:
        if n.op_type == "BatchNormalization":
            buffers.update(n.input[3:5])
    print(json.dumps({
        "model": path.split("/")[-1],
        "constant_weights": len(weights),
        "params": int(sum(const[w].size for w in weights if w not in buffers)),
        "buffers": int(sum(const[w].size for w in weights if w in buffers)),
    }))
