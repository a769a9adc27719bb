package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CIFAR binary formats (https://www.cs.toronto.edu/~kriz/cifar.html): each
// CIFAR-10 record is 1 label byte then 3072 pixel bytes (1024 red, 1024
// green, 1024 blue, each 32×32 row-major); a CIFAR-100 record has 2 label
// bytes, the coarse (superclass, 0..19) then the fine (0..99) label.
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
)

// CIFAR10Classes are CIFAR-10's class names, in label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// CIFAR100Classes are CIFAR-100's fine class names, in label order (those
// of its meta file, fine_label_names.txt).
var CIFAR100Classes = []string{
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
	"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
	"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
	"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
	"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
	"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
	"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
	"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}

func init() {
	RegisterFormat("cifar10", func(s Spec) (Source, error) { return LoadCIFAR10(s.Dir, s.Split) })
	RegisterFormat("cifar100", func(s Spec) (Source, error) { return LoadCIFAR100(s.Dir, s.Split) })
}

// LoadCIFAR10 reads the "train" split (data_batch_1.bin .. data_batch_5.bin)
// or the "test" split (test_batch.bin) of the CIFAR-10 binary version from
// dir, or from dir/cifar-10-batches-bin where the archive was unpacked.
func LoadCIFAR10(dir, split string) (*Bytes, error) {
	var files []string
	switch split {
	case "train":
		for i := 1; i <= 5; i++ {
			files = append(files, fmt.Sprintf("data_batch_%d.bin", i))
		}
	case "test":
		files = []string{"test_batch.bin"}
	default:
		return nil, fmt.Errorf("data: CIFAR-10 has no split %q (train or test; --val-fraction carves val from train): %w", split, ErrNoSplit)
	}
	paths, err := cifarPaths(dir, "cifar-10-batches-bin", files)
	if err != nil {
		return nil, err
	}
	return LoadCIFARFiles(paths, "cifar10-"+split, CIFAR10Classes, 1)
}

// LoadCIFAR100 reads the "train" (train.bin) or "test" (test.bin) split of
// the CIFAR-100 binary version from dir, or dir/cifar-100-binary; labels
// are the fine ones.
func LoadCIFAR100(dir, split string) (*Bytes, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("data: CIFAR-100 has no split %q (train or test; --val-fraction carves val from train): %w", split, ErrNoSplit)
	}
	paths, err := cifarPaths(dir, "cifar-100-binary", []string{split + ".bin"})
	if err != nil {
		return nil, err
	}
	return LoadCIFARFiles(paths, "cifar100-"+split, CIFAR100Classes, 2)
}

func cifarPaths(dir, sub string, files []string) ([]string, error) {
	if dir == "" {
		return nil, errors.New("data: CIFAR needs the folder of its binary version (--data DIR)")
	}
	if !fileExists(filepath.Join(dir, files[0])) && fileExists(filepath.Join(dir, sub, files[0])) {
		dir = filepath.Join(dir, sub)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f)
	}
	return paths, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// LoadCIFARFiles reads CIFAR binary batch files, in order, into one
// source. Each record has labelBytes label bytes (1 for CIFAR-10, 2 for
// CIFAR-100, whose last is the fine label) then 3072 pixels; each file's
// size must be a whole number of records, every label below len(classes).
func LoadCIFARFiles(paths []string, name string, classes []string, labelBytes int) (*Bytes, error) {
	record := int64(labelBytes + cifarPixels)
	var sizes []int64
	total := int64(0)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("data: %s: not a regular file", p)
		}
		if st.Size() == 0 || st.Size()%record != 0 {
			return nil, formatErr(p, "%d bytes is not a whole number of %d-byte %s records", st.Size(), record, name)
		}
		sizes = append(sizes, st.Size())
		total += st.Size() / record
	}
	pixels := make([]uint8, 0, total*cifarPixels)
	labels := make([]int32, 0, total)
	rec := make([]byte, record)
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		r := io.LimitReader(f, sizes[i])
		for k := int64(0); k < sizes[i]/record; k++ {
			if _, err := io.ReadFull(r, rec); err != nil {
				f.Close()
				return nil, formatErr(p, "record %d: %v", k, readErr(err))
			}
			l := rec[labelBytes-1]
			if int(l) >= len(classes) {
				f.Close()
				return nil, formatErr(p, "record %d: label %d is not below %d", k, l, len(classes))
			}
			labels = append(labels, int32(l))
			pixels = append(pixels, rec[labelBytes:]...)
		}
		f.Close()
	}
	return NewBytes(name, Shape{C: 3, H: cifarSide, W: cifarSide}, classes, pixels, labels)
}
