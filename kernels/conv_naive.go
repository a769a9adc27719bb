package kernels

// ConvForwardNaive is the reference for ConvForward: the direct seven-deep
// loop of the definition in ConvParams, accumulating in float64.
func ConvForwardNaive(out, in, weight, bias []float32, p ConvParams) {
	mustValidate(p)
	checkLen("out", out, p.OutLen(), false)
	checkLen("in", in, p.InLen(), false)
	checkLen("weight", weight, p.WeightLen(), false)
	checkLen("bias", bias, p.K, true)
	cg, kg := p.C/p.Group, p.K/p.Group
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			g := k / kg
			for oh := 0; oh < p.OH; oh++ {
				for ow := 0; ow < p.OW; ow++ {
					var s float64
					if bias != nil {
						s = float64(bias[k])
					}
					for c := 0; c < cg; c++ {
						for kh := 0; kh < p.KH; kh++ {
							ih := oh*p.StrideH - p.PadTop + kh*p.DilationH
							if ih < 0 || ih >= p.H {
								continue
							}
							for kw := 0; kw < p.KW; kw++ {
								iw := ow*p.StrideW - p.PadLeft + kw*p.DilationW
								if iw < 0 || iw >= p.W {
									continue
								}
								x := in[((n*p.C+g*cg+c)*p.H+ih)*p.W+iw]
								w := weight[((k*cg+c)*p.KH+kh)*p.KW+kw]
								s += float64(x) * float64(w)
							}
						}
					}
					out[((n*p.K+k)*p.OH+oh)*p.OW+ow] = float32(s)
				}
			}
		}
	}
}

// ConvBackwardNaive is the reference for ConvBackward: it differentiates the
// loop of ConvForwardNaive term by term, accumulating in float64 before
// adding into dIn, dWeight and dBias (each may be nil).
func ConvBackwardNaive(dIn, dWeight, dBias, dOut, in, weight []float32, p ConvParams) {
	mustValidate(p)
	checkLen("dIn", dIn, p.InLen(), true)
	checkLen("dWeight", dWeight, p.WeightLen(), true)
	checkLen("dBias", dBias, p.K, true)
	checkLen("dOut", dOut, p.OutLen(), false)
	checkLen("in", in, p.InLen(), false)
	checkLen("weight", weight, p.WeightLen(), false)
	gIn := make([]float64, p.InLen())
	gW := make([]float64, p.WeightLen())
	gB := make([]float64, p.K)
	cg, kg := p.C/p.Group, p.K/p.Group
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			g := k / kg
			for oh := 0; oh < p.OH; oh++ {
				for ow := 0; ow < p.OW; ow++ {
					d := float64(dOut[((n*p.K+k)*p.OH+oh)*p.OW+ow])
					gB[k] += d
					for c := 0; c < cg; c++ {
						for kh := 0; kh < p.KH; kh++ {
							ih := oh*p.StrideH - p.PadTop + kh*p.DilationH
							if ih < 0 || ih >= p.H {
								continue
							}
							for kw := 0; kw < p.KW; kw++ {
								iw := ow*p.StrideW - p.PadLeft + kw*p.DilationW
								if iw < 0 || iw >= p.W {
									continue
								}
								xi := ((n*p.C+g*cg+c)*p.H+ih)*p.W + iw
								wi := ((k*cg+c)*p.KH+kh)*p.KW + kw
								gIn[xi] += d * float64(weight[wi])
								gW[wi] += d * float64(in[xi])
							}
						}
					}
				}
			}
		}
	}
	addInto(dIn, gIn)
	addInto(dWeight, gW)
	addInto(dBias, gB)
}

// addInto adds g into dst unless dst is nil.
func addInto(dst []float32, g []float64) {
	if dst == nil {
		return
	}
	for i, v := range g {
		dst[i] += float32(v)
	}
}
