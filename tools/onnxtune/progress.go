package onnxtune

import (
	"fmt"
	"io"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/train"
)

// progress is the training bar on a terminal (cli.Progress): one bar per
// epoch with the running loss, accuracy, learning rate, images per second
// and time left. Off a terminal, or with --quiet, it draws nothing.
type progress struct {
	w       io.Writer
	on      bool
	p       *cli.Progress
	epochs  int
	lossSum float64
}

func newProgress(w io.Writer, on bool, epochs int) *progress {
	return &progress{w: w, on: on, epochs: epochs}
}

func (pr *progress) step(s train.StepInfo) {
	if !pr.on {
		return
	}
	if pr.p == nil {
		if pr.p = cli.NewProgress(pr.w); pr.p == nil {
			pr.on = false // not a terminal
			return
		}
		pr.lossSum = 0
		pr.p.Start(fmt.Sprintf("epoch %d/%d", s.Epoch+1, pr.epochs), s.Steps)
	}
	pr.lossSum += s.Loss
	rate := float64(s.Images) / s.Elapsed.Seconds()
	left := float64(s.Steps-s.Step) * s.Elapsed.Seconds() / float64(s.Step)
	pr.p.SetStatus(fmt.Sprintf("loss %.4f acc %.2f%% lr %.3g %.0f img/s %.0fs left", pr.lossSum/float64(s.Step),
		100*float64(s.Correct)/float64(max(s.Images, 1)), s.LR, rate, left))
	pr.p.SetCurrent(s.Step)
}

// done removes the bar of the epoch (before its line of results is printed).
func (pr *progress) done() {
	pr.p.Done()
	pr.p = nil
}
