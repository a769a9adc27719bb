package data

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ParseTransform reads a transform stated as torchvision's class names with
// their arguments, separated by commas, semicolons or new lines; '#'
// starts a comment (so a small file can hold one op per line):
//
//	Resize(256), CenterCrop(224), Normalize(imagenet)
//	RandomResizedCrop(224, scale=[0.08,1], ratio=[0.75,1.3333]); RandomHorizontalFlip()
//	RandomCrop(32, padding=4), RandomHorizontalFlip(0.5), Normalize(mean=[0.4914,0.4822,0.4465], std=[0.247,0.2435,0.2616])
//
// Ops: Resize(size) (the smaller edge) or Resize(h, w); CenterCrop(size)
// or (h, w); RandomResizedCrop(size or h, w, scale=[lo,hi], ratio=[lo,hi]);
// RandomCrop(size or h, w, padding=p or [lr,tb] or [l,t,r,b], fill=v);
// RandomHorizontalFlip(p=0.5); Grayscale(1 or 3); ToTensor() (implied,
// accepted); Normalize(mnist|imagenet|cifar10|half) or Normalize(mean=[..],
// std=[..]), which must come last. Names are case-insensitive; sizes may
// also be written [h,w] or (h,w). An empty spec is no transform.
func ParseTransform(spec string) (*Transform, error) {
	items, err := splitItems(spec)
	if err != nil {
		return nil, err
	}
	t := &Transform{}
	for _, it := range items {
		if t.Normalize != nil {
			return nil, fmt.Errorf("data: transform %q: %s after Normalize (Normalize comes last)", spec, it.name)
		}
		op, norm, err := buildOp(it)
		if err != nil {
			return nil, fmt.Errorf("data: transform %s: %w", it.text, err)
		}
		if norm != nil {
			t.Normalize = norm
		} else if op != nil {
			t.Ops = append(t.Ops, op)
		}
	}
	return t, nil
}

