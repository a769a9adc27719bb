package models

import "strconv"

// mobilenetInit is torchvision MobileNetV2's: kaiming_normal_(fan_out) convs
// (fan_out ignores groups), BN 1/0, Linear N(0, 0.01²) and bias 0.
var mobilenetInit = InitPolicy{ConvWeight: InitKaimingNormalFanOut, ConvBias: InitZeros, LinearWeight: InitNormal001, LinearBias: InitZeros}

func init() {
	register(&Arch{Name: "mobilenet_v2", Description: "torchvision mobilenet_v2 (width 1.0)", Input: [3]int{3, 224, 224}, Classes: 1000,
		init: mobilenetInit, build: mobilenetV2})
}

// convNormAct is torchvision's Conv2dNormActivation with ReLU6: module name
// holding 0 (Conv, no bias), 1 (BatchNorm), 2 (ReLU6).
func convNormAct(b *Builder, name, x string, cout, k, stride, groups int) string {
	b.Scope(name, func() {
		x = b.Relu6("2", b.BatchNorm("1", b.Conv("0", x, cout, k, stride, (k-1)/2, groups, false)))
	})
	return x
}

func mobilenetV2(b *Builder, x string) string {
	settings := [][4]int{ // t, c, n, s
		{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
	}
	b.Scope("features", func() {
		x = convNormAct(b, "0", x, 32, 3, 2, 1)
		in, idx := 32, 1
		for _, st := range settings {
			t, c, n, s := st[0], st[1], st[2], st[3]
			for i := range n {
				stride := s
				if i > 0 {
					stride = 1
				}
				b.Scope(strconv.Itoa(idx), func() {
					hidden := in * t
					y := x
					b.Scope("conv", func() {
						j := 0
						if t != 1 {
							y = convNormAct(b, "0", y, hidden, 1, 1, 1)
							j = 1
						}
						y = convNormAct(b, strconv.Itoa(j), y, hidden, 3, stride, hidden)
						y = b.Conv(strconv.Itoa(j+1), y, c, 1, 1, 0, 1, false)
						y = b.BatchNorm(strconv.Itoa(j+2), y)
					})
					if stride == 1 && in == c {
						y = b.Add(x, y)
					}
					x = y
				})
				in = c
				idx++
			}
		}
		x = convNormAct(b, strconv.Itoa(idx), x, 1280, 1, 1, 1)
	})
	x = b.Flatten("", b.GlobalAvgPool("", x))
	b.Scope("classifier", func() {
		x = b.Linear("1", b.Dropout("0", x, 0.2), b.opts.Classes)
	})
	return x
}
