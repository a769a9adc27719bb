package train

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/tensor"
)

// Options configure a Session.
type Options struct {
	// Batch is the batch size the model is compiled for (0 means 1).
	Batch int
	// Output names the graph output the loss reads; "" means the first.
	Output string
	// Threads bounds the threads of one operator (runtime.Options.Threads).
	Threads int
	// Freeze, when not nil, picks the parameters that do not train: they
	// get no gradient and no optimizer state, and backward skips every node
	// with no trainable parameter before it (a frozen feature extractor
	// costs its forward pass only).
	Freeze func(*Param) bool
	// Seed, when not 0, reseeds the random streams of the kernels that draw
	// in training (Dropout), each node its own stream from (Seed, its step).
	Seed uint64
	// InputShapes fixes input dimensions the model leaves symbolic (the
	// first dimension is still Batch).
	InputShapes map[string][]int
}

// Param is one trainable parameter: an initializer read by an operator's
// parameter slot.
type Param struct {
	// Name is the initializer's name.
	Name string
	// Value is the engine's tensor, updated in place by optimizers.
	Value *tensor.Tensor
	// Grad has Value's shape; Session.Gradients and Backward fill it.
	Grad *tensor.Tensor
	// Mask, when not nil, holds 1 where the weight may move and 0 where it
	// is pinned at zero (a pruned weight): gradients are multiplied by it
	// after Backward and weights after every optimizer step.
	Mask []float32
	// Frozen parameters are left alone by optimizers (no state either).
	// Set through Options.Freeze, they also get no gradient: backward does
	// not reach them.
	Frozen bool
	// Users are the (node, input slot) pairs reading the parameter.
	Users []Use
}

// Use is one node input slot reading a parameter.
type Use struct {
	Node   string // node name (may be empty in the file)
	OpType string
	Slot   int
}

// SetMask pins the parameter's weights where keep is false; it zeroes them
// at once. len(keep) must equal the parameter's size.
func (p *Param) SetMask(keep []bool) error {
	w := p.Value.F32()
	if len(keep) != len(w) {
		return fmt.Errorf("train: mask of %q has %d entries for %d weights", p.Name, len(keep), len(w))
	}
	p.Mask = make([]float32, len(w))
	for i, k := range keep {
		if k {
			p.Mask[i] = 1
		}
	}
	p.applyMask()
	return nil
}

// MaskZeros pins the parameter's current zeros (those of a pruned model) at
// zero and returns how many there are.
func (p *Param) MaskZeros() int {
	w := p.Value.F32()
	keep := make([]bool, len(w))
	zeros := 0
	for i, v := range w {
		keep[i] = v != 0
		if v == 0 {
			zeros++
		}
	}
	_ = p.SetMask(keep)
	return zeros
}

func (p *Param) applyMask() {
	if p.Mask == nil {
		return
	}
	w := p.Value.F32()
	for i, m := range p.Mask {
		w[i] *= m
	}
}

func (p *Param) maskGrad() {
	if p.Mask == nil {
		return
	}
	g := p.Grad.F32()
	for i, m := range p.Mask {
		g[i] *= m
	}
}

// IsPrunableWeight reports whether every user of p reads it as the weight of
// a Conv, ConvTranspose or Gemm (slot 1) or as a MatMul operand: the
// parameters the pruner prunes (never biases or normalisation parameters).
func IsPrunableWeight(p *Param) bool {
	for _, u := range p.Users {
		switch {
		case (u.OpType == "Conv" || u.OpType == "ConvTranspose" || u.OpType == "Gemm") && u.Slot == 1:
		case u.OpType == "MatMul":
		default:
			return false
		}
	}
	return len(p.Users) > 0
}

// Session trains one model on the Go engine for a fixed batch size.
type Session struct {
	Model   *onnx.Model
	Program *runtime.Program

	params   []*Param
	byName   map[string]*Param
	output   string
	outIndex int
	// grads holds the gradient buffer of each value on the gradient path,
	// by value name (a parameter's aliases map to its Param.Grad).
	grads    map[string]*tensor.Tensor
	backward []bwStep // steps run by Backward, in forward order
	trainers []ops.Trainer
	random   []ops.Randomized
	bns      []bnStats
	dLogits  *tensor.Tensor
	// clearAt[r] lists the activation gradients to zero before the r-th
	// backward step run (they share memory; see shareGradBuffers).
	clearAt  [][]*tensor.Tensor
	training bool
}

