package memory

// Step is one node of a schedule for liveness analysis: the values it reads and
// the values it writes.
type Step struct {
	Reads, Writes []string
}

// LivenessPeak returns the largest number of bytes held at once when the steps
// run in order and every buffer is freed right after its last reader:
//
//   - live at the start: the values in start (graph inputs);
//   - at step i, its outputs are allocated while its inputs are still held, and
//     the peak is measured there; then every value whose last reader is step i
//     is freed, unless it is in keep (graph outputs stay to the end);
//   - a value no step reads is freed right after it is written (it still counts
//     toward that step's peak), unless kept;
//   - values absent from size (initializers, folded constants) take no memory.
//
// This is the high-water mark of an engine that reuses a buffer as soon as its
// last consumer has run, with no fragmentation; runtime's buffer plan is tested
// against it.
func LivenessPeak(steps []Step, start []string, keep map[string]bool, size map[string]int64) int64 {
	last := map[string]int{}
	for i, s := range steps {
		for _, v := range s.Reads {
			last[v] = i
		}
	}
	var live, peak int64
	held := map[string]bool{}
	for _, v := range start {
		if !held[v] {
			held[v] = true
			live += size[v]
		}
	}
	peak = live
	for i, s := range steps {
		for _, v := range s.Writes {
			if !held[v] {
				held[v] = true
				live += size[v]
			}
		}
		peak = max(peak, live)
		free := func(v string) {
			if held[v] && !keep[v] {
				if l, read := last[v]; !read || l <= i {
					held[v] = false
					live -= size[v]
				}
			}
		}
		for _, v := range s.Reads {
			free(v)
		}
		for _, v := range s.Writes {
			free(v)
		}
	}
	return peak
}
