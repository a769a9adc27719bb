// Package onnxzoo is the onnxzoo command: it writes classic image
// classifiers (the PyTorch tutorial CNN, LeNet-5, VGG, ResNet, MobileNetV2,
// DenseNet) as ONNX files, built by package models as torchvision builds
// them, with reproducible random weights. cmd/onnxzoo calls Main.
package onnxzoo