type bwStep struct {
	step      *runtime.Step
	bw        ops.Backwarder
	dIn, dOut []*tensor.Tensor
}

// New compiles m for training: every activation kept, parameters found,
// gradient buffers allocated, training mode on.
func New(m *onnx.Model, opts Options) (*Session, error) {
	p, err := runtime.Compile(m, runtime.Options{Batch: opts.Batch, Threads: opts.Threads, KeepActivations: true, InputShapes: opts.InputShapes})
	if err != nil {
		return nil, err
	}
	s := &Session{Model: m, Program: p, byName: map[string]*Param{}, grads: map[string]*tensor.Tensor{}}
	outs := p.Outputs()
	if len(outs) == 0 {
		return nil, fmt.Errorf("train: the model has no outputs")
	}
	s.output = outs[0].Name
	if opts.Output != "" {
		s.outIndex = -1
		for i, o := range outs {
			if o.Name == opts.Output {
				s.output, s.outIndex = o.Name, i
			}
		}
		if s.outIndex < 0 {
			return nil, fmt.Errorf("train: the model has no output %q", opts.Output)
		}
	}
	if err := checkUnfused(p); err != nil {
		return nil, err
	}
	if err := s.findParams(); err != nil {
		return nil, err
	}
	if opts.Freeze != nil {
		for _, prm := range s.params {
			prm.Frozen = opts.Freeze(prm)
		}
	}
	if err := s.planBackward(); err != nil {
		return nil, err
	}
	for i := range p.Steps {
		if tr, ok := p.Steps[i].Kernel.(ops.Trainer); ok {
			s.trainers = append(s.trainers, tr)
		}
		if r, ok := p.Steps[i].Kernel.(ops.Randomized); ok {
			if opts.Seed != 0 {
				// SplitMix64's increment keeps the streams apart.
				r.Reseed(opts.Seed + uint64(i+1)*0x9e3779b97f4a7c15)
			}
			s.random = append(s.random, r)
		}
	}
	s.findBN()
	s.SetTraining(true)
	return s, nil
}

// checkUnfused makes sure the program runs every node of the graph on its
// own, one step per node (or folds it): backward runs one Backward per
// node, so a step that fused two nodes (say a Conv with its Relu) would
// silently differentiate the wrong function.
func checkUnfused(p *runtime.Program) error {
	covered := make([]int, len(p.Graph.Nodes))
	for _, i := range p.Live.Folded {
		covered[i]++
	}
	for k := range p.Steps {
		st := &p.Steps[k]
		if st.Index < 0 || st.Index >= len(covered) || st.Node.GetOpType() != p.Graph.Nodes[st.Index].GetOpType() {
			return fmt.Errorf("train: step %d does not run one node of the graph", k)
		}
		covered[st.Index]++
	}
	for i, c := range covered {
		if c != 1 {
			return fmt.Errorf("train: the engine runs %s %d times (fused with another node?); training needs every node as its own step", onnx.NodeName(p.Graph.Nodes[i], i), c)
		}
	}
	return nil
}

