package runtime

import "sort"

// arenaAlign is the alignment of every buffer in the float32 arena, in
// elements (64 bytes: a cache line, an AVX-512 vector).
const arenaAlign = 16

// block is a free range [off, off+size) of the arena, in elements.
type block struct{ off, size int }

// arena plans offsets in one float32 slab: best fit among the free blocks
// (coalesced), else at the top, growing the slab. It only plans; the engine
// allocates the slab once with the final size.
type arena struct {
	free []block // sorted by offset, coalesced
	top  int     // high-water extent in elements
}

func alignUp(n int) int { return (n + arenaAlign - 1) / arenaAlign * arenaAlign }

// alloc returns the offset of n elements.
func (a *arena) alloc(n int) int {
	n = alignUp(max(n, 1))
	best := -1
	for i, b := range a.free {
		if b.size >= n && (best < 0 || b.size < a.free[best].size) {
			best = i
		}
	}
	if best >= 0 {
		b := &a.free[best]
		off := b.off
		b.off += n
		b.size -= n
		if b.size == 0 {
			a.free = append(a.free[:best], a.free[best+1:]...)
		}
		return off
	}
	// Nothing fits: extend a free block that ends at the top, else start at the top.
	if k := len(a.free) - 1; k >= 0 && a.free[k].off+a.free[k].size == a.top {
		off := a.free[k].off
		a.free = a.free[:k]
		a.top = off + n
		return off
	}
	off := a.top
	a.top += n
	return off
}

// release returns [off, off+n) to the free list.
func (a *arena) release(off, n int) {
	n = alignUp(max(n, 1))
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].off > off })
	a.free = append(a.free, block{})
	copy(a.free[i+1:], a.free[i:])
	a.free[i] = block{off, n}
	// Coalesce with the next, then the previous.
	if i+1 < len(a.free) && a.free[i].off+a.free[i].size == a.free[i+1].off {
		a.free[i].size += a.free[i+1].size
		a.free = append(a.free[:i+1], a.free[i+2:]...)
	}
	if i > 0 && a.free[i-1].off+a.free[i-1].size == a.free[i].off {
		a.free[i-1].size += a.free[i].size
		a.free = append(a.free[:i], a.free[i+1:]...)
	}
}

// bufferPlan places every activation: float32 ones in the arena, others
// (small int64 shape tensors and the like) in their own buffers.
type bufferPlan struct {
	offset    []int // per value: element offset in the arena, or -1
	arenaSize int   // elements
	peak      int64 // high-water of bytes held by live activations
}

// planBuffers replays the schedule: at each step it places the values
// defined there, records the bytes held, then frees the values whose last
// use it was (unless keep is set).
//
// alias (nil for none) maps a value to an earlier float32 value of the same
// size whose buffer it shares (an activation computed in place: the engine
// aliases Y = Relu(X) to X when X has no other reader), or -1. A shared
// buffer is released when the last of its values is freed. The bytes held,
// and so the peak, are still counted per value, as if each had its own
// buffer: the peak stays the liveness peak that onnxmem reports (an upper
// bound of what the arena really holds), and the arena only gets smaller.
func planBuffers(ls []Lifetime, isF32 func(i int) bool, elems func(i int) int, steps int, keep bool, alias []int) bufferPlan {
	steps = max(steps, 1)
	defs, frees := byStep(ls, steps)
	p := bufferPlan{offset: make([]int, len(ls))}
	owner := make([]int, len(ls)) // the value whose alloc holds i's buffer
	users := make([]int, len(ls)) // per owner: values not yet freed
	var a arena
	var held int64
	for s := range steps {
		for _, i := range defs[s] {
			p.offset[i] = -1
			owner[i] = i
			if alias != nil && alias[i] >= 0 {
				o := owner[alias[i]]
				owner[i] = o
				p.offset[i] = p.offset[o]
				users[o]++
			} else if isF32(i) {
				p.offset[i] = a.alloc(elems(i))
				users[i] = 1
			}
			held += ls[i].Bytes
		}
		p.peak = max(p.peak, held)
		if keep {
			continue
		}
		for _, i := range frees[s] {
			if o := owner[i]; p.offset[o] >= 0 {
				if users[o]--; users[o] == 0 {
					a.release(p.offset[o], elems(o))
				}
			}
			held -= ls[i].Bytes
		}
	}
	p.arenaSize = a.top
	return p
}
