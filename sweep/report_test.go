package sweep

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/internal/testshared"
)

// chromium renders page headless and returns the DOM it dumps and its
// log (console messages included); with shot it also takes a screenshot.
func chromium(t *testing.T, page, shot string) (dom, log string) {
	t.Helper()
	bin := os.Getenv("CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(bin); err != nil {
		testshared.Missing(t, "headless Chromium is absent (Debian's chromium): "+err.Error())
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
		"--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0", "--window-size=1200,2400"}
	runIt := func(extra ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append(append(append([]string{}, base...), "--user-data-dir="+t.TempDir()), extra...)
		cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, e.String())
		}
		return o.String(), e.String()
	}
	dom, log = runIt("--dump-dom")
	if shot != "" {
		_, l2 := runIt("--screenshot=" + shot)
		log += l2
	}
	return dom, log
}

// consoleErrors picks Chromium's console messages and uncaught errors out
// of its log.
func consoleErrors(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") {
			out = append(out, l)
		}
	}
	return out
}

// TestReportRenders: report.html of a small sweep with sensitivity and a
// plan fetches nothing, holds no script, and renders in headless Chromium
// with no console message, showing its six charts; the screenshot is a
// real picture. The console check itself is checked on a page that logs
// an error.
func TestReportRenders(t *testing.T) {
	dir := mnistCNN(t)
	needMNIST(t)
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := &Spec{Model: filepath.Join(dir, "model.onnx"), Limit: 300, Methods: []string{"global", "local"}, Amounts: []float64{0, 0.5, 0.9},
		Latency: []string{"go"}, LatencyRuns: 5}
	out, res := sweepDir(t, s, 0)
	ss := &Spec{Model: s.Model, Limit: 200, Methods: []string{"local"}, Amounts: []float64{0.5, 0.9}}
	r, err := NewRunner(ss)
	if err != nil {
		t.Fatal(err)
	}
	sens, err := RunSensitivity(context.Background(), out, r, SensitivityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := MakePlan(sens, PlanOptions{Target: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(out, "plan.json"), plan); err != nil {
		t.Fatal(err)
	}
	spec, _, err := Collect(out)
	if err != nil {
		t.Fatal(err)
	}
	page, err := WriteReport(out, spec, res)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"<script", "src=", "href=", "url(", "@import", "<link"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("report.html contains %q: it must be self-contained", bad)
		}
	}
	if urls := regexp.MustCompile(`https?://[^"' ]+`).FindAllString(html, -1); len(urls) > 0 {
		for _, u := range urls {
			if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
				t.Errorf("report.html names %s", u)
			}
		}
	}
	for _, want := range []string{"Memory of the dense model", "activations:", "Plan for sparsity 0.60", "/fc1/Gemm", "Per-layer pruning"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	dom, log := chromium(t, page, shot)
	if errs := consoleErrors(log); len(errs) > 0 {
		t.Errorf("console messages while rendering the report:\n%s", strings.Join(errs, "\n"))
	}
	if n := strings.Count(dom, "<svg"); n != 6 {
		t.Errorf("the rendered DOM has %d SVG charts, want 6 (2 curves, 2 sensitivity, 2 confusion)", n)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 7 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>12<<8|g>>12<<4|b>>12] = true
		}
	}
	if bounds.Dx() != 1200 || len(colours) < 20 {
		t.Errorf("screenshot %v with %d colours: not a rendered report", bounds, len(colours))
	}
	if p := os.Getenv("REPORT_SCREENSHOT"); p != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(p, b, 0o644)
	}

	// The checker catches a console error.
	badPage := filepath.Join(t.TempDir(), "bad.html")
	os.WriteFile(badPage, []byte(`<!DOCTYPE html><html><body><script>console.error("boom")</script></body></html>`), 0o644)
	if _, log := chromium(t, badPage, ""); len(consoleErrors(log)) == 0 {
		t.Errorf("a page calling console.error passed the check; chromium's log:\n%s", log)
	}
}