// findParams collects the initializers in the operators' parameter slots.
func (s *Session) findParams() error {
	g := s.Program.Graph
	var computed []string
	for i := range s.Program.Steps {
		st := &s.Program.Steps[i]
		for _, slot := range st.Op.Params {
			if slot >= len(st.Node.Input) || st.Node.Input[slot] == "" {
				continue
			}
			in := st.Node.Input[slot]
			name := g.ResolveIdentity(in)
			if name == "" {
				if _, isStep := g.Producer[in]; isStep && !s.Program.Live.Const[in] {
					continue // an activation: nothing to train
				}
				if s.Program.Live.Const[in] {
					computed = append(computed, fmt.Sprintf("%q (input %d of %s)", in, slot, onnx.NodeName(g.Nodes[st.Index], st.Index)))
				}
				continue
			}
			t := s.Program.Value(in)
			if t == nil || t.DType != tensor.Float32 {
				continue
			}
			prm := s.byName[name]
			if prm == nil {
				prm = &Param{Name: name, Value: t, Grad: tensor.New(tensor.Float32, t.Shape...)}
				s.byName[name] = prm
				s.params = append(s.params, prm)
			}
			if prm.Value != t {
				return fmt.Errorf("train: initializer %q reaches %s as a copy, not the engine's tensor", name, onnx.NodeName(g.Nodes[st.Index], st.Index))
			}
			prm.Users = append(prm.Users, Use{Node: st.Node.GetName(), OpType: st.Node.GetOpType(), Slot: slot})
		}
	}
	if len(computed) > 0 {
		return fmt.Errorf("train: parameter inputs computed at compile time from constants cannot be trained: %s", strings.Join(computed, ", "))
	}
	// A parameter also read by a folded node other than Identity would
	// leave a stale constant behind after an update.
	for _, i := range s.Program.Live.Folded {
		n := g.Nodes[i]
		if n.GetOpType() == "Identity" {
			continue
		}
		for _, in := range n.Input {
			if prm := s.byName[g.ResolveIdentity(in)]; prm != nil && in != "" {
				return fmt.Errorf("train: parameter %q feeds %s, which the engine computes once at compile time; training it is not supported", prm.Name, onnx.NodeName(n, i))
			}
		}
	}
	for _, prm := range s.params {
		s.grads[prm.Name] = prm.Grad
	}
	return nil
}

// gradKey is the name under which a value's gradient is kept: an alias of a
// parameter (an Identity output) maps to the parameter.
func (s *Session) gradKey(name string) string {
	if r := s.Program.Graph.ResolveIdentity(name); r != "" {
		return r
	}
	return name
}

// planBackward finds the steps between the parameters and the output and
// allocates the gradient buffers of the values between them.
func (s *Session) planBackward() error {
	p := s.Program
	g := p.Graph
	requires := map[string]bool{}
	for _, prm := range s.params {
		requires[prm.Name] = !prm.Frozen
	}
	isF32 := func(name string) bool {
		t := p.Value(name)
		return name != "" && t != nil && t.DType == tensor.Float32
	}
	for i := range p.Steps {
		st := &p.Steps[i]
		any := false
		for _, in := range st.Node.Input {
			if in != "" && requires[s.gradKey(in)] {
				any = true
			}
		}
		if any {
			for _, o := range st.Node.Output {
				if isF32(o) {
					requires[o] = true
				}
			}
		}
	}
	reaches := map[string]bool{s.output: true}
	need := make([]bool, len(p.Steps))
	for i := len(p.Steps) - 1; i >= 0; i-- {
		st := &p.Steps[i]
		for _, o := range st.Node.Output {
			if o != "" && reaches[o] && requires[o] {
				need[i] = true
			}
		}
		if need[i] {
			for _, in := range st.Node.Input {
				if in != "" {
					reaches[s.gradKey(in)] = true
				}
			}
		}
	}
	if !requires[s.output] {
		return fmt.Errorf("train: output %q does not depend on any trainable parameter", s.output)
	}
	var missing []string
	for i := range p.Steps {
		if !need[i] {
			continue
		}
		st := &p.Steps[i]
		bw, ok := st.Kernel.(ops.Backwarder)
		if !ok {
			missing = append(missing, onnx.NodeName(g.Nodes[st.Index], st.Index))
			continue
		}
		b := bwStep{step: st, bw: bw, dIn: make([]*tensor.Tensor, len(st.In)), dOut: make([]*tensor.Tensor, len(st.Out))}
		for k, o := range st.Node.Output {
			if isF32(o) {
				b.dOut[k] = s.gradBuffer(o)
			}
		}
		for k, in := range st.Node.Input {
			if in != "" && requires[s.gradKey(in)] && isF32(in) {
				b.dIn[k] = s.gradBuffer(s.gradKey(in))
			}
		}
		s.backward = append(s.backward, b)
	}
	if len(missing) > 0 {
		return fmt.Errorf("train: no backward pass for %s", strings.Join(missing, ", "))
	}
	s.dLogits = s.grads[s.output]
	s.shareGradBuffers()
	return nil
}

