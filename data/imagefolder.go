package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // GIF, PNG and JPEG through the standard library
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	_ "golang.org/x/image/bmp" // BMP, TIFF and WebP through x/image
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

func init() { RegisterFormat("imagefolder", openImageFolder) }

// ImageExtensions are the file extensions an ImageFolder takes (compared
// in lower case): torchvision's IMG_EXTENSIONS that Go decodes, and GIF.
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// maxImagePixels bounds an image's declared size (a decompression bomb is
// refused from its header).
const maxImagePixels = 1 << 28

// maxImageFile bounds an image file's size.
const maxImageFile = 1 << 30

// openImageFolder reads DIR/<split> where that folder exists, else DIR.
func openImageFolder(spec Spec) (Source, error) {
	root := spec.Dir
	if st, err := os.Stat(filepath.Join(root, spec.Split)); err == nil && st.IsDir() {
		root = filepath.Join(root, spec.Split)
	}
	return OpenImageFolder(root, spec.Channels)
}

// ImageFolder is torchvision's ImageFolder: the classes are the sorted
// names of root's sub-folders, the samples every file under each (by
// sorted walk) whose extension is an ImageExtensions one. Images are
// decoded on demand and converted to RGB (channels 3) or grey (1), as PIL's
// convert does.
type ImageFolder struct {
	root     string
	channels int
	classes  []string
	files    []string
	labels   []int32
	first    Shape
}

// OpenImageFolder lists root; channels is 1 or 3 (0 means 3).
func OpenImageFolder(root string, channels int) (*ImageFolder, error) {
	if channels == 0 {
		channels = 3
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	f := &ImageFolder{root: root, channels: channels}
	for _, e := range entries {
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && isDir(filepath.Join(root, e.Name()))) {
			f.classes = append(f.classes, e.Name())
		}
	}
	sort.Strings(f.classes)
	if len(f.classes) == 0 {
		return nil, fmt.Errorf("data: %s: no class folders (an ImageFolder is ROOT/<class>/<image>)", root)
	}
	for label, class := range f.classes {
		files, err := imageFiles(filepath.Join(root, class))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("data: %s: class folder %q has no image files (%s)", root, class, strings.Join(ImageExtensions, " "))
		}
		for _, p := range files {
			f.files = append(f.files, p)
			f.labels = append(f.labels, int32(label))
		}
	}
	cfg, err := decodeConfig(f.files[0])
	if err != nil {
		return nil, err
	}
	f.first = Shape{C: channels, H: cfg.Height, W: cfg.Width, Varies: true}
	return f, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// imageFiles is Python's sorted(os.walk(dir)) with sorted file names,
// filtered by extension.
func imageFiles(dir string) ([]string, error) {
	byDir := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		if d.IsDir() {
			return nil
		}
		if slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(p))) {
			byDir[filepath.Dir(p)] = append(byDir[filepath.Dir(p)], d.Name())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []string
	for _, d := range dirs {
		names := byDir[d]
		sort.Strings(names)
		for _, n := range names {
			out = append(out, filepath.Join(d, n))
		}
	}
	return out, nil
}

func decodeConfig(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return cfg, formatErr(path, "%v", err)
	}
	return cfg, nil
}

func (f *ImageFolder) Name() string      { return "imagefolder:" + f.root }
func (f *ImageFolder) Len() int          { return len(f.files) }
func (f *ImageFolder) Shape() Shape      { return f.first }
func (f *ImageFolder) Classes() []string { return f.classes }
func (f *ImageFolder) Path(i int) string { return f.files[i] }

// Label is sample i's class index.
func (f *ImageFolder) Label(i int) int { return int(f.labels[i]) }

func (f *ImageFolder) Read(i int, img *Image) (int, error) {
	if i < 0 || i >= len(f.files) {
		return 0, fmt.Errorf("data: %s: sample %d of %d", f.root, i, len(f.files))
	}
	if err := DecodeImageFile(f.files[i], f.channels, img); err != nil {
		return 0, err
	}
	return int(f.labels[i]), nil
}

// DecodeImageFile decodes an image file into img as channels (1 or 3)
// planes of bytes. Its declared size is checked before decoding.
func DecodeImageFile(path string, channels int, img *Image) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if st.Size() > maxImageFile {
		return formatErr(path, "%d bytes is too large for an image", st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := DecodeImage(b, channels, img); err != nil {
		return formatErr(path, "%v", err)
	}
	return nil
}

// DecodeImage decodes an encoded image (PNG, JPEG, GIF, BMP, TIFF, WebP)
// into img as channels (1 or 3) planes of bytes: RGB, or grey as PIL's
// convert("L") computes it.
func DecodeImage(b []byte, channels int, img *Image) error {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return fmt.Errorf("image of %dx%d pixels is empty or too large", cfg.Width, cfg.Height)
	}
	m, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return err
	}
	toPlanes(m, channels, img)
	return nil
}

