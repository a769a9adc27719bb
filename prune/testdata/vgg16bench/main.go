// Command vgg16bench compares onnxprune's global magnitude pruning with
// torch.nn.utils.prune.global_unstructured on the same weights.
//
//	go run ./prune/testdata/vgg16bench dump vgg16.onnx weights.raw   # raw float32 + weights.raw.json
//	python3 prune/testdata/vgg16bench/torch_global.py weights.raw 0.5
//	go run ./prune/testdata/vgg16bench time vgg16.onnx 0.5           # load, prune, save times
//
// It lives under testdata so that ./... builds and tests skip it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unsafe"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vgg16bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: vgg16bench dump model.onnx out.raw | time model.onnx amount")
	}
	m, err := onnx.Load(args[1])
	if err != nil {
		return err
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return err
	}
	switch args[0] {
	case "dump":
		ts, err := prune.Plan(g, prune.Options{})
		if err != nil {
			return err
		}
		f, err := os.Create(args[2])
		if err != nil {
			return err
		}
		defer f.Close()
		type layer struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		}
		var meta []layer
		for _, t := range ts {
			w, err := onnx.DecodeTensor(g.Initializers[t.Initializer])
			if err != nil {
				return err
			}
			d := w.Data.([]float32)
			if _, err := f.Write(unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), 4*len(d))); err != nil {
				return err
			}
			meta = append(meta, layer{t.Initializer, t.Shape})
		}
		b, _ := json.MarshalIndent(meta, "", " ")
		return os.WriteFile(args[2]+".json", b, 0o644)
	case "time":
		amount, err := strconv.ParseFloat(args[2], 64)
		if err != nil {
			return err
		}
		t0 := time.Now()
		m, err := onnx.Load(args[1])
		if err != nil {
			return err
		}
		t1 := time.Now()
		rep, err := prune.Apply(m, prune.Options{Amount: amount, Scope: prune.ScopeGlobal})
		if err != nil {
			return err
		}
		t2 := time.Now()
		out := filepath.Join(os.TempDir(), "vgg16bench.pruned.onnx")
		if err := m.Save(out, onnx.SaveOptions{}); err != nil {
			return err
		}
		t3 := time.Now()
		os.Remove(out)
		fmt.Printf("load %.3f s, prune %.3f s (Apply: select, zero, report), save %.3f s\n", t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds())
		for _, l := range rep.Layers {
			fmt.Printf("%s %d/%d\n", l.Initializer, l.Zeros, l.Params)
		}
		fmt.Printf("global %d/%d\n", rep.Zeros, rep.Params)
	}
	return nil
}