// shareGradBuffers lets activation gradients whose lifetimes in backward do
// not overlap share memory. Backward runs its steps in reverse; a value's
// gradient lives from the first step that accumulates into it (or, for the
// output, from the start) to the step of its producer, which reads it; its
// memory then goes back to a pool of buffers of that length. A buffer is
// zeroed just before the step where its value's gradient is born.
func (s *Session) shareGradBuffers() {
	n := len(s.backward)
	born := map[*tensor.Tensor]int{}
	dies := map[*tensor.Tensor]int{}
	isParam := map[*tensor.Tensor]bool{}
	for _, p := range s.params {
		isParam[p.Grad] = true
	}
	note := func(t *tensor.Tensor, r int, read bool) {
		if t == nil || isParam[t] {
			return
		}
		if b, ok := born[t]; !ok || r < b {
			born[t] = r
		}
		if _, ok := dies[t]; !ok {
			dies[t] = n // written but never read: kept to the end
		}
		if read {
			dies[t] = r
		}
	}
	born[s.dLogits], dies[s.dLogits] = -1, n
	for r := 0; r < n; r++ {
		b := &s.backward[n-1-r]
		for _, t := range b.dIn {
			note(t, r, false)
		}
		for _, t := range b.dOut {
			if t != s.dLogits {
				note(t, r, true)
			} else if r < dies[t] || dies[t] == n {
				dies[t] = r
			}
		}
	}
	byBirth := make([][]*tensor.Tensor, n+1) // index r+1
	byDeath := make([][]*tensor.Tensor, n+1)
	for t, b := range born {
		byBirth[b+1] = append(byBirth[b+1], t)
		if d := dies[t]; d < n {
			byDeath[d] = append(byDeath[d], t)
		}
	}
	pool := map[int][][]float32{}
	s.clearAt = make([][]*tensor.Tensor, n)
	for r := -1; r < n; r++ {
		for _, t := range byBirth[r+1] {
			l := t.Len()
			if free := pool[l]; len(free) > 0 {
				t.Data = free[len(free)-1]
				pool[l] = free[:len(free)-1]
			}
			if r >= 0 {
				s.clearAt[r] = append(s.clearAt[r], t)
			}
		}
		if r >= 0 {
			for _, t := range byDeath[r] {
				pool[t.Len()] = append(pool[t.Len()], t.F32())
			}
		}
	}
}

func (s *Session) gradBuffer(name string) *tensor.Tensor {
	if t, ok := s.grads[name]; ok {
		return t
	}
	t := tensor.New(tensor.Float32, s.Program.Value(name).Shape...)
	s.grads[name] = t
	return t
}

// RandStates saves the random streams of the kernels that draw in
// training, in step order.
func (s *Session) RandStates() ([][]byte, error) {
	var st [][]byte
	for _, r := range s.random {
		b, err := r.RandState()
		if err != nil {
			return nil, err
		}
		st = append(st, b)
	}
	return st, nil
}

// SetRandStates restores what RandStates saved.
func (s *Session) SetRandStates(st [][]byte) error {
	if len(st) != len(s.random) {
		return fmt.Errorf("train: %d random states for %d random kernels", len(st), len(s.random))
	}
	for i, r := range s.random {
		if err := r.SetRandState(st[i]); err != nil {
			return fmt.Errorf("train: random state %d: %w", i, err)
		}
	}
	return nil
}

// Params lists the trainable parameters in the order the graph first reads them.
func (s *Session) Params() []*Param { return s.params }

// Param returns the parameter of an initializer, or nil.
func (s *Session) Param(name string) *Param { return s.byName[name] }

