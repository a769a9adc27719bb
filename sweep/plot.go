package sweep

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/onnxprune/onnxprune/internal/fsutil"
)

// palette is Okabe and Ito's colour-blind-safe set.
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255},
}

// series groups points into one line per method and fine-tuning.
type series struct {
	label string
	pts   []*Result
}

func seriesOf(res *Results) []series {
	var out []series
	idx := map[string]int{}
	for _, p := range res.Points {
		label := p.Method
		if p.Finetuned {
			label += ", fine-tuned"
		}
		i, ok := idx[label]
		if !ok {
			i = len(out)
			idx[label] = i
			out = append(out, series{label: label})
		}
		out[i].pts = append(out[i].pts, p)
	}
	return out
}

// line draws one series; x and y pick the coordinates; with dotsOnly the
// points are not joined (when x is measured, not swept).
func line(p *plot.Plot, i int, s series, x, y func(*Result) float64, dotsOnly ...bool) error {
	pts := make(plotter.XYs, 0, len(s.pts))
	for _, r := range s.pts {
		pts = append(pts, plotter.XY{X: x(r), Y: y(r)})
	}
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	c := palette[i%len(palette)]
	l.Color, sc.Color = c, c
	l.Width = vg.Points(1.5)
	sc.Shape = draw.CircleGlyph{}
	sc.Radius = vg.Points(2.5)
	for j := range s.pts {
		if s.pts[j].Finetuned {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			break
		}
	}
	if len(dotsOnly) > 0 && dotsOnly[0] {
		if s.pts[0].Finetuned {
			sc.Shape = draw.RingGlyph{}
		}
		p.Add(sc)
		p.Legend.Add(s.label, sc)
		return nil
	}
	p.Add(l, sc)
	p.Legend.Add(s.label, l, sc)
	return nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	p.Legend.Left = true
	return p
}

// AccuracyPlot is accuracy (%) against sparsity (%), one line per method
// (dashed when fine-tuned).
func AccuracyPlot(res *Results) (*plot.Plot, error) {
	p := newPlot("Accuracy against sparsity", "sparsity of the pruned weights (%)", fmt.Sprintf("top-1 accuracy on %d %s images (%%)", res.Samples, res.Dataset))
	for i, s := range seriesOf(res) {
		if err := line(p, i, s, func(r *Result) float64 { return 100 * r.Sparsity }, func(r *Result) float64 { return 100 * r.Accuracy }); err != nil {
			return nil, err
		}
	}
	p.Y.Max = 100
	return p, nil
}

// LatencyPlot is accuracy against the latency on backend; nil when no
// point has it.
func LatencyPlot(res *Results, backend string) (*plot.Plot, error) {
	p := newPlot("Accuracy against latency ("+backend+")", backend+" latency at the sweep's latency batch (ms, median)", "top-1 accuracy (%)")
	any := false
	for i, s := range seriesOf(res) {
		if _, ok := s.pts[0].LatencyMs[backend]; !ok {
			continue
		}
		any = true
		if err := line(p, i, s, func(r *Result) float64 { return r.LatencyMs[backend] }, func(r *Result) float64 { return 100 * r.Accuracy }, true); err != nil {
			return nil, err
		}
	}
	if !any {
		return nil, nil
	}
	p.Legend.Top = false
	return p, nil
}

// PlotWidth and PlotHeight are the size of saved plots.
const PlotWidth, PlotHeight = 16 * vg.Centimeter, 10 * vg.Centimeter

