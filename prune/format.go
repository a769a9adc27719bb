package prune

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the per-layer table, the totals, the groups left whole
// and the notes.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\top\tweights\tzeros\tsparsity\tchannels\tMACs before\tMACs after\t")
	var params, after, zeros, macsB, macsA int64
	for _, l := range r.Layers {
		weights := fmt.Sprint(l.Params)
		if l.ParamsAfter != l.Params {
			weights = fmt.Sprintf("%d→%d", l.Params, l.ParamsAfter)
		}
		ch := fmt.Sprint(l.ChannelsBefore)
		if l.ChannelsAfter != l.ChannelsBefore {
			ch = fmt.Sprintf("%d→%d", l.ChannelsBefore, l.ChannelsAfter)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f%%\t%s\t%s\t%s\t\n", l.Name, l.OpType, weights, l.Zeros, 100*l.Sparsity, ch, macs(l.MACsBefore), macs(l.MACsAfter))
		params += l.Params
		after += l.ParamsAfter
		zeros += l.Zeros
		macsB += l.MACsBefore
		macsA += l.MACsAfter
	}
	weights := fmt.Sprint(params)
	if after != params {
		weights = fmt.Sprintf("%d→%d", params, after)
	}
	fmt.Fprintf(tw, "total (%d layers)\t\t%s\t%d\t%.2f%%\t\t%s\t%s\t\n", len(r.Layers), weights, zeros, 100*r.GlobalSparsity, macs(macsB), macs(macsA))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "model: %d → %d parameters", r.ModelParamsBefore, r.ModelParamsAfter)
	if r.MACsBefore > 0 {
		fmt.Fprintf(w, ", %s → %s MACs (batch 1)", macs(r.MACsBefore), macs(r.MACsAfter))
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func macs(n int64) string {
	switch {
	case n == 0:
		return "-"
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// Metadata returns the metadata_props entries that record a prune: the
// settings under "onnxprune.<key>" and the resulting sparsity.
func (r *Report) Metadata() [][2]string {
	var md [][2]string
	for _, kv := range r.Settings {
		md = append(md, [2]string{"onnxprune." + kv[0], kv[1]})
	}
	md = append(md, [2]string{"onnxprune.global_sparsity", fmt.Sprintf("%.6f", r.GlobalSparsity)})
	var layers []string
	for _, l := range r.Layers {
		layers = append(layers, l.Initializer)
	}
	md = append(md, [2]string{"onnxprune.layers", strings.Join(layers, ",")})
	return md
}