// ParamNames lists the parameters' names, sorted.
func (s *Session) ParamNames() []string {
	names := make([]string, 0, len(s.params))
	for _, p := range s.params {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// SetTraining switches the kernels that behave differently in training
// (BatchNormalization uses batch statistics and updates its running
// statistics; Dropout drops). New starts in training mode.
func (s *Session) SetTraining(on bool) {
	s.training = on
	for _, tr := range s.trainers {
		tr.SetTraining(on)
	}
}

// Forward runs the model and returns the output the loss reads (the
// engine's buffer, overwritten by the next Forward).
func (s *Session) Forward(inputs map[string]*tensor.Tensor) (*tensor.Tensor, error) {
	// Param.Value is public and masks and optimizers write it in place:
	// whatever changed the weights since the last Forward, the kernels'
	// pre-packed copies (Winograd filters) must not outlive it.
	s.Program.InvalidatePacked()
	outs, err := s.Program.Run(inputs)
	if err != nil {
		return nil, err
	}
	if s.training {
		s.updateRunningStats()
	}
	return outs[s.outIndex], nil
}

// ZeroGrad zeroes every parameter's gradient.
func (s *Session) ZeroGrad() {
	for _, p := range s.params {
		clear(p.Grad.F32())
	}
}

// Backward back-propagates dOut, the gradient of the loss with respect to
// the output Forward returned, accumulating (+=) into the parameters'
// gradients (call ZeroGrad first for a fresh gradient). It must follow the
// Forward whose activations it differentiates.
func (s *Session) Backward(dOut *tensor.Tensor) error {
	if !isF32(dOut) || !tensor.EqualShape(dOut.Shape, s.dLogits.Shape) {
		return fmt.Errorf("train: gradient of output %q is %s, want float32 %v", s.output, describe(dOut), s.dLogits.Shape)
	}
	copy(s.dLogits.F32(), dOut.F32())
	g := s.Program.Graph
	for i := len(s.backward) - 1; i >= 0; i-- {
		for _, t := range s.clearAt[len(s.backward)-1-i] {
			clear(t.F32())
		}
		b := &s.backward[i]
		if err := b.bw.Backward(b.dIn, b.dOut, b.step.In, b.step.Out); err != nil {
			return fmt.Errorf("train: backward of %s: %w", onnx.NodeName(g.Nodes[b.step.Index], b.step.Index), err)
		}
	}
	for _, p := range s.params {
		p.maskGrad()
	}
	return nil
}

// Gradients zeroes the gradients, runs Forward on the inputs, the softmax
// cross-entropy of the output against labels, and Backward; it returns the
// loss (the mean over the batch) with every Param.Grad filled (masked).
func (s *Session) Gradients(inputs map[string]*tensor.Tensor, labels []int64) (float64, error) {
	out, err := s.Forward(inputs)
	if err != nil {
		return 0, err
	}
	d := tensor.New(tensor.Float32, out.Shape...)
	loss, err := SoftmaxCrossEntropy(d, out, labels)
	if err != nil {
		return 0, fmt.Errorf("train: output %q: %w", s.output, err)
	}
	s.ZeroGrad()
	if err := s.Backward(d); err != nil {
		return 0, err
	}
	return loss, nil
}

// Loss runs Forward and returns the mean softmax cross-entropy, without
// gradients.
func (s *Session) Loss(inputs map[string]*tensor.Tensor, labels []int64) (float64, error) {
	out, err := s.Forward(inputs)
	if err != nil {
		return 0, err
	}
	return SoftmaxCrossEntropy(nil, out, labels)
}

// Step is one training step: Gradients, then opt.Step on the parameters.
func (s *Session) Step(opt Optimizer, inputs map[string]*tensor.Tensor, labels []int64) (float64, error) {
	loss, err := s.Gradients(inputs, labels)
	if err != nil {
		return 0, err
	}
	opt.Step(s.params)
	s.Program.InvalidatePacked() // the weights moved
	return loss, nil
}

// MaskZeros pins at zero the current zeros of every parameter that keep
// accepts (nil means IsPrunableWeight) and returns how many weights it
// pinned.
func (s *Session) MaskZeros(keep func(*Param) bool) int {
	if keep == nil {
		keep = IsPrunableWeight
	}
	n := 0
	for _, p := range s.params {
		if keep(p) {
			n += p.MaskZeros()
		}
	}
	return n
}

// WriteBack stores the current parameters (and BatchNormalization running
// statistics) into the model's initializers, ready for Model.Save.
func (s *Session) WriteBack() error {
	g := s.Program.Graph
	write := func(name string, t *tensor.Tensor) error {
		tp := g.Initializers[name]
		if tp == nil {
			return fmt.Errorf("train: initializer %q is stored sparse; write-back needs a dense initializer", name)
		}
		onnx.SetTensorData(tp, t)
		return nil
	}
	for _, p := range s.params {
		if err := write(p.Name, p.Value); err != nil {
			return err
		}
	}
	for _, b := range s.bns {
		for _, name := range []string{b.meanName, b.varName} {
			if err := write(name, s.Program.Value(name)); err != nil {
				return err
			}
		}
	}
	return nil
}
