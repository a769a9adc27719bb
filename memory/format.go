package memory

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/onnxprune/onnxprune/internal/humanize"
)

// SortKey orders the layers of a printed report.
type SortKey string

// Sort keys.
const (
	ByOrder       SortKey = "order"
	ByParams      SortKey = "params"
	ByMACs        SortKey = "macs"
	ByActivations SortKey = "activations"
)

// TopLayers returns the n largest layers by key (all of them, in graph order,
// for n <= 0 or key ByOrder).
func (r *Report) TopLayers(n int, key SortKey) ([]Layer, error) {
	ls := append([]Layer(nil), r.Layers...)
	var metric func(l Layer) int64
	switch key {
	case ByOrder, "":
	case ByParams:
		metric = func(l Layer) int64 { return l.Params }
	case ByMACs:
		metric = func(l Layer) int64 { return l.MACs }
	case ByActivations:
		metric = func(l Layer) int64 { return l.ActivationBytes }
	default:
		return nil, fmt.Errorf("memory: unknown sort key %q (want order, params, macs or activations)", key)
	}
	if metric != nil {
		sort.SliceStable(ls, func(i, j int) bool { return metric(ls[i]) > metric(ls[j]) })
	}
	if n > 0 && n < len(ls) {
		ls = ls[:n]
	}
	return ls, nil
}

// Count formats an integer with thousands separators: 138,357,544.
func Count(n int64) string { return humanize.Count(n) }

// Bytes formats a size in binary units: 527.79 MiB.
func Bytes(n int64) string { return humanize.Bytes(n) }

// Giga formats a count in G (10^9) with two decimals.
func Giga(n int64) string { return fmt.Sprintf("%.2f G", float64(n)/1e9) }

// WriteText prints the summary and the given layers as aligned text.
func (r *Report) WriteText(w io.Writer, layers []Layer, title string) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("model:        %s (batch %d, %s)\n", r.Model, r.Batch, r.DType)
	p("parameters:   %s = %s", Count(r.Params.Count), Bytes(r.Params.Bytes))
	if r.Params.Buffers > 0 {
		p("  (+ buffers %s = %s)", Count(r.Params.Buffers), Bytes(r.Params.BufferBytes))
	}
	p("\n")
	p("MACs:         %s (%s); other FLOPs %s\n", Count(r.MACs), Giga(r.MACs), Count(r.OtherFLOPs))
	p("activations:  sum %s; peak with reuse %s (input %s)\n", Bytes(r.Activations.SumBytes), Bytes(r.Activations.PeakBytes), Bytes(r.Activations.InputBytes))
	t := r.Training
	p("training:     %s = params %s + grads %s + %s state %s + activations %s (saved for backward %s)\n",
		Bytes(t.PeakBytes), Bytes(t.ParamBytes), Bytes(t.GradientBytes), t.Optimizer, Bytes(t.OptimizerBytes), Bytes(t.ActivationPeakBytes), Bytes(t.SavedBytes))
	for _, n := range r.Notes {
		p("note:         %s\n", n)
	}
	if len(layers) > 0 {
		p("\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "layer\top\toutput shape\tparams\tMACs\tactivations\t")
		for _, l := range layers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Name, l.OpType, shapeString(l.OutputShape), Count(l.Params), Count(l.MACs), Bytes(l.ActivationBytes))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\ntotal: %s params (%s), %s MACs, activation peak %s, training peak %s\n",
		Count(r.Params.Count), Bytes(r.Params.Bytes), Giga(r.MACs), Bytes(r.Activations.PeakBytes), Bytes(r.Training.PeakBytes))
	return err
}

func shapeString(s []int) string {
	if s == nil {
		return "?"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "×")
}

// WriteCSV writes one row per layer.
func (r *Report) WriteCSV(w io.Writer, layers []Layer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"name", "op_type", "output_shape", "params", "buffers", "param_bytes", "macs", "other_flops", "activation_bytes", "saved_for_backward_bytes"})
	for _, l := range layers {
		cw.Write([]string{l.Name, l.OpType, shapeString(l.OutputShape), fmt.Sprint(l.Params), fmt.Sprint(l.Buffers), fmt.Sprint(l.ParamBytes),
			fmt.Sprint(l.MACs), fmt.Sprint(l.OtherFLOPs), fmt.Sprint(l.ActivationBytes), fmt.Sprint(l.SavedBytes)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the summary and a layer table in Markdown.
func (r *Report) WriteMarkdown(w io.Writer, layers []Layer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("| %s (batch %d, %s) | |\n| --- | --- |\n", r.Model, r.Batch, r.DType)
	p("| parameters | %s (%s) |\n", Count(r.Params.Count), Bytes(r.Params.Bytes))
	p("| buffers | %s (%s) |\n", Count(r.Params.Buffers), Bytes(r.Params.BufferBytes))
	p("| MACs | %s |\n", Count(r.MACs))
	p("| activations, sum | %s |\n| activations, peak | %s |\n", Bytes(r.Activations.SumBytes), Bytes(r.Activations.PeakBytes))
	p("| training peak (%s) | %s |\n\n", r.Training.Optimizer, Bytes(r.Training.PeakBytes))
	p("| layer | op | output shape | params | MACs | activations |\n| --- | --- | --- | ---: | ---: | ---: |\n")
	for _, l := range layers {
		p("| %s | %s | %s | %s | %s | %s |\n", l.Name, l.OpType, shapeString(l.OutputShape), Count(l.Params), Count(l.MACs), Bytes(l.ActivationBytes))
	}
	return nil
}
