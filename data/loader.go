package data

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/onnxprune/onnxprune/tensor"
)

// LoaderOptions configure a Loader, as torch.utils.data.DataLoader's
// arguments do.
type LoaderOptions struct {
	// BatchSize is the number of samples per batch (0: 1).
	BatchSize int
	// Shuffle draws a new order every epoch from (Seed, epoch).
	Shuffle bool
	// Seed seeds the shuffle and the transforms' random draws.
	Seed uint64
	// DropLast drops the last batch when it is not full.
	DropLast bool
	// PadLast gives the last batch BatchSize rows, the missing ones zero
	// (Labels and Index list only the real samples): what a model
	// compiled for a fixed batch needs.
	PadLast bool
	// Workers is the number of goroutines that read and transform batches
	// ahead of the consumer (0: the consumer's goroutine does it).
	Workers int
	// Prefetch is the number of batches in flight at most, each in its own
	// memory (0: 2 per worker). Memory stays within Prefetch+1 batches.
	Prefetch int
	// Transform is applied to every sample (nil: none, bytes scaled to
	// [0, 1]).
	Transform *Transform
	// NHWC lays batches out N×H×W×C instead of N×C×H×W.
	NHWC bool
	// SkipBad drops samples whose file cannot be read (counted in
	// Skipped) instead of stopping the epoch with the error.
	SkipBad bool
}

// Loader batches a Source. Create it with NewLoader; an epoch is an
// iterator over batches.
type Loader struct {
	src    Source
	opts   LoaderOptions
	shape  Shape // a transformed sample
	tables [][256]float32

	mu      sync.Mutex
	skipped []error
	nSkip   atomic.Int64

	// spare holds the batch memory between epochs; an epoch takes it all
	// (one running at the same time as another allocates its own).
	spareMu sync.Mutex
	spare   []*Batch
}

// takeBatches returns n batch buffers, reusing the last epoch's.
func (l *Loader) takeBatches(n int) []*Batch {
	l.spareMu.Lock()
	bs := l.spare
	l.spare = nil
	l.spareMu.Unlock()
	for len(bs) < n {
		bs = append(bs, l.newBatch())
	}
	return bs
}

func (l *Loader) giveBatches(bs []*Batch) {
	l.spareMu.Lock()
	l.spare = bs
	l.spareMu.Unlock()
}

// NewLoader checks the options against src and returns a Loader.
func NewLoader(src Source, opts LoaderOptions) (*Loader, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1
	}
	if opts.Workers < 0 || opts.Prefetch < 0 {
		return nil, fmt.Errorf("data: %d workers, %d prefetch", opts.Workers, opts.Prefetch)
	}
	if opts.Prefetch == 0 {
		opts.Prefetch = 2 * opts.Workers
	}
	opts.Prefetch = max(opts.Prefetch, opts.Workers)
	in := src.Shape()
	out := opts.Transform.OutShape(in)
	if out.C <= 0 || out.H <= 0 || out.W <= 0 {
		return nil, fmt.Errorf("data: %s: samples of %v become %v after %s", src.Name(), in, out, opts.Transform)
	}
	if err := opts.Transform.Check(in); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, src.Name())
	}
	out.Varies = false
	return &Loader{src: src, opts: opts, shape: out, tables: opts.Transform.Tables(out.C)}, nil
}

// Source is the loader's source.
func (l *Loader) Source() Source { return l.src }

// SampleShape is the shape of a transformed sample.
func (l *Loader) SampleShape() Shape { return l.shape }

// BatchSize is the number of samples of a full batch.
func (l *Loader) BatchSize() int { return l.opts.BatchSize }

// Len is the number of batches per epoch.
func (l *Loader) Len() int {
	n, b := l.src.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Skipped is the number of samples dropped by SkipBad so far, and the
// errors of the first few.
func (l *Loader) Skipped() (int, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.nSkip.Load()), append([]error(nil), l.skipped...)
}

// Order is the sample order of an epoch: 0..Len−1, or a permutation drawn
// from (Seed, epoch) when shuffling (the same for the same seed and epoch).
func (l *Loader) Order(epoch int) []int {
	n := l.src.Len()
	if !l.opts.Shuffle {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		return o
	}
	return rand.New(rand.NewPCG(l.opts.Seed, 0x5348554646<<8^uint64(epoch))).Perm(n)
}

// worker is one goroutine's reusable state.
type worker struct {
	img     Image
	scratch Scratch
	pcg     rand.PCG
	rng     *rand.Rand
}

func newWorker() *worker {
	w := &worker{}
	w.rng = rand.New(&w.pcg)
	return w
}

