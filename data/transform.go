package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Op is one step of a Transform: torchvision's transform of the same name.
type Op interface {
	// Apply transforms img in place (swapping buffers with s where it
	// needs new memory), drawing random parameters from rng.
	Apply(img *Image, s *Scratch, rng *rand.Rand) error
	// OutShape is the shape Apply gives to an input of shape in.
	OutShape(in Shape) Shape
	// String is the op in the syntax ParseTransform reads.
	String() string
}

// Scratch is one worker's spare memory for the ops.
type Scratch struct {
	u8, tmp []uint8
	f32     []float32
	acc     []int32
}

// swapU8 returns a buffer of n bytes and gives img's old one to s.
func (s *Scratch) takeU8(n int) []uint8 {
	if cap(s.u8) < n {
		s.u8 = make([]uint8, n)
	}
	return s.u8[:n]
}

func (s *Scratch) takeF32(n int) []float32 {
	if cap(s.f32) < n {
		s.f32 = make([]float32, n)
	}
	return s.f32[:n]
}

// replace puts the new pixels into img and keeps the old buffer in s.
func (s *Scratch) replaceU8(img *Image, pix []uint8, c, h, w int) {
	s.u8, img.U8 = img.U8, pix
	img.C, img.H, img.W = c, h, w
}

func (s *Scratch) replaceF32(img *Image, pix []float32, c, h, w int) {
	s.f32, img.F32 = img.F32, pix
	img.C, img.H, img.W = c, h, w
}

// Normalize is torchvision's ToTensor then Normalize: a byte p of channel c
// becomes (p/255 − Mean[c]) / Std[c], each step rounded to float32 in that
// order; float pixels skip the /255. Mean and Std have one entry per
// channel or one for all; empty Mean means 0, empty Std 1.
type Normalize struct {
	Mean, Std []float32
}