// LoadTransform reads a transform file (ParseTransform's syntax).
func LoadTransform(path string) (*Transform, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if st.Size() > 1<<20 {
		return nil, fmt.Errorf("data: %s: %d bytes is too long for a transform file", path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	t, err := ParseTransform(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

type item struct {
	name, text string
	pos        []string
	kw         map[string]string
}

// splitItems cuts the spec at top-level separators and each item into its
// name and arguments.
func splitItems(spec string) ([]item, error) {
	var lines []string
	for _, l := range strings.Split(spec, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	s := strings.Join(lines, ";")
	var parts []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("data: transform %q: unbalanced %q", spec, r)
			}
		case ',', ';':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("data: transform %q: unbalanced brackets", spec)
	}
	parts = append(parts, s[start:])
	var items []item
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		it := item{text: p, kw: map[string]string{}}
		name, args, hasArgs := strings.Cut(p, "(")
		it.name = strings.ToLower(strings.TrimSpace(name))
		if strings.HasPrefix(it.name, "transforms.") {
			it.name = it.name[len("transforms."):]
		}
		if hasArgs {
			if !strings.HasSuffix(args, ")") {
				return nil, fmt.Errorf("data: transform %q: want Name(args)", p)
			}
			for _, a := range splitTop(args[:len(args)-1]) {
				a = strings.TrimSpace(a)
				if a == "" {
					continue
				}
				if k, v, ok := strings.Cut(a, "="); ok && !strings.ContainsAny(k, "[(") {
					it.kw[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
				} else {
					if len(it.kw) > 0 {
						return nil, fmt.Errorf("data: transform %q: positional argument after a keyword", p)
					}
					it.pos = append(it.pos, a)
				}
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// splitTop splits s at commas outside brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// args reads an item's arguments by position or keyword.
type args struct {
	it      item
	used    map[string]bool
	usedPos int // positional arguments read
	err     error
}

func (a *args) get(pos int, key string) (string, bool) {
	a.used[key] = true
	if v, ok := a.it.kw[key]; ok {
		return v, true
	}
	if pos >= 0 && pos < len(a.it.pos) {
		a.usedPos = max(a.usedPos, pos+1)
		return a.it.pos[pos], true
	}
	return "", false
}

func (a *args) fail(format string, v ...any) {
	if a.err == nil {
		a.err = fmt.Errorf(format, v...)
	}
}

func numbers(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if (strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]")) || (strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")")) {
		s = s[1 : len(s)-1]
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func (a *args) floats(pos int, key string, n ...int) []float64 {
	v, ok := a.get(pos, key)
	if !ok {
		return nil
	}
	f, err := numbers(v)
	if err != nil {
		a.fail("%s: %v", key, err)
		return nil
	}
	for _, k := range n {
		if len(f) == k {
			return f
		}
	}
	a.fail("%s: %d values, want %v", key, len(f), n)
	return nil
}

// maxSide bounds a size stated in a transform.
const maxSide = 8192

func toInt(v float64, what string, lo, hi int) (int, error) {
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		return 0, fmt.Errorf("%s %v: want a whole number in [%d, %d]", what, v, lo, hi)
	}
	return int(v), nil
}

// size reads (h, w) from size=[h,w], size=s or two positional numbers.
func (a *args) size(square bool) (h, w int) {
	v, ok := a.get(0, "size")
	if !ok {
		a.fail("needs a size")
		return 0, 0
	}
	f, err := numbers(v)
	if err == nil && len(f) == 1 && len(a.it.pos) >= 2 && a.it.kw["size"] == "" {
		if g, err2 := numbers(a.it.pos[1]); err2 == nil && len(g) == 1 && !strings.ContainsAny(a.it.pos[1], "[(") {
			f = append(f, g[0])
			a.it.pos = append(a.it.pos[:1], a.it.pos[2:]...)
		}
	}
	if err != nil || len(f) < 1 || len(f) > 2 {
		a.fail("size %q: want one or two numbers", v)
		return 0, 0
	}
	hh, err := toInt(f[0], "size", 1, maxSide)
	if err != nil {
		a.fail("%v", err)
		return 0, 0
	}
	if len(f) == 1 {
		if square {
			return hh, hh
		}
		return hh, 0
	}
	ww, err := toInt(f[1], "size", 1, maxSide)
	if err != nil {
		a.fail("%v", err)
	}
	return hh, ww
}

func buildOp(it item) (Op, *Normalize, error) {
	a := &args{it: it, used: map[string]bool{}}
	var op Op
	var norm *Normalize
	switch it.name {
	case "resize":
		h, w := a.size(false)
		if v, ok := a.get(-1, "interpolation"); ok && !strings.EqualFold(strings.TrimPrefix(strings.ToLower(v), "interpolationmode."), "bilinear") {
			a.fail("interpolation %s: only bilinear", v)
		}
		a.get(-1, "antialias")
		op = &Resize{H: h, W: w}
	case "centercrop":
		h, w := a.size(true)
		op = &CenterCrop{H: h, W: w}
	case "randomresizedcrop":
		h, w := a.size(true)
		r := NewRandomResizedCrop(h, w)
		if s := a.floats(1, "scale", 2); s != nil {
			if !(0 < s[0] && s[0] <= s[1] && s[1] <= 1) {
				a.fail("scale %v: want 0 < lo ≤ hi ≤ 1", s)
			}
			r.Scale = [2]float64{s[0], s[1]}
		}
		if s := a.floats(2, "ratio", 2); s != nil {
			if !(0 < s[0] && s[0] <= s[1]) {
				a.fail("ratio %v: want 0 < lo ≤ hi", s)
			}
			r.Ratio = [2]float64{s[0], s[1]}
		}
		op = r
	case "randomcrop":
		h, w := a.size(true)
		r := &RandomCrop{H: h, W: w}
		if p := a.floats(1, "padding", 1, 2, 4); p != nil {
			var q [4]int
			for i := range q {
				v := p[0]
				switch len(p) {
				case 2:
					v = p[i%2]
				case 4:
					v = p[i]
				}
				n, err := toInt(v, "padding", 0, maxSide)
				if err != nil {
					a.fail("%v", err)
				}
				q[i] = n
			}
			r.Padding = q
		}
		if f := a.floats(-1, "fill", 1); f != nil {
			n, err := toInt(f[0], "fill", 0, 255)
			if err != nil {
				a.fail("%v", err)
			}
			r.Fill = uint8(n)
		}
		if v, ok := a.get(-1, "padding_mode"); ok && v != "constant" && v != "'constant'" {
			a.fail("padding_mode %s: only constant", v)
		}
		op = r
	case "randomhorizontalflip", "hflip", "flip":
		p := 0.5
		if f := a.floats(0, "p", 1); f != nil {
			p = f[0]
			if p < 0 || p > 1 {
				a.fail("p %v: want [0, 1]", p)
			}
		}
		op = &RandomHorizontalFlip{P: p}
	case "grayscale":
		c := 1
		if f := a.floats(0, "num_output_channels", 1); f != nil {
			n, err := toInt(f[0], "num_output_channels", 1, 3)
			if err != nil || n == 2 {
				a.fail("num_output_channels %v: want 1 or 3", f[0])
			}
			c = n
		}
		op = &Grayscale{C: c}
	case "totensor":
	case "normalize":
		n := Normalize{}
		if v, ok := a.get(0, "mean"); ok && len(it.kw) == 0 && len(it.pos) == 1 {
			p, ok := normalizePresets[strings.ToLower(strings.Trim(v, `'"`))]
			if !ok {
				a.fail("preset %q: want mnist, imagenet, cifar10 or half, or mean=[..], std=[..]", v)
			}
			n = p
		} else {
			for _, f := range a.floats(0, "mean", 1, 2, 3, 4) {
				n.Mean = append(n.Mean, float32(f))
			}
			for _, f := range a.floats(1, "std", 1, 2, 3, 4) {
				if f == 0 {
					a.fail("std 0")
				}
				n.Std = append(n.Std, float32(f))
			}
			if n.Mean == nil || n.Std == nil {
				a.fail("needs mean and std (or a preset name)")
			}
		}
		norm = &n
	default:
		return nil, nil, fmt.Errorf("unknown transform %q: want Resize, CenterCrop, RandomResizedCrop, RandomCrop, RandomHorizontalFlip, Grayscale, ToTensor or Normalize", it.name)
	}
	for k := range it.kw {
		if !a.used[k] {
			a.fail("unknown argument %s", k)
		}
	}
	if len(a.it.pos) > a.usedPos {
		a.fail("%d arguments, more than %s takes", len(it.pos), it.name)
	}
	return op, norm, a.err
}
