package kernels

// Pre-packed weights. An inference engine runs the same weights many
// times, so what a convolution derives from them alone (Winograd's
// transformed filters, α²·K·C values) can be computed once and kept; with
// that cost gone, Winograd also pays on layers with few tiles (resnet18's
// 256- and 512-channel layers at batch 1). Training updates the weights in
// place between runs, so whoever changes them must say so:
// Workspace.InvalidatePacked (the engine's Program.InvalidatePacked calls it
// on every convolution; package train calls that after each optimizer
// step).

// packedFilters is the cache one Workspace keeps for one convolution.
type packedFilters struct {
	on    bool // PackWeights(true): the caller will invalidate on change
	valid bool
	m     int      // the Winograd tile the filters were transformed for
	w     *float32 // &weight[0] they were computed from
	n     int      // len(weight)
	u     []float32
}

// PackWeights lets convolutions run with ws keep what they derive from the
// weights from one call to the next (on), or not (the default: every call
// starts from the weights). With it on, the caller must call
// InvalidatePacked whenever it changes the weights in place; a different
// weight slice is noticed without it. It also changes which algorithm some
// shapes use (see winoTile), since the filter transform is then free.
func (ws *Workspace) PackWeights(on bool) {
	ws.pack.on = on
	if !on {
		ws.pack = packedFilters{}
	}
}

// InvalidatePacked drops what ws keeps from the weights (PackWeights), so
// that the next call recomputes it from the weights as they are then.
func (ws *Workspace) InvalidatePacked() { ws.pack.valid = false }

// packedFor returns the cached transformed filters for tile m and weight
// (length n floats each time), and whether they are current; it (re)makes
// the buffer when they are not. ok false and u nil: caching is off.
func (ws *Workspace) packedFor(m int, weight []float32, n int) (u []float32, current bool) {
	c := &ws.pack
	if !c.on {
		return nil, false
	}
	if c.valid && c.m == m && c.w == &weight[0] && c.n == len(weight) && len(c.u) == n {
		return c.u, true
	}
	if cap(c.u) < n {
		c.u = make([]float32, n)
	}
	c.u = c.u[:n]
	c.m, c.w, c.n, c.valid = m, &weight[0], len(weight), false
	return c.u, false
}

// markPacked records that the buffer packedFor returned now holds the
// transformed filters.
func (ws *Workspace) markPacked() { ws.pack.valid = ws.pack.on }
