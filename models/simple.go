package models

// torchDefault is PyTorch's own initialisation, for models that do not
// override it (the tutorial networks).
var torchDefault = InitPolicy{ConvWeight: InitTorchDefault, ConvBias: InitTorchDefault, LinearWeight: InitTorchDefault, LinearBias: InitTorchDefault}

func init() {
	register(&Arch{
		Name:        "tutorial-cnn",
		Description: "PyTorch CIFAR-10 tutorial net: conv 6@5x5, pool, conv 16@5x5, pool, fc 120, 84, classes",
		Input:       [3]int{3, 32, 32}, Classes: 10, init: torchDefault, build: tutorialCNN,
	})
	register(&Arch{
		Name:        "tutorial-cnn-mnist",
		Description: "the tutorial net for 1x28x28 MNIST input (fc1 256->120)",
		Input:       [3]int{1, 28, 28}, Classes: 10, init: torchDefault, build: tutorialCNN,
	})
	register(&Arch{
		Name:        "lenet5",
		Description: "LeNet-5 as PyTorch examples write it for 1x28x28: conv 6@5x5 pad 2, ReLU, max pool, conv 16@5x5, ReLU, max pool, fc 120, 84, classes",
		Input:       [3]int{1, 28, 28}, Classes: 10, init: torchDefault, build: lenet5,
	})
}

// tutorialCNN is the tutorial's Net: one pool module called twice and
// F.relu, so the nodes are /pool/MaxPool, /pool_1/MaxPool, /Relu, /Relu_1...
func tutorialCNN(b *Builder, x string) string {
	x = b.MaxPool("pool", b.Relu("", b.Conv("conv1", x, 6, 5, 1, 0, 1, true)), 2, 2, 0)
	x = b.MaxPool("pool", b.Relu("", b.Conv("conv2", x, 16, 5, 1, 0, 1, true)), 2, 2, 0)
	x = b.Flatten("", x)
	x = b.Relu("", b.Linear("fc1", x, 120))
	x = b.Relu("", b.Linear("fc2", x, 84))
	return b.Linear("fc3", x, b.opts.Classes)
}

func lenet5(b *Builder, x string) string {
	x = b.MaxPool("pool1", b.Relu("relu1", b.Conv("conv1", x, 6, 5, 1, 2, 1, true)), 2, 2, 0)
	x = b.MaxPool("pool2", b.Relu("relu2", b.Conv("conv2", x, 16, 5, 1, 0, 1, true)), 2, 2, 0)
	x = b.Flatten("", x)
	x = b.Relu("relu3", b.Linear("fc1", x, 120))
	x = b.Relu("relu4", b.Linear("fc2", x, 84))
	return b.Linear("fc3", x, b.opts.Classes)
}
