package models

import "strconv"

// vggCfgs are torchvision's VGG configurations: channel counts, 0 for a max pool.
var vggCfgs = map[string][]int{
	"vgg11": {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	"vgg13": {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	"vgg16": {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	"vgg19": {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// vggInit is torchvision VGG's _initialize_weights.
var vggInit = InitPolicy{ConvWeight: InitKaimingNormalFanOut, ConvBias: InitZeros, LinearWeight: InitNormal001, LinearBias: InitZeros}

func init() {
	for _, name := range []string{"vgg11", "vgg13", "vgg16", "vgg19"} {
		cfg := vggCfgs[name]
		for _, bn := range []bool{false, true} {
			n, desc := name, "torchvision "+name
			if bn {
				n, desc = name+"_bn", desc+" with BatchNorm"
			}
			register(&Arch{Name: n, Description: desc, Input: [3]int{3, 224, 224}, Classes: 1000, init: vggInit,
				build: func(b *Builder, x string) string { return vgg(b, x, cfg, bn) }})
		}
	}
}

// vgg builds torchvision's VGG. Its AdaptiveAvgPool2d((7, 7)) is left out
// when the features are already 7×7 (224×224 input: an identity), becomes
// an AveragePool when they are a multiple of 7, and is refused otherwise.
func vgg(b *Builder, x string, cfg []int, bn bool) string {
	b.Scope("features", func() {
		i := 0
		idx := func() string { i++; return strconv.Itoa(i - 1) }
		for _, c := range cfg {
			if c == 0 {
				x = b.MaxPool(idx(), x, 2, 2, 0)
				continue
			}
			x = b.Conv(idx(), x, c, 3, 1, 1, 1, true)
			if bn {
				x = b.BatchNorm(idx(), x)
			}
			x = b.Relu(idx(), x)
		}
	})
	if s := b.Shape(x); s != nil && (s[2] != 7 || s[3] != 7) {
		if s[2] != s[3] || s[2]%7 != 0 {
			return b.fail("VGG's adaptive average pool from %dx%d features to 7x7 is not an AveragePool; use a square input that gives 7k x 7k features (224x224, 448x448, ...)", s[2], s[3])
		}
		x = b.AvgPool("avgpool", x, s[2]/7, s[2]/7, 0)
	}
	x = b.Flatten("", x)
	b.Scope("classifier", func() {
		x = b.Dropout("2", b.Relu("1", b.Linear("0", x, 4096)), 0.5)
		x = b.Dropout("5", b.Relu("4", b.Linear("3", x, 4096)), 0.5)
		x = b.Linear("6", x, b.opts.Classes)
	})
	return x
}
