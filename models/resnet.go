package models

import "strconv"

// resnetInit is torchvision ResNet's: kaiming_normal_(fan_out) convs, BN 1/0,
// PyTorch's default Linear.
var resnetInit = InitPolicy{ConvWeight: InitKaimingNormalFanOut, ConvBias: InitZeros, LinearWeight: InitTorchDefault, LinearBias: InitTorchDefault}

func init() {
	for _, r := range []struct {
		name       string
		bottleneck bool
		blocks     []int
	}{
		{"resnet18", false, []int{2, 2, 2, 2}},
		{"resnet34", false, []int{3, 4, 6, 3}},
		{"resnet50", true, []int{3, 4, 6, 3}},
	} {
		register(&Arch{Name: r.name, Description: "torchvision " + r.name, Input: [3]int{3, 224, 224}, Classes: 1000, init: resnetInit,
			build: func(b *Builder, x string) string { return resnet(b, x, r.bottleneck, r.blocks) }})
	}
	for _, r := range []struct {
		name  string
		depth int
	}{{"resnet20", 20}, {"resnet56", 56}} {
		n := (r.depth - 2) / 6
		register(&Arch{Name: r.name, Description: "CIFAR ResNet-" + strconv.Itoa(r.depth) + " (He et al. 2016, 3x3 stem, 16/32/64 channels, " + strconv.Itoa(n) + " blocks per stage, option B 1x1 conv+BN shortcuts, torchvision naming)",
			Input: [3]int{3, 32, 32}, Classes: 10, init: resnetInit,
			build: func(b *Builder, x string) string { return cifarResNet(b, x, n) }})
	}
}

// resnet builds torchvision's ResNet (v1.5: the stride sits on the 3x3 conv).
func resnet(b *Builder, x string, bottleneck bool, blocks []int) string {
	x = b.Conv("conv1", x, 64, 7, 2, 3, 1, false)
	x = b.Relu("relu", b.BatchNorm("bn1", x))
	x = b.MaxPool("maxpool", x, 3, 2, 1)
	x = resnetStages(b, x, bottleneck, blocks, []int{64, 128, 256, 512})
	x = b.Flatten("", b.GlobalAvgPool("avgpool", x))
	return b.Linear("fc", x, b.opts.Classes)
}

// cifarResNet builds the CIFAR ResNet of He et al. with torchvision's blocks:
// a 3x3 stem without max pool, three stages of n BasicBlocks. Shortcuts that
// change shape are option B (1x1 conv + BatchNorm, torchvision's downsample).
func cifarResNet(b *Builder, x string, n int) string {
	x = b.Conv("conv1", x, 16, 3, 1, 1, 1, false)
	x = b.Relu("relu", b.BatchNorm("bn1", x))
	x = resnetStages(b, x, false, []int{n, n, n}, []int{16, 32, 64})
	x = b.Flatten("", b.GlobalAvgPool("avgpool", x))
	return b.Linear("fc", x, b.opts.Classes)
}

func resnetStages(b *Builder, x string, bottleneck bool, blocks, planes []int) string {
	expansion := 1
	if bottleneck {
		expansion = 4
	}
	inplanes := b.Shape(x)
	if inplanes == nil {
		return ""
	}
	in := inplanes[1]
	for s, nb := range blocks {
		b.Scope("layer"+strconv.Itoa(s+1), func() {
			for i := range nb {
				stride := 1
				if i == 0 && s > 0 {
					stride = 2
				}
				p := planes[s]
				b.Scope(strconv.Itoa(i), func() {
					identity := x
					var y string
					if bottleneck {
						y = b.Relu("relu", b.BatchNorm("bn1", b.Conv("conv1", x, p, 1, 1, 0, 1, false)))
						y = b.Relu("relu", b.BatchNorm("bn2", b.Conv("conv2", y, p, 3, stride, 1, 1, false)))
						y = b.BatchNorm("bn3", b.Conv("conv3", y, p*expansion, 1, 1, 0, 1, false))
					} else {
						y = b.Relu("relu", b.BatchNorm("bn1", b.Conv("conv1", x, p, 3, stride, 1, 1, false)))
						y = b.BatchNorm("bn2", b.Conv("conv2", y, p, 3, 1, 1, 1, false))
					}
					if stride != 1 || in != p*expansion {
						b.Scope("downsample", func() {
							identity = b.BatchNorm("1", b.Conv("0", x, p*expansion, 1, stride, 0, 1, false))
						})
					}
					x = b.Relu("relu", b.Add(y, identity))
				})
				in = p * expansion
			}
		})
	}
	return x
}
