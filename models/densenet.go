package models

import "strconv"

// densenetInit is torchvision DenseNet's: kaiming_normal_() convs (fan_in),
// BN 1/0, Linear default weight and bias 0.
var densenetInit = InitPolicy{ConvWeight: InitKaimingNormalFanIn, ConvBias: InitZeros, LinearWeight: InitTorchDefault, LinearBias: InitZeros}

func init() {
	register(&Arch{Name: "densenet121", Description: "torchvision densenet121 (growth 32, blocks 6/12/24/16, bn_size 4)", Input: [3]int{3, 224, 224}, Classes: 1000,
		init: densenetInit, build: func(b *Builder, x string) string { return densenet(b, x, 32, []int{6, 12, 24, 16}, 64, 4) }})
}

// densenet builds torchvision's DenseNet. A dense layer's torch.cat of a
// single tensor (the first layer of a block) is an identity and is left out.
func densenet(b *Builder, x string, growth int, blocks []int, initFeatures, bnSize int) string {
	b.Scope("features", func() {
		x = b.Conv("conv0", x, initFeatures, 7, 2, 3, 1, false)
		x = b.Relu("relu0", b.BatchNorm("norm0", x))
		x = b.MaxPool("pool0", x, 3, 2, 1)
		for i, n := range blocks {
			b.Scope("denseblock"+strconv.Itoa(i+1), func() {
				feats := []string{x}
				for j := range n {
					b.Scope("denselayer"+strconv.Itoa(j+1), func() {
						y := b.Concat(feats)
						y = b.Conv("conv1", b.Relu("relu1", b.BatchNorm("norm1", y)), bnSize*growth, 1, 1, 0, 1, false)
						y = b.Conv("conv2", b.Relu("relu2", b.BatchNorm("norm2", y)), growth, 3, 1, 1, 1, false)
						feats = append(feats, y)
					})
				}
				x = b.Concat(feats)
			})
			if i != len(blocks)-1 {
				b.Scope("transition"+strconv.Itoa(i+1), func() {
					s := b.Shape(x)
					if s == nil {
						return
					}
					x = b.Conv("conv", b.Relu("relu", b.BatchNorm("norm", x)), s[1]/2, 1, 1, 0, 1, false)
					x = b.AvgPool("pool", x, 2, 2, 0)
				})
			}
		}
		x = b.BatchNorm("norm5", x)
	})
	x = b.Relu("", x)
	x = b.Flatten("", b.GlobalAvgPool("", x))
	return b.Linear("classifier", x, b.opts.Classes)
}
