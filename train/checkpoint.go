package train

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/onnx"
)

// Checkpoint files in a checkpoint folder.
const (
	CheckpointModel = "model.onnx" // weights and BatchNorm statistics, as ONNX
	CheckpointState = "state.gob"  // the rest: position, optimizer, masks, history
	checkpointKey   = "onnxtune.checkpoint"
)

// Checkpoint is where a Fit stopped: the next epoch and step, the running
// sums of the epoch in flight, the history and best so far, the masks and
// the optimizer's state. The weights are in the folder's model.onnx. Data
// order and schedule position follow from (epoch, step): loaders shuffle by
// (seed, epoch), schedules are functions of the position.
type Checkpoint struct {
	Epoch, Step     int // the next batch to train: batch Step of epoch Epoch
	LossSum         float64
	Images, Correct int
	Results         []EpochResult
	BestEpoch       int
	BestValAccuracy float64
	BestLoss        float64
	Masks           map[string][]float32
	Optimizer       OptimizerState
	// LR and Momentum are the optimizer's last hyper-parameters (what a
	// run without a schedule continues with).
	LR, Momentum float64
	// RandStates are the random streams of Dropout and the like.
	RandStates [][]byte
}

func (c *Checkpoint) tag() string { return strconv.Itoa(c.Epoch) + ":" + strconv.Itoa(c.Step) }

// WriteCheckpoint writes s's weights and c into dir (created if needed),
// each file atomically; the model carries c's position in its metadata so
// that a crash between the two writes is detected when loading.
func WriteCheckpoint(dir string, s *Session, opt Optimizer, c *Checkpoint) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.Masks = map[string][]float32{}
	for _, p := range s.params {
		if p.Mask != nil {
			c.Masks[p.Name] = p.Mask
		}
	}
	if st, ok := opt.(Stateful); ok {
		c.Optimizer = st.State()
	}
	c.LR, c.Momentum = currentHyper(opt)
	rs, err := s.RandStates()
	if err != nil {
		return err
	}
	c.RandStates = rs
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("train: encode checkpoint: %w", err)
	}
	if err := s.WriteBack(); err != nil {
		return err
	}
	s.Model.SetMetadata(checkpointKey, c.tag())
	defer deleteMetadata(s.Model, checkpointKey)
	if err := s.Model.Save(filepath.Join(dir, CheckpointModel), onnx.SaveOptions{}); err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(dir, CheckpointState), func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

func deleteMetadata(m *onnx.Model, key string) {
	props := m.Proto.MetadataProps[:0]
	for _, p := range m.Proto.MetadataProps {
		if p.GetKey() != key {
			props = append(props, p)
		}
	}
	m.Proto.MetadataProps = props
}

// ErrNoCheckpoint is returned by LoadCheckpoint for a folder without one.
var ErrNoCheckpoint = errors.New("no checkpoint")

// LoadCheckpoint reads a checkpoint folder: the model to build the session
// from, and the state to pass as FitOptions.Resume.
func LoadCheckpoint(dir string) (*onnx.Model, *Checkpoint, error) {
	b, err := os.ReadFile(filepath.Join(dir, CheckpointState))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("train: %s: %w (no %s)", dir, ErrNoCheckpoint, CheckpointState)
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := decodeState(b)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %s: %w", filepath.Join(dir, CheckpointState), err)
	}
	m, err := onnx.Load(filepath.Join(dir, CheckpointModel))
	if err != nil {
		return nil, nil, err
	}
	if tag, _ := m.Metadata(checkpointKey); tag != c.tag() {
		return nil, nil, fmt.Errorf("train: %s: the model is of position %q, the state of %q (interrupted while writing?)", dir, tag, c.tag())
	}
	deleteMetadata(m, checkpointKey)
	return m, c, nil
}

// decodeState decodes state.gob and checks what it can without the model:
// positions and counts are not negative.
func decodeState(b []byte) (*Checkpoint, error) {
	c := &Checkpoint{}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(c); err != nil {
		return nil, err
	}
	if c.Epoch < 0 || c.Step < 0 || c.Images < 0 || c.Correct < 0 || c.Correct > c.Images {
		return nil, fmt.Errorf("a position or count out of range (epoch %d, step %d, %d of %d correct)", c.Epoch, c.Step, c.Correct, c.Images)
	}
	return c, nil
}

// restore puts a checkpoint's masks and optimizer state into s and opt.
func (c *Checkpoint) restore(s *Session, opt Scheduled) error {
	for name, mask := range c.Masks {
		p := s.byName[name]
		if p == nil || len(mask) != p.Value.Len() {
			return fmt.Errorf("train: checkpoint mask of %q does not fit the model", name)
		}
		p.Mask = append([]float32(nil), mask...)
		p.applyMask()
	}
	if c.Optimizer.Kind != "" {
		st, ok := opt.(Stateful)
		if !ok {
			return fmt.Errorf("train: the optimizer cannot take the checkpoint's %s state", c.Optimizer.Kind)
		}
		if err := st.SetState(s.params, c.Optimizer); err != nil {
			return err
		}
	}
	opt.SetLR(c.LR)
	opt.SetMomentum(c.Momentum)
	return s.SetRandStates(c.RandStates)
}

func currentHyper(o Optimizer) (lr, momentum float64) {
	switch o := o.(type) {
	case *SGD:
		return o.LR, o.Momentum
	case *Adam:
		return o.LR, o.Beta1
	}
	return 0, 0
}
