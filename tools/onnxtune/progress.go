package onnxtune

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/train"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && cli.IsTerminal(f)
}

// progress is the training bar on a terminal: one bar per epoch with the
// running loss, accuracy, learning rate, images per second and time left.
// Off a terminal every method does nothing.
type progress struct {
	on            bool
	w             io.Writer
	p             *mpb.Progress
	bar           *mpb.Bar
	epochs, steps int
	last          train.StepInfo
	lossSum       float64
	epoch         int
}

func newProgress(w io.Writer, on bool, epochs, steps, batch int) *progress {
	pr := &progress{on: on, w: w, epochs: epochs, steps: steps, epoch: -1}
	if on {
		pr.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond))
	}
	return pr
}

func (pr *progress) step(s train.StepInfo) {
	if !pr.on {
		return
	}
	if s.Epoch != pr.epoch {
		pr.epoch, pr.lossSum = s.Epoch, 0
		name := fmt.Sprintf("epoch %d/%d ", s.Epoch+1, pr.epochs)
		pr.bar = pr.p.AddBar(int64(pr.steps),
			mpb.PrependDecorators(decor.Name(name), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				l := pr.last
				if l.Images == 0 {
					return ""
				}
				rate := float64(l.Images) / l.Elapsed.Seconds()
				return fmt.Sprintf(" loss %.4f acc %.2f%% lr %.3g %.0f img/s", pr.lossSum/float64(l.Step),
					100*float64(l.Correct)/float64(l.Images), l.LR, rate)
			}), decor.Name(" left "), decor.AverageETA(decor.ET_STYLE_GO)),
			mpb.BarRemoveOnComplete())
	}
	pr.lossSum += s.Loss
	pr.last = s
	pr.bar.Increment()
}

func (pr *progress) epochDone() {
	if pr.on && pr.bar != nil {
		pr.bar.SetTotal(-1, true)
		pr.bar.Wait()
	}
}

func (pr *progress) close() {
	if pr.on {
		if pr.bar != nil && !pr.bar.Completed() {
			pr.bar.Abort(true)
		}
		pr.p.Wait()
	}
}