// fill reads and transforms the samples idx into b.
func (l *Loader) fill(w *worker, b *Batch, idx []int, epoch int) error {
	size := l.shape.Size()
	b.Labels, b.Index = b.Labels[:0], b.Index[:0]
	x := b.X.F32()
	rows := 0
	for _, i := range idx {
		label, err := l.src.Read(i, &w.img)
		if err == nil {
			if label < 0 || label >= len(l.src.Classes()) {
				err = fmt.Errorf("data: %s: label %d of sample %d is not below %d", l.where(i), label, i, len(l.src.Classes()))
			}
		}
		if err == nil {
			w.pcg.Seed(l.opts.Seed^0x7472616e73666f72, uint64(epoch)<<40^uint64(i))
			err = l.opts.Transform.Apply(x[rows*size:(rows+1)*size], &w.img, &w.scratch, w.rng, l.opts.NHWC, l.tables)
			if err != nil {
				err = fmt.Errorf("%s: %w", l.where(i), err)
			}
		}
		if err != nil {
			if !l.opts.SkipBad {
				return err
			}
			l.mu.Lock()
			if len(l.skipped) < 20 {
				l.skipped = append(l.skipped, err)
			}
			l.nSkip.Add(1)
			l.mu.Unlock()
			continue
		}
		b.Labels = append(b.Labels, int64(label))
		b.Index = append(b.Index, i)
		rows++
	}
	n := rows
	if l.opts.PadLast {
		rows = l.opts.BatchSize
		clear(x[n*size : rows*size])
	}
	b.X.Shape = l.batchShape(rows)
	b.X.Data = x[:rows*size]
	return nil
}

func (l *Loader) where(i int) string {
	if loc, ok := l.src.(Locator); ok {
		if p := loc.Path(i); p != "" {
			return p
		}
	}
	return fmt.Sprintf("%s sample %d", l.src.Name(), i)
}

func (l *Loader) batchShape(rows int) []int {
	s := l.shape
	if l.opts.NHWC {
		return []int{rows, s.H, s.W, s.C}
	}
	return []int{rows, s.C, s.H, s.W}
}

func (l *Loader) newBatch() *Batch {
	n := l.opts.BatchSize
	return &Batch{
		X:      &tensor.Tensor{DType: tensor.Float32, Shape: l.batchShape(n), Data: make([]float32, n*l.shape.Size())},
		Labels: make([]int64, 0, n),
		Index:  make([]int, 0, n),
	}
}

// errStop ends the workers of an epoch whose consumer stopped.
var errStop = errors.New("data: epoch stopped")

// Epoch iterates over the batches of one epoch. A Batch (its tensor,
// labels and indices) is valid until the loop asks for the next one.
// Breaking out of the loop stops the workers before Epoch returns. An
// error (a sample that cannot be read, without SkipBad) is yielded once,
// with a nil batch, and ends the epoch.
func (l *Loader) Epoch(epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		order := l.Order(epoch)
		nb, bs := l.Len(), l.opts.BatchSize
		part := func(k int) []int { return order[k*bs : min((k+1)*bs, len(order))] }
		if l.opts.Workers == 0 {
			bufs := l.takeBatches(1)
			defer l.giveBatches(bufs)
			w, b := newWorker(), bufs[0]
			for k := range nb {
				if err := l.fill(w, b, part(k), epoch); err != nil {
					yield(nil, err)
					return
				}
				if !yield(b, nil) {
					return
				}
			}
			return
		}
		depth := l.opts.Prefetch
		type job struct {
			k int
			b *Batch
		}
		type result struct {
			b   *Batch
			err error
		}
		free := make(chan *Batch, depth)
		bufs := l.takeBatches(depth)
		defer l.giveBatches(bufs)
		for _, b := range bufs[:depth] {
			free <- b
		}
		jobs := make(chan job)
		slots := make([]chan result, depth)
		for i := range slots {
			slots[i] = make(chan result, 1)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // hands out batch numbers as memory frees up
			defer wg.Done()
			defer close(jobs)
			for k := range nb {
				var b *Batch
				select {
				case b = <-free:
				case <-stop:
					return
				}
				select {
				case jobs <- job{k, b}:
				case <-stop:
					return
				}
			}
		}()
		for range l.opts.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := newWorker()
				for j := range jobs {
					err := l.fill(w, j.b, part(j.k), epoch)
					// At most depth jobs are out, each in its own slot.
					slots[j.k%depth] <- result{j.b, err}
				}
			}()
		}
		defer func() {
			// Workers never block on a slot: job k+depth needs the memory
			// of job k, freed only after its slot was read.
			close(stop)
			wg.Wait()
		}()
		for k := range nb {
			r := <-slots[k%depth]
			if r.err != nil {
				yield(nil, r.err)
				return
			}
			if !yield(r.b, nil) {
				return
			}
			free <- r.b
		}
	}
}
