package onnxtune

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onnxprune/onnxprune/internal/tfevents"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/train"
)

// metricsLog writes --log-dir's metrics.jsonl: one JSON object a line, a
// "step" record every few steps and an "epoch" record after every epoch
// with the process's resident memory and CPU time. Lines are flushed as
// they are written, so a killed run keeps what it logged.
//
// Beside it, a TensorBoard event file of the run (package tfevents): the
// model's graph first (onnxGraph), then after
// every epoch, at step = the epoch's number from 1, the scalars of
// eventScalars and a histogram "weights/<initializer>" of every trainable
// parameter, flushed at once.
type metricsLog struct {
	f      *os.File
	w      *bufio.Writer
	every  int
	err    error
	events *tfevents.Writer
	params []*train.Param // the histograms' parameters
}

// histogramBuckets is the number of equal-width buckets of a weight
// histogram, TensorBoard's default bin count in tensorboardX/torch.
const histogramBuckets = 30

func openMetricsLog(dir string, every int, m *onnx.Model, s *train.Session) (*metricsLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	ev, err := tfevents.Create(dir, time.Now())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("--log-dir: %w", err)
	}
	ev.WriteGraph(time.Now(), onnxGraph(m))
	if err := ev.Flush(); err != nil {
		f.Close()
		ev.Close()
		return nil, fmt.Errorf("--log-dir: %w", err)
	}
	l := &metricsLog{f: f, w: bufio.NewWriter(f), every: max(every, 1), events: ev}
	for _, p := range s.Params() {
		if !p.Frozen {
			l.params = append(l.params, p)
		}
	}
	return l, nil
}

func (l *metricsLog) write(v any) {
	if l == nil || l.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = l.w.Write(b)
	}
	if err == nil {
		err = l.w.Flush()
	}
	l.err = err
}

type stepRecord struct {
	Kind       string  `json:"kind"`
	Time       string  `json:"time"`
	Epoch      int     `json:"epoch"`
	Step       int     `json:"step"`
	GlobalStep int     `json:"global_step"`
	Loss       float64 `json:"loss"`
	LR         float64 `json:"lr"`
}

type epochRecord struct {
	Kind string `json:"kind"`
	Time string `json:"time"`
	train.EpochResult
	RSSBytes   int64   `json:"rss_bytes"`
	PeakRSS    int64   `json:"peak_rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

func (l *metricsLog) step(s train.StepInfo) {
	if l != nil && (s.GlobalStep%l.every == 0 || s.Step == s.Steps) {
		l.write(stepRecord{Kind: "step", Time: time.Now().UTC().Format(time.RFC3339Nano), Epoch: s.Epoch, Step: s.Step,
			GlobalStep: s.GlobalStep, Loss: s.Loss, LR: s.LR})
	}
}

func (l *metricsLog) epoch(r train.EpochResult) {
	if l == nil {
		return
	}
	rec := epochRecord{Kind: "epoch", Time: time.Now().UTC().Format(time.RFC3339Nano), EpochResult: r}
	rec.RSSBytes, rec.PeakRSS = residentMemory()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		rec.CPUSeconds = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	l.write(rec)
	l.writeEvents(rec)
}

// eventScalars are an epoch's TensorBoard scalars; val_* only with
// validation, rss in bytes.
func eventScalars(rec epochRecord) []struct {
	tag string
	v   float64
} {
	type scalar = struct {
		tag string
		v   float64
	}
	s := []scalar{{"train_loss", rec.TrainLoss}, {"train_accuracy", rec.TrainAccuracy}}
	if rec.HasVal {
		s = append(s, scalar{"val_loss", rec.ValLoss}, scalar{"val_accuracy", rec.ValAccuracy})
	}
	return append(s, scalar{"lr", rec.LR}, scalar{"sparsity", rec.Sparsity},
		scalar{"images_per_s", rec.TrainImagesPerS}, scalar{"rss", float64(rec.RSSBytes)},
		scalar{"cpu_seconds", rec.CPUSeconds})
}

// onnxGraph is the ONNX graph as TensorBoard graph nodes: an "Initializer"
// node per initializer, an "Input" node per other graph input, a node per
// ONNX node with its op type (named by the node, or OpType_i where it has
// no name), an "Output" node per graph output; edges follow the tensors.
// PyTorch's exported names ("/layer1/conv/Conv") become TensorBoard scopes,
// and an initializer whose readers are all in one scope goes in it too
// ("layer1/conv/layer1.conv.weight").
func onnxGraph(m *onnx.Model) []tfevents.GraphNode {
	g := m.Graph()
	var nodes []tfevents.GraphNode
	taken := map[string]bool{}
	add := func(name, op string, in []tfevents.GraphInput) string {
		base := name
		for i := 1; taken[name]; i++ {
			name = base + "_" + strconv.Itoa(i)
		}
		taken[name] = true
		nodes = append(nodes, tfevents.GraphNode{Name: name, Op: op, Inputs: in})
		return name
	}
	scope := map[string]string{} // initializer → its readers' common scope
	for _, n := range g.GetNode() {
		dir := path.Dir(n.GetName())
		if !strings.Contains(n.GetName(), "/") {
			dir = ""
		}
		for _, in := range n.GetInput() {
			if s, ok := scope[in]; ok && s != dir {
				dir = ""
			}
			scope[in] = dir
		}
	}
	producer := map[string]tfevents.GraphInput{}
	for _, t := range g.GetInitializer() {
		name := t.GetName()
		if s := scope[name]; s != "" && s != "/" && s != "." {
			name = s + "/" + name
		}
		producer[t.GetName()] = tfevents.GraphInput{Node: add(name, "Initializer", nil)}
	}
	for _, v := range g.GetInput() {
		if _, ok := producer[v.GetName()]; !ok {
			producer[v.GetName()] = tfevents.GraphInput{Node: add(v.GetName(), "Input", nil)}
		}
	}
	edges := func(tensors []string) []tfevents.GraphInput {
		var in []tfevents.GraphInput
		for _, t := range tensors {
			if p, ok := producer[t]; ok {
				in = append(in, p)
			}
		}
		return in
	}
	for i, n := range g.GetNode() {
		name := n.GetName()
		if name == "" {
			name = n.GetOpType() + "_" + strconv.Itoa(i)
		}
		name = add(name, n.GetOpType(), edges(n.GetInput()))
		for k, t := range n.GetOutput() {
			producer[t] = tfevents.GraphInput{Node: name, Output: k}
		}
	}
	for _, v := range g.GetOutput() {
		add(v.GetName(), "Output", edges([]string{v.GetName()}))
	}
	return nodes
}

func (l *metricsLog) writeEvents(rec epochRecord) {
	var s tfevents.Summary
	for _, sc := range eventScalars(rec) {
		s.Scalar(sc.tag, sc.v)
	}
	for _, p := range l.params {
		s.Histogram("weights/"+p.Name, tfevents.NewHistogram(p.Value.F32(), histogramBuckets))
	}
	l.events.Write(int64(rec.Epoch+1), time.Now(), &s)
	if err := l.events.Flush(); err != nil && l.err == nil {
		l.err = err
	}
}

func (l *metricsLog) close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if l.err == nil {
		l.err = err
	}
	if err := l.events.Close(); l.err == nil {
		l.err = err
	}
	if l.err != nil {
		return fmt.Errorf("--log-dir: %w", l.err)
	}
	return nil
}

// residentMemory reads VmRSS and VmHWM from /proc/self/status (0 where
// there is no such file).
func residentMemory() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
	}
	return rss, peak
}
