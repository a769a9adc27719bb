package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/onnx"
)

// confusionGrid is a confusion matrix as a heat map grid: z = log10(1+n)
// (the diagonal dwarfs the errors on a linear scale),
// row 0 (true class 0) at the top.
type confusionGrid [][]int

func (g confusionGrid) Dims() (c, r int)   { return len(g), len(g) }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }
func (g confusionGrid) Z(c, r int) float64 { return math.Log10(1 + float64(g[len(g)-1-r][c])) }

// ConfusionPlot draws a confusion matrix as a heat map with the counts
// written in the cells.
func ConfusionPlot(title string, m [][]int) (*plot.Plot, error) {
	k := len(m)
	if k == 0 {
		return nil, errors.New("sweep: empty confusion matrix")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return nil, err
	}
	maxZ := 0.0
	for _, row := range m {
		for _, v := range row {
			maxZ = max(maxZ, math.Log10(1+float64(v)))
		}
	}
	h := plotter.NewHeatMap(confusionGrid(m), pal)
	h.Min, h.Max = 0, max(maxZ, 1)
	p.Add(h)
	var xys plotter.XYs
	var labels []string
	var dark []bool
	for r, row := range m {
		for c, v := range row {
			if v == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(c), Y: float64(k - 1 - r)})
			labels = append(labels, fmt.Sprint(v))
			dark = append(dark, math.Log10(1+float64(v)) > 0.6*max(maxZ, 1))
		}
	}
	if len(xys) > 0 {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			if dark[i] {
				l.TextStyle[i].Color = color.White
			}
			l.TextStyle[i].Font.Size = vg.Points(7)
			l.TextStyle[i].XAlign = -0.5
			l.TextStyle[i].YAlign = -0.5
		}
		p.Add(l)
	}
	ticks := make([]plot.Tick, k)
	yticks := make([]plot.Tick, k)
	for i := range k {
		ticks[i] = plot.Tick{Value: float64(i), Label: fmt.Sprint(i)}
		yticks[i] = plot.Tick{Value: float64(k - 1 - i), Label: fmt.Sprint(i)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.ConstantTicks(yticks)
	return p, nil
}

// inlineSVG renders p as an SVG element for an HTML page.
func inlineSVG(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	// Scale with the page: keep the viewBox, drop the fixed size.
	s = strings.Replace(s, `width="`, `data-width="`, 1)
	s = strings.Replace(s, `height="`, `data-height="`, 1)
	return template.HTML(s), nil
}

// Chosen picks the "after" point of a report: among the first method's
// points without fine-tuning, the sparsest whose accuracy is within one
// point of the dense (amount 0) one; dense is that method's amount-0 point
// (nil when the sweep has none).
func Chosen(res *Results) (dense, after *Result) {
	if len(res.Methods) == 0 {
		return nil, nil
	}
	m := res.Methods[0]
	for _, p := range res.Points {
		if p.Method == m && !p.Finetuned && p.Amount == 0 {
			dense = p
		}
	}
	base := 0.0
	if dense != nil {
		base = dense.Accuracy
	} else {
		for _, p := range res.Points {
			base = max(base, p.Accuracy)
		}
	}
	for _, p := range res.Points {
		if p.Method != m || p.Finetuned || p.Accuracy < base-0.01 {
			continue
		}
		if after == nil || p.Sparsity > after.Sparsity {
			after = p
		}
	}
	return dense, after
}

type reportLatency struct {
	Backend       string
	Before, After float64
	Speedup       float64
}

type reportData struct {
	Title       string
	Model       string
	SHA         string
	Dataset     string
	Samples     int
	Points      int
	Memory      string
	MemoryNote  string
	Curves      []template.HTML
	Sensitivity []template.HTML
	Plan        *Plan
	Dense       *Result
	After       *Result
	Latency     []reportLatency
	Confusion   []template.HTML
	Results     *Results
	Pct         func(float64) string
}

// WriteReport writes dir/report.html: one self-contained page (inline SVG
// and CSS, nothing fetched) with the dense model's memory summary, the
// curves, the sensitivity charts and plan when dir has them, the chosen
// point's per-layer table, confusion matrices and latency before and after,
// and every point.
func WriteReport(dir string, s *Spec, res *Results) (string, error) {
	d := reportData{Title: "onnxsweep: " + filepath.Base(s.Model), Model: s.Model, SHA: s.ModelSHA256, Dataset: s.Dataset + " " + s.Split,
		Samples: res.Samples, Points: len(res.Points), Results: res,
		Pct: func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }}
	// Memory: onnxmem's summary of the dense model, when the file is here.
	if sum, err := HashFile(s.Model); err != nil || sum != s.ModelSHA256 {
		d.MemoryNote = fmt.Sprintf("the model %s is not on this machine (or changed), so its memory summary is left out", s.Model)
	} else if m, err := onnx.Load(s.Model); err != nil {
		d.MemoryNote = err.Error()
	} else if rep, err := memory.Analyze(m, memory.Options{}); err != nil {
		d.MemoryNote = err.Error()
	} else {
		top, _ := rep.TopLayers(0, memory.ByOrder)
		var b strings.Builder
		if err := rep.WriteText(&b, top, "layers in graph order:"); err != nil {
			return "", err
		}
		d.Memory = b.String()
	}
	const w, h = 16 * vg.Centimeter, 10 * vg.Centimeter
	acc, err := AccuracyPlot(res)
	if err != nil {
		return "", err
	}
	svg, err := inlineSVG(acc, w, h)
	if err != nil {
		return "", err
	}
	d.Curves = append(d.Curves, svg)
	for _, b := range res.Latency {
		lp, err := LatencyPlot(res, b)
		if err != nil {
			return "", err
		}
		if lp != nil {
			if svg, err = inlineSVG(lp, w, h); err != nil {
				return "", err
			}
			d.Curves = append(d.Curves, svg)
		}
	}
	var sens Sensitivity
	if err := readJSONFile(filepath.Join(dir, "sensitivity.json"), &sens); err == nil && len(sens.Units) > 0 {
		sp, err := SensitivityPlot(&sens)
		if err != nil {
			return "", err
		}
		bp, _, err := SensitivityBars(&sens, 0.5)
		if err != nil {
			return "", err
		}
		for _, p := range []*plot.Plot{sp, bp} {
			svg, err := inlineSVG(p, w, h)
			if err != nil {
				return "", err
			}
			d.Sensitivity = append(d.Sensitivity, svg)
		}
		var plan Plan
		if err := readJSONFile(filepath.Join(dir, "plan.json"), &plan); err == nil {
			d.Plan = &plan
		}
	}
	d.Dense, d.After = Chosen(res)
	for _, pt := range []*Result{d.Dense, d.After} {
		if pt == nil || len(pt.Confusion) == 0 {
			continue
		}
		title := fmt.Sprintf("%s %.2f: %.2f%%", pt.Method, pt.Amount, 100*pt.Accuracy)
		if pt == d.Dense {
			title = fmt.Sprintf("dense: %.2f%%", 100*pt.Accuracy)
		}
		cp, err := ConfusionPlot(title, pt.Confusion)
		if err != nil {
			return "", err
		}
		svg, err := inlineSVG(cp, 11*vg.Centimeter, 10*vg.Centimeter)
		if err != nil {
			return "", err
		}
		d.Confusion = append(d.Confusion, svg)
	}
	if d.Dense != nil && d.After != nil {
		for _, b := range res.Latency {
			l := reportLatency{Backend: b, Before: d.Dense.LatencyMs[b], After: d.After.LatencyMs[b]}
			if l.After > 0 {
				l.Speedup = l.Before / l.After
			}
			d.Latency = append(d.Latency, l)
		}
	}
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, d); err != nil {
		return "", fmt.Errorf("sweep: report: %w", err)
	}
	path := filepath.Join(dir, "report.html")
	if err := fsutil.WriteBytes(path, b.Bytes()); err != nil {
		return "", fmt.Errorf("sweep: %w", err)
	}
	return path, nil
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #d5d9de;padding-bottom:4px}
.meta{color:#56606b;font-size:13px;word-break:break-all}
.card{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:14px;margin:10px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px}
svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid #eceef1;text-align:right}th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}
pre{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;overflow-x:auto;margin:0}
.note{color:#8a5a00}
.kpi{display:flex;gap:12px;flex-wrap:wrap}.kpi div{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:10px 14px}
.kpi b{display:block;font-size:20px}
</style></head><body><main>
<h1>{{.Title}}</h1>
<div class="meta">{{.Model}} · sha256 {{.SHA}} · {{.Points}} points on {{.Samples}} {{.Dataset}} images</div>
{{with .After}}<div class="kpi" style="margin-top:14px">
<div>chosen point<b>{{.Method}} {{printf "%.2f" .Amount}}</b></div>
<div>accuracy<b>{{call $.Pct .Accuracy}}</b></div>
<div>sparsity<b>{{call $.Pct .Sparsity}}</b></div>
<div>non-zero parameters<b>{{.NonzeroParams}}</b></div>
</div>{{end}}

<h2>Accuracy against sparsity and latency</h2>
<div class="grid">{{range .Curves}}<div class="card">{{.}}</div>{{end}}</div>

{{if .Sensitivity}}<h2>Layer sensitivity</h2>
<div class="grid">{{range .Sensitivity}}<div class="card">{{.}}</div>{{end}}</div>
{{with .Plan}}<div class="card"><b>Plan for sparsity {{printf "%.2f" .Target}}</b> ({{.Cost}} cost, predicted {{printf "%.4g" .PredictedCost}})
<table><tr><th>unit</th><th>weights</th><th>amount</th><th>predicted cost</th></tr>
{{range .Units}}<tr><td>{{.Name}}</td><td>{{.Params}}</td><td>{{printf "%.4f" .Amount}}</td><td>{{printf "%.4g" .PredictedCost}}</td></tr>{{end}}
</table></div>{{end}}{{end}}

{{if .After}}<h2>Before and after: dense against {{.After.Method}} {{printf "%.2f" .After.Amount}}</h2>
<p>The chosen point is the sparsest of the first method, without fine-tuning, within one point of the dense accuracy.</p>
<div class="card"><table>
<tr><th></th><th>accuracy</th><th>top-5</th><th>loss</th><th>sparsity</th><th>parameters</th><th>non-zero</th><th>MACs</th><th>file bytes</th></tr>
{{with .Dense}}<tr><td>dense</td><td>{{call $.Pct .Accuracy}}</td><td>{{call $.Pct .Top5}}</td><td>{{printf "%.4f" .Loss}}</td><td>{{call $.Pct .Sparsity}}</td><td>{{.Params}}</td><td>{{.NonzeroParams}}</td><td>{{.MACs}}</td><td>{{.FileBytes}}</td></tr>{{end}}
{{with .After}}<tr><td>pruned</td><td>{{call $.Pct .Accuracy}}</td><td>{{call $.Pct .Top5}}</td><td>{{printf "%.4f" .Loss}}</td><td>{{call $.Pct .Sparsity}}</td><td>{{.Params}}</td><td>{{.NonzeroParams}}</td><td>{{.MACs}}</td><td>{{.FileBytes}}</td></tr>{{end}}
</table></div>
{{if .Latency}}<div class="card"><table><tr><th>latency (median, ms)</th><th>dense</th><th>pruned</th><th>speed-up</th></tr>
{{range .Latency}}<tr><td>{{.Backend}}</td><td>{{printf "%.3f" .Before}}</td><td>{{printf "%.3f" .After}}</td><td>{{printf "%.2f×" .Speedup}}</td></tr>{{end}}
</table></div>{{end}}
<div class="grid">{{range .Confusion}}<div class="card">{{.}}</div>{{end}}</div>
<div class="card"><b>Per-layer pruning of the chosen point</b>
<table><tr><th>layer</th><th>op</th><th>weights</th><th>zeros</th><th>sparsity</th><th>channels</th><th>MACs before</th><th>MACs after</th></tr>
{{range .After.Layers}}<tr><td>{{.Name}}</td><td>{{.OpType}}</td><td>{{.Params}}</td><td>{{.Zeros}}</td><td>{{call $.Pct .Sparsity}}</td><td>{{.ChannelsAfter}}/{{.ChannelsBefore}}</td><td>{{.MACsBefore}}</td><td>{{.MACsAfter}}</td></tr>{{end}}
</table></div>{{end}}

<h2>Memory of the dense model</h2>
<div class="card">{{if .Memory}}<pre>{{.Memory}}</pre>{{else}}<p class="note">{{.MemoryNote}}</p>{{end}}</div>

<h2>Every point</h2>
<div class="card"><table>
<tr><th>method</th><th>amount</th><th>fine-tuned</th><th>accuracy</th><th>top-5</th><th>loss</th><th>sparsity</th><th>non-zero</th><th>MACs</th><th>file bytes</th>{{range .Results.Latency}}<th>{{.}} ms</th>{{end}}</tr>
{{range .Results.Points}}{{$p := .}}<tr><td>{{.Method}}</td><td>{{printf "%.2f" .Amount}}</td><td>{{if .Finetuned}}yes{{else}}no{{end}}</td><td>{{call $.Pct .Accuracy}}</td><td>{{call $.Pct .Top5}}</td><td>{{printf "%.4f" .Loss}}</td><td>{{call $.Pct .Sparsity}}</td><td>{{.NonzeroParams}}</td><td>{{.MACs}}</td><td>{{.FileBytes}}</td>{{range $.Results.Latency}}<td>{{printf "%.3f" (index $p.LatencyMs .)}}</td>{{end}}</tr>
{{end}}</table></div>
<p class="meta">Written by onnxsweep merge --report. Self-contained: inline SVG and CSS, no script, nothing fetched.</p>
</main></body></html>
`))