// Presets of Normalize.
var (
	// MNISTNormalize is the MNIST fixtures' (p/255 − 0.5)/0.5.
	MNISTNormalize = Normalize{Mean: []float32{0.5}, Std: []float32{0.5}}
	// HalfNormalize is (p/255 − 0.5)/0.5 on every channel (the PyTorch
	// CIFAR-10 tutorial's), the default for byte data.
	HalfNormalize = Normalize{Mean: []float32{0.5}, Std: []float32{0.5}}
	// ImageNetNormalize is torchvision's ImageNet mean and std.
	ImageNetNormalize = Normalize{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	// CIFAR10MeanStd is CIFAR-10's training-set mean and std.
	CIFAR10MeanStd = Normalize{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
)

var normalizePresets = map[string]Normalize{"mnist": MNISTNormalize, "half": HalfNormalize, "imagenet": ImageNetNormalize, "cifar10": CIFAR10MeanStd}

// Check validates n for c channels.
func (n Normalize) Check(c int) error {
	for _, v := range [...]struct {
		name string
		s    []float32
	}{{"mean", n.Mean}, {"std", n.Std}} {
		if len(v.s) > 1 && len(v.s) != c {
			return fmt.Errorf("data: normalization has %d %s values for %d channels", len(v.s), v.name, c)
		}
	}
	for _, s := range n.Std {
		if s == 0 || s != s {
			return fmt.Errorf("data: normalization std %v is not usable", s)
		}
	}
	return nil
}

func (n Normalize) at(c int) (mean, std float32) {
	mean, std = 0, 1
	switch len(n.Mean) {
	case 0:
	case 1:
		mean = n.Mean[0]
	default:
		mean = n.Mean[c]
	}
	switch len(n.Std) {
	case 0:
	case 1:
		std = n.Std[0]
	default:
		std = n.Std[c]
	}
	return mean, std
}

// Table returns, per channel, the 256 normalised values of the bytes.
func (n Normalize) Table(c int) [][256]float32 {
	t := make([][256]float32, c)
	for ch := range c {
		mean, std := n.at(ch)
		for p := range 256 {
			x := float32(p) / float32(255)
			x = float32(x - mean)
			t[ch][p] = float32(x / std)
		}
	}
	return t
}

func (n Normalize) String() string {
	for _, name := range []string{"mnist", "imagenet", "cifar10"} {
		p := normalizePresets[name]
		if slices.Equal(p.Mean, n.Mean) && slices.Equal(p.Std, n.Std) {
			return "Normalize(" + name + ")"
		}
	}
	return "Normalize(mean=" + floatList(n.Mean) + ", std=" + floatList(n.Std) + ")"
}

func floatList(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return "[" + strings.Join(s, ",") + "]"
}

// Transform is a torchvision Compose: the ops in order, then ToTensor and
// Normalize. A nil Normalize means none: bytes are only scaled to [0, 1]
// and floats pass as they are.
type Transform struct {
	Ops       []Op
	Normalize *Normalize
}

// OutShape is the shape of a sample of shape in after the ops.
func (t *Transform) OutShape(in Shape) Shape {
	if t == nil {
		return in
	}
	for _, op := range t.Ops {
		in = op.OutShape(in)
	}
	return in
}

// Random tells whether any op draws random parameters.
func (t *Transform) Random() bool {
	if t == nil {
		return false
	}
	for _, op := range t.Ops {
		switch op.(type) {
		case *RandomResizedCrop, *RandomCrop, *RandomHorizontalFlip:
			return true
		}
	}
	return false
}

// String is t in the syntax ParseTransform reads.
func (t *Transform) String() string {
	if t == nil {
		return ""
	}
	var parts []string
	for _, op := range t.Ops {
		parts = append(parts, op.String())
	}
	if t.Normalize != nil {
		parts = append(parts, t.Normalize.String())
	}
	return strings.Join(parts, ", ")
}

// Check validates t's normalization for samples of shape in.
func (t *Transform) Check(in Shape) error {
	if t == nil || t.Normalize == nil {
		return nil
	}
	return t.Normalize.Check(t.OutShape(in).C)
}

// Apply runs the ops on img (changing it), then writes the normalised
// pixels into dst (len C·H·W of the result), C×H×W, or H×W×C when nhwc.
func (t *Transform) Apply(dst []float32, img *Image, s *Scratch, rng *rand.Rand, nhwc bool, tables [][256]float32) error {
	if t != nil {
		for _, op := range t.Ops {
			if err := op.Apply(img, s, rng); err != nil {
				return err
			}
		}
	}
	c, hw := img.C, img.H*img.W
	if len(dst) != c*hw {
		return fmt.Errorf("data: the image is %dx%dx%d after %q where the batch holds %d values a sample (images of different sizes need a transform that fixes the size, say CenterCrop)", c, img.H, img.W, t.String(), len(dst))
	}
	var norm Normalize
	if t != nil && t.Normalize != nil {
		norm = *t.Normalize
	}
	for ch := range c {
		at := func(i int) int { return ch*hw + i }
		if nhwc {
			at = func(i int) int { return i*c + ch }
		}
		if img.F32 != nil {
			mean, std := norm.at(ch)
			src := img.F32[ch*hw : (ch+1)*hw]
			for i, v := range src {
				dst[at(i)] = float32(float32(v-mean) / std)
			}
			continue
		}
		var tab *[256]float32
		if tables != nil {
			tab = &tables[ch]
		} else {
			tab = &norm.Table(c)[ch]
		}
		src := img.U8[ch*hw : (ch+1)*hw]
		if !nhwc {
			d := dst[ch*hw : (ch+1)*hw]
			for i, p := range src {
				d[i] = tab[p]
			}
			continue
		}
		for i, p := range src {
			dst[i*c+ch] = tab[p]
		}
	}
	return nil
}

// Tables are the per-channel byte tables of t's normalization for c
// channels (what Apply takes to avoid recomputing them).
func (t *Transform) Tables(c int) [][256]float32 {
	var n Normalize
	if t != nil && t.Normalize != nil {
		n = *t.Normalize
	}
	return n.Table(c)
}

// DefaultEval is the evaluation transform for a model whose input is
// model.C×model.H×model.W, given samples of shape in: none when the data
// already has the model's size, else Resize(S/0.875) then CenterCrop(S)
// (Resize(256), CenterCrop(224) for a 224×224 model, torchvision's
// ImageNet evaluation). norm is the normalization. For sources whose
// sizes vary, in is the first sample's size.
func DefaultEval(in, model Shape, norm *Normalize) *Transform {
	t := &Transform{Normalize: norm}
	if in.H == model.H && in.W == model.W {
		// For a folder of images this is judged by the first; one of
		// another size is an error naming it.
		return t
	}
	if model.H == model.W {
		t.Ops = append(t.Ops, &Resize{H: int(math.Round(float64(model.H) / 0.875))})
	} else {
		t.Ops = append(t.Ops, &Resize{H: int(math.Round(float64(model.H) / 0.875)), W: int(math.Round(float64(model.W) / 0.875))})
	}
	t.Ops = append(t.Ops, &CenterCrop{H: model.H, W: model.W})
	return t
}

// Resize is torchvision's Resize with bilinear antialiased interpolation:
// with W = 0 the smaller edge becomes H and the other keeps the aspect
// ratio (truncated, as torchvision does); else the image becomes H×W.
type Resize struct{ H, W int }

func (r *Resize) size(h, w int) (int, int) {
	if r.W > 0 {
		return r.H, r.W
	}
	if w <= h {
		return int(float64(r.H*h) / float64(w)), r.H
	}
	return r.H, int(float64(r.H*w) / float64(h))
}

func (r *Resize) OutShape(in Shape) Shape {
	in.H, in.W = r.size(in.H, in.W)
	if r.W > 0 {
		in.Varies = false
	}
	return in
}

func (r *Resize) String() string {
	if r.W > 0 {
		return fmt.Sprintf("Resize(%d, %d)", r.H, r.W)
	}
	return fmt.Sprintf("Resize(%d)", r.H)
}

func (r *Resize) Apply(img *Image, s *Scratch, _ *rand.Rand) error {
	oh, ow := r.size(img.H, img.W)
	return resizeTo(img, s, 0, 0, img.H, img.W, oh, ow)
}

// maxOpPixels bounds the pixels of an op's output plane.
const maxOpPixels = 1 << 26

// resizeTo crops the box (top, left, h, w) of img and resizes it to oh×ow
// (reading bytes straight from the box, with no copy of it).
func resizeTo(img *Image, s *Scratch, top, left, h, w, oh, ow int) error {
	if oh <= 0 || ow <= 0 || h <= 0 || w <= 0 || int64(oh)*int64(ow) > maxOpPixels {
		return fmt.Errorf("data: cannot resize %dx%d to %dx%d", h, w, oh, ow)
	}
	inside := top >= 0 && left >= 0 && top+h <= img.H && left+w <= img.W
	if img.F32 != nil || !inside {
		if top != 0 || left != 0 || h != img.H || w != img.W {
			cropImage(img, s, top, left, h, w)
		}
		top, left = 0, 0
	}
	if oh == h && ow == w && h == img.H && w == img.W {
		return nil
	}
	hc := precomputeCoeffs(w, 0, float64(w), ow)
	vc := precomputeCoeffs(h, 0, float64(h), oh)
	c := img.C
	if img.F32 != nil {
		out := s.takeF32(c * oh * ow)
		for ch := range c {
			resizeF32(out[ch*oh*ow:(ch+1)*oh*ow], oh, ow, img.F32[ch*h*w:(ch+1)*h*w], h, w, &hc, &vc)
		}
		s.replaceF32(img, out, c, oh, ow)
		return nil
	}
	out := s.takeU8(c * oh * ow)
	plane := img.H * img.W
	for ch := range c {
		src := img.U8[ch*plane+top*img.W+left:]
		s.tmp, s.acc = resizeU8(out[ch*oh*ow:(ch+1)*oh*ow], oh, ow, src, img.W, h, w, &hc, &vc, s.tmp, s.acc)
	}
	s.replaceU8(img, out, c, oh, ow)
	return nil
}

// cropImage keeps the box (top, left, h, w) of img; parts of the box
// outside the image are zero (torchvision's crop pads so).
func cropImage(img *Image, s *Scratch, top, left, h, w int) {
	c, ih, iw := img.C, img.H, img.W
	inside := top >= 0 && left >= 0 && top+h <= ih && left+w <= iw
	if img.F32 != nil {
		out := s.takeF32(c * h * w)
		if !inside {
			clear(out)
		}
		for ch := range c {
			for y := max(0, -top); y < h && top+y < ih; y++ {
				x0 := max(0, -left)
				x1 := min(w, iw-left)
				if x1 > x0 {
					copy(out[(ch*h+y)*w+x0:(ch*h+y)*w+x1], img.F32[(ch*ih+top+y)*iw+left+x0:])
				}
			}
		}
		s.replaceF32(img, out, c, h, w)
		return
	}
	out := s.takeU8(c * h * w)
	if !inside {
		clear(out)
	}
	for ch := range c {
		for y := max(0, -top); y < h && top+y < ih; y++ {
			x0 := max(0, -left)
			x1 := min(w, iw-left)
			if x1 > x0 {
				copy(out[(ch*h+y)*w+x0:(ch*h+y)*w+x1], img.U8[(ch*ih+top+y)*iw+left+x0:])
			}
		}
	}
	s.replaceU8(img, out, c, h, w)
}

// CenterCrop is torchvision's CenterCrop: the H×W box at
// (round((h−H)/2), round((w−W)/2)), Python's round (half to even); an
// image smaller than the box is padded with zeros first, as torchvision
// does.
type CenterCrop struct{ H, W int }

func (c *CenterCrop) OutShape(in Shape) Shape {
	in.H, in.W, in.Varies = c.H, c.W, false
	return in
}

func (c *CenterCrop) String() string {
	if c.H == c.W {
		return fmt.Sprintf("CenterCrop(%d)", c.H)
	}
	return fmt.Sprintf("CenterCrop(%d, %d)", c.H, c.W)
}

func (c *CenterCrop) Apply(img *Image, s *Scratch, _ *rand.Rand) error {
	h, w := img.H, img.W
	if c.H == h && c.W == w {
		return nil
	}
	// torchvision pads (left, top) by (W−w)//2, (H−h)//2 when too small.
	padT, padL := 0, 0
	if c.H > h {
		padT = (c.H - h) / 2
		h = c.H
	}
	if c.W > w {
		padL = (c.W - w) / 2
		w = c.W
	}
	top := int(math.RoundToEven(float64(h-c.H)/2)) - padT
	left := int(math.RoundToEven(float64(w-c.W)/2)) - padL
	cropImage(img, s, top, left, c.H, c.W)
	return nil
}

// RandomResizedCrop is torchvision's RandomResizedCrop: up to ten draws of
// an area fraction in Scale and a log-uniform aspect ratio in Ratio until
// the box fits, else the centre-crop fallback; the box is resized to H×W.
type RandomResizedCrop struct {
	H, W         int
	Scale, Ratio [2]float64
}

// NewRandomResizedCrop has torchvision's defaults: scale (0.08, 1), ratio
// (3/4, 4/3).
func NewRandomResizedCrop(h, w int) *RandomResizedCrop {
	return &RandomResizedCrop{H: h, W: w, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}}
}

func (r *RandomResizedCrop) OutShape(in Shape) Shape {
	in.H, in.W, in.Varies = r.H, r.W, false
	return in
}

func (r *RandomResizedCrop) String() string {
	return fmt.Sprintf("RandomResizedCrop(%d, %d, scale=[%s,%s], ratio=[%s,%s])", r.H, r.W, g(r.Scale[0]), g(r.Scale[1]), g(r.Ratio[0]), g(r.Ratio[1]))
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Params draws the box (top, left, h, w) for an image of height×width,
// torchvision's RandomResizedCrop.get_params.
func (r *RandomResizedCrop) Params(height, width int, rng *rand.Rand) (top, left, h, w int) {
	area := float64(height * width)
	lr0, lr1 := math.Log(r.Ratio[0]), math.Log(r.Ratio[1])
	for range 10 {
		target := area * (r.Scale[0] + (r.Scale[1]-r.Scale[0])*rng.Float64())
		aspect := math.Exp(lr0 + (lr1-lr0)*rng.Float64())
		w := int(math.RoundToEven(math.Sqrt(target * aspect)))
		h := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < w && w <= width && 0 < h && h <= height {
			top := rng.IntN(height - h + 1)
			left := rng.IntN(width - w + 1)
			return top, left, h, w
		}
	}
	inRatio := float64(width) / float64(height)
	lo, hi := min(r.Ratio[0], r.Ratio[1]), max(r.Ratio[0], r.Ratio[1])
	switch {
	case inRatio < lo:
		w = width
		h = int(math.RoundToEven(float64(w) / lo))
	case inRatio > hi:
		h = height
		w = int(math.RoundToEven(float64(h) * hi))
	default:
		w, h = width, height
	}
	return (height - h) / 2, (width - w) / 2, h, w
}

func (r *RandomResizedCrop) Apply(img *Image, s *Scratch, rng *rand.Rand) error {
	top, left, h, w := r.Params(img.H, img.W, rng)
	return ResizedCrop(img, s, top, left, h, w, r.H, r.W)
}

// ResizedCrop is torchvision's F.resized_crop: the box (top, left, h, w)
// of img resized to oh×ow.
func ResizedCrop(img *Image, s *Scratch, top, left, h, w, oh, ow int) error {
	return resizeTo(img, s, top, left, h, w, oh, ow)
}

// RandomCrop is torchvision's RandomCrop: pad by Padding (left, top,
// right, bottom; constant Fill), then a uniformly placed H×W box.
type RandomCrop struct {
	H, W    int
	Padding [4]int
	Fill    uint8
}

func (r *RandomCrop) OutShape(in Shape) Shape {
	in.H, in.W, in.Varies = r.H, r.W, false
	return in
}

func (r *RandomCrop) String() string {
	p := r.Padding
	pad := ""
	switch {
	case p == [4]int{}:
	case p[0] == p[1] && p[1] == p[2] && p[2] == p[3]:
		pad = fmt.Sprintf(", padding=%d", p[0])
	default:
		pad = fmt.Sprintf(", padding=[%d,%d,%d,%d]", p[0], p[1], p[2], p[3])
	}
	if r.Fill != 0 {
		pad += fmt.Sprintf(", fill=%d", r.Fill)
	}
	return fmt.Sprintf("RandomCrop(%d, %d%s)", r.H, r.W, pad)
}

func (r *RandomCrop) Apply(img *Image, s *Scratch, rng *rand.Rand) error {
	p := r.Padding
	h, w := img.H+p[1]+p[3], img.W+p[0]+p[2]
	if h < r.H || w < r.W {
		return fmt.Errorf("data: RandomCrop %dx%d is larger than the padded %dx%d image", r.H, r.W, h, w)
	}
	top, left := 0, 0
	if h != r.H || w != r.W {
		top = rng.IntN(h - r.H + 1)
		left = rng.IntN(w - r.W + 1)
	}
	cropImage(img, s, top-p[1], left-p[0], r.H, r.W)
	if r.Fill != 0 && img.U8 != nil {
		// cropImage zeroes what lies outside; paint it with Fill.
		for ch := range img.C {
			for y := range r.H {
				sy := top - p[1] + y
				for x := range r.W {
					sx := left - p[0] + x
					if sy < 0 || sy >= h-p[1]-p[3] || sx < 0 || sx >= w-p[0]-p[2] {
						img.U8[(ch*r.H+y)*r.W+x] = r.Fill
					}
				}
			}
		}
	}
	return nil
}

// RandomHorizontalFlip is torchvision's: mirror left-right with
// probability P.
type RandomHorizontalFlip struct{ P float64 }

func (f *RandomHorizontalFlip) OutShape(in Shape) Shape { return in }
func (f *RandomHorizontalFlip) String() string {
	return fmt.Sprintf("RandomHorizontalFlip(%s)", g(f.P))
}

func (f *RandomHorizontalFlip) Apply(img *Image, _ *Scratch, rng *rand.Rand) error {
	if rng.Float64() >= f.P {
		return nil
	}
	for r := range img.C * img.H {
		if img.F32 != nil {
			slices.Reverse(img.F32[r*img.W : (r+1)*img.W])
		} else {
			slices.Reverse(img.U8[r*img.W : (r+1)*img.W])
		}
	}
	return nil
}

// Grayscale is torchvision's Grayscale: PIL's convert("L"), L = (19595 R +
// 38470 G + 7471 B + 2^15) >> 16 on bytes (0.299 R + 0.587 G + 0.114 B on
// floats), repeated on C output channels (1 or 3).
type Grayscale struct{ C int }

func (gs *Grayscale) OutShape(in Shape) Shape { in.C = gs.C; return in }
func (gs *Grayscale) String() string          { return fmt.Sprintf("Grayscale(%d)", gs.C) }

func (gs *Grayscale) Apply(img *Image, s *Scratch, _ *rand.Rand) error {
	hw := img.H * img.W
	if img.C != 1 && img.C != 3 {
		return fmt.Errorf("data: Grayscale of a %d-channel image", img.C)
	}
	if img.F32 != nil {
		out := s.takeF32(gs.C * hw)
		for i := range hw {
			v := img.F32[i]
			if img.C == 3 {
				v = float32(0.299*float64(img.F32[i]) + 0.587*float64(img.F32[hw+i]) + 0.114*float64(img.F32[2*hw+i]))
			}
			for c := range gs.C {
				out[c*hw+i] = v
			}
		}
		s.replaceF32(img, out, gs.C, img.H, img.W)
		return nil
	}
	out := s.takeU8(gs.C * hw)
	if img.C == 1 {
		copy(out, img.U8[:hw])
	} else {
		rgbToL(out[:hw], img.U8[:hw], img.U8[hw:2*hw], img.U8[2*hw:3*hw])
	}
	for c := 1; c < gs.C; c++ {
		copy(out[c*hw:(c+1)*hw], out[:hw])
	}
	s.replaceU8(img, out, gs.C, img.H, img.W)
	return nil
}

// rgbToL is Pillow's RGB to L conversion (Convert.c, L24).
func rgbToL(dst, r, g, b []uint8) {
	for i := range dst {
		dst[i] = uint8((uint32(r[i])*19595 + uint32(g[i])*38470 + uint32(b[i])*7471 + 0x8000) >> 16)
	}
}
