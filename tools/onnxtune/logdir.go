package onnxtune

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onnxprune/onnxprune/train"
)

// metricsLog writes --log-dir's metrics.jsonl: one JSON object a line, a
// "step" record every few steps and an "epoch" record after every epoch
// with the process's resident memory and CPU time. Lines are flushed as
// they are written, so a killed run keeps what it logged.
type metricsLog struct {
	f     *os.File
	w     *bufio.Writer
	every int
	err   error
}

func openMetricsLog(dir string, every int) (*metricsLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &metricsLog{f: f, w: bufio.NewWriter(f), every: max(every, 1)}, nil
}

func (l *metricsLog) write(v any) {
	if l == nil || l.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = l.w.Write(b)
	}
	if err == nil {
		err = l.w.Flush()
	}
	l.err = err
}

type stepRecord struct {
	Kind       string  `json:"kind"`
	Time       string  `json:"time"`
	Epoch      int     `json:"epoch"`
	Step       int     `json:"step"`
	GlobalStep int     `json:"global_step"`
	Loss       float64 `json:"loss"`
	LR         float64 `json:"lr"`
}

type epochRecord struct {
	Kind string `json:"kind"`
	Time string `json:"time"`
	train.EpochResult
	RSSBytes   int64   `json:"rss_bytes"`
	PeakRSS    int64   `json:"peak_rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

func (l *metricsLog) step(s train.StepInfo) {
	if l != nil && (s.GlobalStep%l.every == 0 || s.Step == s.Steps) {
		l.write(stepRecord{Kind: "step", Time: time.Now().UTC().Format(time.RFC3339Nano), Epoch: s.Epoch, Step: s.Step,
			GlobalStep: s.GlobalStep, Loss: s.Loss, LR: s.LR})
	}
}

func (l *metricsLog) epoch(r train.EpochResult) {
	if l == nil {
		return
	}
	rec := epochRecord{Kind: "epoch", Time: time.Now().UTC().Format(time.RFC3339Nano), EpochResult: r}
	rec.RSSBytes, rec.PeakRSS = residentMemory()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		rec.CPUSeconds = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	l.write(rec)
}

func (l *metricsLog) close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if l.err == nil {
		l.err = err
	}
	if l.err != nil {
		return fmt.Errorf("--log-dir: %w", l.err)
	}
	return nil
}

// residentMemory reads VmRSS and VmHWM from /proc/self/status (0 where
// there is no such file).
func residentMemory() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
	}
	return rss, peak
}
