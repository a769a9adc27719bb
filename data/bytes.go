package data

import "fmt"

// Bytes is a data set held in memory as bytes: N samples of one Shape in
// C×H×W order, one label each (MNIST and CIFAR are read into it).
type Bytes struct {
	name    string
	shape   Shape
	classes []string
	pixels  []uint8
	labels  []int32
}

// NewBytes checks the parts and returns a Bytes source; pixels holds
// len(labels) samples of shape, every label is below len(classes).
func NewBytes(name string, shape Shape, classes []string, pixels []uint8, labels []int32) (*Bytes, error) {
	if shape.C <= 0 || shape.H <= 0 || shape.W <= 0 || len(classes) == 0 {
		return nil, fmt.Errorf("data: %s: bad shape %v or no classes", name, shape)
	}
	if len(pixels) != len(labels)*shape.Size() {
		return nil, fmt.Errorf("data: %s: %d pixel bytes for %d images of %v", name, len(pixels), len(labels), shape)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= len(classes) {
			return nil, fmt.Errorf("data: %s: label %d of image %d is not below %d", name, l, i, len(classes))
		}
	}
	shape.Varies = false
	return &Bytes{name: name, shape: shape, classes: classes, pixels: pixels, labels: labels}, nil
}

func (b *Bytes) Name() string      { return b.name }
func (b *Bytes) Len() int          { return len(b.labels) }
func (b *Bytes) Shape() Shape      { return b.shape }
func (b *Bytes) Classes() []string { return b.classes }

// Pixels are sample i's bytes, C×H×W, shared with b.
func (b *Bytes) Pixels(i int) []uint8 {
	n := b.shape.Size()
	return b.pixels[i*n : (i+1)*n]
}

// Label is sample i's label.
func (b *Bytes) Label(i int) int { return int(b.labels[i]) }

func (b *Bytes) Read(i int, img *Image) (int, error) {
	if i < 0 || i >= len(b.labels) {
		return 0, fmt.Errorf("data: %s: sample %d of %d", b.name, i, len(b.labels))
	}
	img.C, img.H, img.W = b.shape.C, b.shape.H, b.shape.W
	img.F32 = nil
	img.U8 = append(img.U8[:0], b.Pixels(i)...)
	return int(b.labels[i]), nil
}
