package evaluate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CIFAR-10 binary format: each record is 1 label byte then 3072 pixel bytes
// (1024 red, 1024 green, 1024 blue, each 32×32 row-major).
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarPixels
)

// CIFAR10Classes are the class names, in label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// LoadCIFAR10 reads the "train" split (data_batch_1.bin .. data_batch_5.bin)
// or the "test" split (test_batch.bin) of the CIFAR-10 binary version from
// dir, or from dir/cifar-10-batches-bin where the archive was unpacked.
// A zero norm means CIFAR10Normalize.
func LoadCIFAR10(dir, split string, norm Normalize) (*Dataset, error) {
	var files []string
	switch split {
	case "train":
		for i := 1; i <= 5; i++ {
			files = append(files, fmt.Sprintf("data_batch_%d.bin", i))
		}
	case "test":
		files = []string{"test_batch.bin"}
	default:
		return nil, fmt.Errorf("evaluate: unknown CIFAR-10 split %q: want train or test", split)
	}
	if _, err := os.Stat(filepath.Join(dir, files[0])); err != nil {
		if sub := filepath.Join(dir, "cifar-10-batches-bin"); fileExists(filepath.Join(sub, files[0])) {
			dir = sub
		}
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f)
	}
	if norm.Mean == nil && norm.Std == nil {
		norm = CIFAR10Normalize
	}
	return LoadCIFAR10Files(paths, "cifar10-"+split, norm)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// LoadCIFAR10Files reads CIFAR-10 binary batch files, in order, into one
// Dataset. Each file's size must be a whole number of 3073-byte records.
func LoadCIFAR10Files(paths []string, name string, norm Normalize) (*Dataset, error) {
	var sizes []int64
	total := int64(0)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("evaluate: %s: not a regular file", p)
		}
		if st.Size() == 0 || st.Size()%cifarRecord != 0 {
			return nil, formatErr(p, "%d bytes is not a whole number of %d-byte CIFAR-10 records", st.Size(), cifarRecord)
		}
		sizes = append(sizes, st.Size())
		total += st.Size() / cifarRecord
	}
	pixels := make([]uint8, 0, total*cifarPixels)
	labels := make([]uint8, 0, total)
	rec := make([]byte, cifarRecord)
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		r := io.LimitReader(f, sizes[i])
		for k := int64(0); k < sizes[i]/cifarRecord; k++ {
			if _, err := io.ReadFull(r, rec); err != nil {
				f.Close()
				return nil, formatErr(p, "record %d: %v", k, readErr(err))
			}
			if rec[0] > 9 {
				f.Close()
				return nil, formatErr(p, "record %d: label %d is not below 10", k, rec[0])
			}
			labels = append(labels, rec[0])
			pixels = append(pixels, rec[1:]...)
		}
		f.Close()
	}
	return NewDataset(name, 3, cifarSide, cifarSide, 10, pixels, labels, norm)
}
