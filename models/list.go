package models

import (
	"fmt"
	"io"
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
			humanize.Count(in.Params), humanize.Count(in.MACs), float64(in.WeightBytes)/(1<<20))
	}
	return tw.Flush()
}