// Render encodes p as "png" or "svg".
func Render(p *plot.Plot, format string) ([]byte, error) {
	wt, err := p.WriterTo(PlotWidth, PlotHeight, format)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func savePlot(path string, p *plot.Plot, format string) error {
	b, err := Render(p, format)
	if err != nil {
		return fmt.Errorf("sweep: plot %s: %w", path, err)
	}
	return fsutil.WriteFile(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// WritePlots writes accuracy.png/.svg and latency_<backend>.png/.svg in
// dir and returns their paths.
func WritePlots(dir string, res *Results) ([]string, error) {
	type named struct {
		name string
		p    *plot.Plot
	}
	var ps []named
	acc, err := AccuracyPlot(res)
	if err != nil {
		return nil, err
	}
	ps = append(ps, named{"accuracy", acc})
	for _, b := range res.Latency {
		lp, err := LatencyPlot(res, b)
		if err != nil {
			return nil, err
		}
		if lp != nil {
			ps = append(ps, named{"latency_" + b, lp})
		}
	}
	var files []string
	for _, n := range ps {
		for _, f := range []string{"png", "svg"} {
			path := filepath.Join(dir, n.name+"."+f)
			if err := savePlot(path, n.p, f); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// SensitivityPlot is each unit's accuracy against its amount, pruned alone.
func SensitivityPlot(s *Sensitivity) (*plot.Plot, error) {
	p := newPlot("Sensitivity: one layer pruned at a time ("+s.Method+")", "amount pruned from the layer alone", fmt.Sprintf("top-1 accuracy on %d images (%%)", s.Samples))
	for u, un := range s.Units {
		pts := plotter.XYs{{X: 0, Y: 100 * s.DenseAccuracy}}
		for _, c := range s.Cells[u] {
			if !c.Stopped {
				pts = append(pts, plotter.XY{X: c.Amount, Y: 100 * c.Accuracy})
			}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		c := palette[u%len(palette)]
		l.Color, sc.Color = c, c
		l.Width = vg.Points(1.5)
		sc.Radius = vg.Points(2)
		if u >= len(palette) {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l, sc)
		p.Legend.Add(un.Name, l, sc)
	}
	p.Y.Max = 100
	return p, nil
}

// SensitivityBars is each unit's accuracy drop (points) when pruned alone
// at the level closest to level.
func SensitivityBars(s *Sensitivity, level float64) (*plot.Plot, float64, error) {
	if len(s.Levels) == 0 {
		return nil, 0, fmt.Errorf("sweep: no levels")
	}
	li := 0
	for i, a := range s.Levels {
		if math.Abs(a-level) < math.Abs(s.Levels[li]-level) {
			li = i
		}
	}
	at := s.Levels[li]
	vals := make(plotter.Values, len(s.Units))
	var names []string
	for u, un := range s.Units {
		c := s.Cells[u][li]
		if c.Stopped {
			// Past the stop: at least the drop of the last measured level.
			for j := li; j >= 0; j-- {
				if !s.Cells[u][j].Stopped {
					c = s.Cells[u][j]
					break
				}
			}
		}
		vals[u] = 100 * (s.DenseAccuracy - c.Accuracy)
		names = append(names, un.Name)
	}
	p := newPlot(fmt.Sprintf("Accuracy drop with one layer pruned by %.0f%%", 100*at), "", "accuracy drop (points)")
	bars, err := plotter.NewBarChart(vals, vg.Points(18))
	if err != nil {
		return nil, 0, err
	}
	bars.Color = palette[0]
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	return p, at, nil
}

// WriteSensitivityPlots writes sensitivity.png/.svg and
// sensitivity_bars.png/.svg in dir.
func WriteSensitivityPlots(dir string, s *Sensitivity, level float64) ([]string, error) {
	lp, err := SensitivityPlot(s)
	if err != nil {
		return nil, err
	}
	bp, _, err := SensitivityBars(s, level)
	if err != nil {
		return nil, err
	}
	var files []string
	for name, p := range map[string]*plot.Plot{"sensitivity": lp, "sensitivity_bars": bp} {
		for _, f := range []string{"png", "svg"} {
			path := filepath.Join(dir, name+"."+f)
			if err := savePlot(path, p, f); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
	}
	sort.Strings(files)
	return files, nil
}
