package onnxeval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/evaluate"
)

// report is what onnxeval prints; its JSON form adds the model, backend and
// split to evaluate.Result's fields.
type report struct {
	Model   string `json:"model"`
	Backend string `json:"backend"`
	Split   string `json:"split"`
	// Transform is what the samples went through, in --transform's syntax.
	Transform string `json:"transform"`
	*evaluate.Result
}

func (r report) writeText(w io.Writer, sample data.Shape) error {
	var b strings.Builder
	perSec := 0.0
	if r.Seconds > 0 {
		perSec = float64(r.Samples) / r.Seconds
	}
	fmt.Fprintf(&b, "model     %s (backend %s, batch %d)\n", r.Model, r.Backend, r.Batch)
	fmt.Fprintf(&b, "data      %s: %d images of %dx%dx%d\n", r.Dataset, r.Samples, sample.C, sample.H, sample.W)
	if r.Skipped > 0 {
		fmt.Fprintf(&b, "skipped   %d unreadable images (--skip-bad), first: %s\n", r.Skipped, r.SkipErrors[0])
	}
	if r.Transform != "" {
		fmt.Fprintf(&b, "transform %s\n", r.Transform)
	}
	fmt.Fprintf(&b, "accuracy  %.2f%% (%d/%d)\n", 100*r.Accuracy, r.Correct, r.Samples)
	for _, k := range r.Metrics.TopK {
		acc, _ := r.Metrics.TopKAccuracy(k)
		fmt.Fprintf(&b, "%-9s %.2f%%\n", fmt.Sprintf("top-%d", k), 100*acc)
	}
	fmt.Fprintf(&b, "loss      %.6f (mean cross-entropy)\n", r.Loss)
	fmt.Fprintf(&b, "margins   smallest top-2 logit margin %.3g; below 1e-4: %d, 1e-3: %d, 1e-2: %d\n",
		r.Margin.Min, r.Margin.Below1e4, r.Margin.Below1e3, r.Margin.Below1e2)
	fmt.Fprintf(&b, "time      %.2f s (%.0f images/s)\n\n", r.Seconds, perSec)

	names := classNames(r.Classes, len(r.Confusion))
	b.WriteString("per-class recall\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\timages\tcorrect\trecall\t")
	for c, row := range r.Confusion {
		n := 0
		for _, v := range row {
			n += v
		}
		if n == 0 && c >= len(r.Classes) {
			continue
		}
		rec := "-"
		if p := r.PerClassRecall[c]; p != nil {
			rec = fmt.Sprintf("%.2f%%", 100**p)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", names[c], n, row[c], rec)
	}
	tw.Flush()

	b.WriteString("\nconfusion matrix (rows = true class, columns = predicted)\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for c := range r.Confusion {
		fmt.Fprintf(tw, "%d\t", c)
	}
	fmt.Fprintln(tw)
	for c, row := range r.Confusion {
		fmt.Fprintf(tw, "%d\t", c)
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// classNames labels the classes "3 cat" where the data set names them
// other than by their number, else "3".
func classNames(classes []string, k int) []string {
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprint(i)
		if i < len(classes) && classes[i] != names[i] {
			names[i] += " " + classes[i]
		}
	}
	return names
}
