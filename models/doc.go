// Package models builds classic image classifiers as ONNX models, without
// Python: the PyTorch CIFAR-10 tutorial CNN (and its MNIST variant), LeNet-5,
// VGG 11/13/16/19 with and without BatchNorm, ResNet 18/34/50, the CIFAR
// ResNets 20 and 56, DenseNet-121 and MobileNetV2.
//
// Each network is built as torchvision builds it, so parameter counts match
// torchvision to the unit, and named as torch 1.13's exporter names it: node
// "/layer1/layer1.0/conv1/Conv", its output "/layer1/layer1.0/conv1/Conv_output_0",
// initializer "layer1.0.conv1.weight" (the state_dict name). With BNFold the
// graph is the one torch.onnx.export writes in eval mode, node for node,
// except that the exporter's initializer de-duplication (Identity nodes), a
// one-input Concat and a zero Pad before DenseNet's AveragePool are left
// out; the tests compare against the PyTorch fixtures in ../shared.
//
// The graph input is "input" [batch, C, H, W] (a symbolic "batch" unless
// Options.Batch fixes it); the output is "logits" [batch, classes].
//
// Weights follow each architecture's own initialisation (kaiming_normal_ with
// fan_out for torchvision's convs, fan_in for DenseNet's, PyTorch's defaults
// for the tutorial nets, N(0, 0.01²) for VGG's and MobileNet's classifiers,
// BatchNorm weight 1 and bias 0), drawn from PCG streams (math/rand/v2)
// seeded by Options.Seed, the initializer's name and a chunk index: the same
// seed gives the same file, byte for byte, whatever the number of cores. The
// values are not PyTorch's (its generator is not reproduced), the
// distributions are.
//
// Layer rows (Info.Layers) mirror the fixtures' meta.json: module name, type,
// weight shape, parameters, output shape for batch 1 and MACs
// (Cout·Hout·Wout·(Cin/groups)·kh·kw for a Conv, in·out for a Linear).
//
// Errors: an unknown architecture, an option out of range or an input too
// small for the network is a *OptionError; nothing here panics on user input.
package models