// toPlanes converts m to planar bytes in img.
func toPlanes(m image.Image, channels int, img *Image) {
	r := m.Bounds()
	w, h := r.Dx(), r.Dy()
	hw := w * h
	img.C, img.H, img.W, img.F32 = channels, h, w, nil
	if cap(img.U8) < channels*hw {
		img.U8 = make([]uint8, channels*hw)
	}
	img.U8 = img.U8[:channels*hw]
	out := img.U8
	if g, ok := m.(*image.Gray); ok {
		for y := range h {
			copy(out[y*w:(y+1)*w], g.Pix[g.PixOffset(r.Min.X, r.Min.Y+y):])
		}
		for c := 1; c < channels; c++ {
			copy(out[c*hw:(c+1)*hw], out[:hw])
		}
		return
	}
	var R, G, B []uint8
	if channels == 3 {
		R, G, B = out[:hw], out[hw:2*hw], out[2*hw:]
	} else {
		// Grey from RGB: compute RGB in scratch rows, then L.
		R, G, B = make([]uint8, w), make([]uint8, w), make([]uint8, w)
	}
	row := func(y int) (rr, gg, bb []uint8) {
		if channels == 3 {
			return R[y*w : (y+1)*w], G[y*w : (y+1)*w], B[y*w : (y+1)*w]
		}
		return R, G, B
	}
	if yc, ok := m.(*image.YCbCr); ok && yc.SubsampleRatio == image.YCbCrSubsampleRatio420 && yc.Rect.Min == (image.Point{}) && w >= 2 && h >= 2 {
		ycbcr420ToPlanes(yc, channels, out)
		return
	}
	if yc, ok := m.(*image.YCbCr); ok && (yc.SubsampleRatio == image.YCbCrSubsampleRatio420 || yc.SubsampleRatio == image.YCbCrSubsampleRatio444) {
		// The JPEG decoder's usual outputs, row by row without the
		// per-pixel offset calls.
		sub := 0
		if yc.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			sub = 1
		}
		for y := range h {
			rr, gg, bb := row(y)
			sy := r.Min.Y + y
			yrow := yc.Y[(sy-yc.Rect.Min.Y)*yc.YStride+(r.Min.X-yc.Rect.Min.X):]
			cOff := ((sy >> sub) - (yc.Rect.Min.Y >> sub)) * yc.CStride
			cb, cr := yc.Cb[cOff:], yc.Cr[cOff:]
			cx0 := yc.Rect.Min.X >> sub
			rr, gg, bb = rr[:w], gg[:w], bb[:w]
			yrow = yrow[:w]
			for x, yv := range yrow {
				// image/color's YCbCrToRGB (JFIF), inlined.
				cx := (r.Min.X+x)>>sub - cx0
				yy1 := int32(yv) * 0x10101
				cb1 := int32(cb[cx]) - 128
				cr1 := int32(cr[cx]) - 128
				rr[x] = fix16(yy1 + 91881*cr1)
				gg[x] = fix16(yy1 - 22554*cb1 - 46802*cr1)
				bb[x] = fix16(yy1 + 116130*cb1)
			}
			if channels == 1 {
				rgbToL(out[y*w:(y+1)*w], rr, gg, bb)
			}
		}
		return
	}
	for y := range h {
		rr, gg, bb := row(y)
		switch m := m.(type) {
		case *image.YCbCr:
			for x := range w {
				yi := m.YOffset(r.Min.X+x, r.Min.Y+y)
				ci := m.COffset(r.Min.X+x, r.Min.Y+y)
				rr[x], gg[x], bb[x] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		case *image.NRGBA:
			p := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range w {
				rr[x], gg[x], bb[x] = p[4*x], p[4*x+1], p[4*x+2]
			}
		case *image.RGBA:
			// Premultiplied: un-premultiply to PIL's straight RGB.
			for x := range w {
				c := color.NRGBAModel.Convert(m.RGBAAt(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
				rr[x], gg[x], bb[x] = c.R, c.G, c.B
			}
		case *image.Paletted:
			for x := range w {
				c := color.NRGBAModel.Convert(m.Palette[m.ColorIndexAt(r.Min.X+x, r.Min.Y+y)]).(color.NRGBA)
				rr[x], gg[x], bb[x] = c.R, c.G, c.B
			}
		default:
			for x := range w {
				c := color.NRGBAModel.Convert(m.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
				rr[x], gg[x], bb[x] = c.R, c.G, c.B
			}
		}
		if channels == 1 {
			rgbToL(out[y*w:(y+1)*w], rr, gg, bb)
		}
	}
}

// fix16 is the clamp of image/color's YCbCrToRGB: a 16.16 fixed-point
// value to a byte.
func fix16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// libjpeg's YCbCr to RGB tables (jdcolor.c, build_ycc_rgb_table), which
// PIL's decoder (libjpeg-turbo) uses.
var crR, cbB, crG, cbG [256]int32

func init() {
	const half = 1 << 15
	fix := func(x float64) int32 { return int32(x*(1<<16) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + half) >> 16
		cbB[i] = (fix(1.77200)*x + half) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + half
	}
}

func clamp255(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ycbcr420ToPlanes converts a 4:2:0 image as libjpeg-turbo does by
// default, and so as PIL gets it: chroma enlarged by the triangle
// ("fancy") filter of jdsample.c's h2v2_fancy_upsample, then jdcolor.c's
// fixed-point conversion. Go's own YCbCr conversion repeats each chroma
// sample over 2×2 pixels, which differs from PIL's by several levels at
// colour edges.
func ycbcr420ToPlanes(m *image.YCbCr, channels int, out []uint8) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	hw := w * h
	up := make([]uint8, 2*w) // one full-width row of Cb, one of Cr
	sums := make([]int32, cw)
	var lineR, lineG, lineB []uint8
	if channels == 1 {
		lineR, lineG, lineB = make([]uint8, w), make([]uint8, w), make([]uint8, w)
	}
	for y := range h {
		// The chroma row of y, and its vertical neighbour on the side of y.
		cy := y / 2
		ny := cy - 1
		if y%2 == 1 {
			ny = cy + 1
		}
		ny = min(max(ny, 0), ch-1)
		for k, plane := range [2][]uint8{m.Cb, m.Cr} {
			r0 := plane[cy*m.CStride : cy*m.CStride+cw]
			r1 := plane[ny*m.CStride : ny*m.CStride+cw]
			r1 = r1[:len(r0)]
			// Column sums 3·near + far, then the horizontal triangle.
			cs := sums[:len(r0)]
			for i, v := range r0 {
				cs[i] = 3*int32(v) + int32(r1[i])
			}
			dst := up[k*w : (k+1)*w]
			upsampleRow(dst, cs)
		}
		yrow := m.Y[y*m.YStride : y*m.YStride+w]
		cb, cr := up[:w], up[w:2*w]
		rr, gg, bb := lineR, lineG, lineB
		if channels == 3 {
			rr, gg, bb = out[y*w:(y+1)*w], out[hw+y*w:hw+(y+1)*w], out[2*hw+y*w:2*hw+(y+1)*w]
		}
		for x, yv := range yrow {
			yi := int32(yv)
			rr[x] = clamp255(yi + crR[cr[x]])
			gg[x] = clamp255(yi + (cbG[cb[x]]+crG[cr[x]])>>16)
			bb[x] = clamp255(yi + cbB[cb[x]])
		}
		if channels == 1 {
			rgbToL(out[y*w:(y+1)*w], rr, gg, bb)
		}
	}
}

// upsampleRow is the horizontal half of h2v2_fancy_upsample: column sums
// cs (3·near + far rows) to len(dst) outputs, two per sum.
func upsampleRow(dst []uint8, cs []int32) {
	w, cw := len(dst), len(cs)
	if cw == 1 {
		dst[0] = uint8((cs[0]*4 + 8) >> 4)
		if w > 1 {
			dst[1] = uint8((cs[0]*4 + 7) >> 4)
		}
		return
	}
	dst[0] = uint8((cs[0]*4 + 8) >> 4)
	dst[1] = uint8((cs[0]*3 + cs[1] + 7) >> 4)
	for i := 1; i < cw-1; i++ {
		this := cs[i] * 3
		dst[2*i] = uint8((this + cs[i-1] + 8) >> 4)
		dst[2*i+1] = uint8((this + cs[i+1] + 7) >> 4)
	}
	i := cw - 1
	dst[2*i] = uint8((cs[i]*3 + cs[i-1] + 8) >> 4)
	if 2*i+1 < w {
		dst[2*i+1] = uint8((cs[i]*4 + 7) >> 4)
	}
}
