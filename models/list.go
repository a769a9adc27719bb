package models

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/onnxprune/onnxprune/internal/humanize"
)

// List describes every architecture at its default input and class count
// (Options.Input and Options.Classes are ignored), sorted by name.
func List(opts Options) ([]*Info, error) {
	var infos []*Info
	for _, a := range Archs() {
		o := opts
		o.Input, o.Classes = nil, 0
		info, err := Describe(a.Name, o)
		if err != nil {
			return nil, err
		}
		info.Layers = nil
		infos = append(infos, info)
	}
	return infos, nil
}

// WriteList prints one line per architecture: name, input, classes,
// parameters, MACs and weight size, with thousands separators (the
// descriptions are in the JSON form).
func WriteList(w io.Writer, infos []*Info) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "arch\tinput\tclasses\tparams\tMACs\tweights (MiB)\t")
	for _, in := range infos {
		fmt.Fprintf(tw, "%s\t%dx%dx%d\t%d\t%s\t%s\t%.2f\t\n", in.Arch, in.Input[0], in.Input[1], in.Input[2], in.Classes,
			Thousands(in.Params), Thousands(in.MACs), float64(in.WeightBytes)/(1<<20))
	}
	return tw.Flush()
}

// Thousands formats n with comma separators: 138,357,544.
func Thousands(n int64) string { return humanize.Count(n) }

// ParseInput parses "CxHxW" (e.g. 3x224x224).
func ParseInput(s string) ([]int, error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 3 {
		return nil, &UsageError{Msg: fmt.Sprintf("input %q: want CxHxW, e.g. 3x224x224", s)}
	}
	dims := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1<<16 {
			return nil, &UsageError{Msg: fmt.Sprintf("input %q: %q is not a size from 1 to 65536", s, p)}
		}
		dims[i] = n
	}
	return dims, nil
}

// ParseBytes parses a byte count with an optional K, M or G suffix (powers of 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, &UsageError{Msg: fmt.Sprintf("size %q: want a byte count such as 1048576, 64K, 100M or 1G", s)}
	}
	return n * mult, nil
}
