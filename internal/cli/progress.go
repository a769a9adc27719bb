package cli

import (
	"io"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Progress draws one progress bar at a time on a terminal (mpb): a name, the
// bar, done/total and a status text. It draws nothing when its writer is not
// a terminal, so piped and redirected output stay clean; a nil *Progress is
// quiet too. It is safe for use from one goroutine at a time.
type Progress struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	total  int
	mu     sync.Mutex
	status string
}

// NewProgress returns a progress display on w, quiet unless w is a terminal.
func NewProgress(w io.Writer) *Progress {
	if !IsTerminal(w) {
		return nil
	}
	return &Progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(30), mpb.WithAutoRefresh())}
}

// Start ends the current bar, if any, and starts one named name with total
// steps (0 for a bar that only shows its status).
func (p *Progress) Start(name string, total int) {
	if p == nil {
		return
	}
	p.end()
	p.SetStatus("")
	// mpb lets a bar's total change only when it starts unknown (0).
	p.bar = p.p.AddBar(0,
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.status
		})),
		mpb.BarRemoveOnComplete(),
	)
	p.SetTotal(total)
}

// SetCurrent sets the steps done, capped below the total: the bar stays
// until Start or Done.
func (p *Progress) SetCurrent(n int) {
	if p == nil || p.bar == nil {
		return
	}
	if p.total > 0 && n >= p.total {
		n = p.total - 1
	}
	p.bar.SetCurrent(int64(max(n, 0)))
}

// SetTotal changes the number of steps (0: unknown).
func (p *Progress) SetTotal(n int) {
	if p == nil || p.bar == nil || n <= 0 || n == p.total {
		return
	}
	p.total = n
	p.bar.SetTotal(int64(n), false)
}

// Increment adds one step.
func (p *Progress) Increment() {
	if p == nil || p.bar == nil {
		return
	}
	p.SetCurrent(int(p.bar.Current()) + 1)
}

// SetStatus sets the text after the bar ("acc 98.50%", "12 runs, last 3.1 ms").
func (p *Progress) SetStatus(s string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
}

func (p *Progress) end() {
	p.total = 0
	if p.bar != nil {
		p.bar.Abort(true)
		p.bar.Wait()
		p.bar = nil
	}
}

// Done removes the bar and stops drawing; the terminal line is left empty.
// Call it before printing results.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.end()
	p.p.Wait()
}
