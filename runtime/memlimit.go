package runtime

import (
	"errors"
	"fmt"
)

// ErrMemory is wrapped by the error of a model whose activations and
// computed constants would not fit in the memory the engine may use.
var ErrMemory = errors.New("not enough memory")

// DefaultMaxMemory is what the Go engine allows one program to allocate for
// its activations (the liveness peak) and the constants it computes at
// compile time: 80% of the machine's physical memory, or 0 (no limit) where
// that is unknown.
func DefaultMaxMemory() int64 { return physicalMemory() / 10 * 8 }

// CheckMemory returns an error wrapping ErrMemory, naming the largest
// activation, when the activations plus the computed constants exceed limit
// bytes (a limit of 0 or less means none). The activations count at their
// liveness peak, or all together when keepAll (Options.KeepActivations). It
// runs before anything is allocated.
func (lv *Liveness) CheckMemory(limit int64, keepAll bool) error {
	need := lv.Peak
	if keepAll {
		need = 0
		for _, l := range lv.Values {
			need += l.Bytes
		}
	}
	if limit <= 0 || need+lv.ConstBytes <= limit {
		return nil
	}
	var big Lifetime
	for _, l := range lv.Values {
		if l.Bytes > big.Bytes {
			big = l
		}
	}
	return fmt.Errorf("runtime: %w: activations need %d bytes (the largest, %q, %d bytes) and computed constants %d bytes, more than the limit of %d bytes",
		ErrMemory, need, big.Name, big.Bytes, lv.ConstBytes, limit)
}
