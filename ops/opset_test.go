package ops

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
)

// TestOpsetRanges: every ONNX node test of an implemented operator imports
// an opset inside the operator's range (the tests carry the opset of the
// version they exercise), and versions outside the range are refused with
// a message naming the operator and the versions.
func TestOpsetRanges(t *testing.T) {
	f, err := os.Open(filepath.Join(testshared.Dir(t), "onnx-node-tests", "manifest.tsv"))
	if err != nil {
		testshared.Missing(t, err.Error())
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header: test_name op_type opset ...
	checked := 0
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 3 {
			continue
		}
		op := Lookup("", col[1])
		if op == nil {
			continue
		}
		v, err := strconv.Atoi(col[2])
		if err != nil {
			t.Fatalf("manifest line %q", sc.Text())
		}
		if err := op.CheckOpset(v); err != nil {
			t.Errorf("%s: %v", col[0], err)
		}
		checked++
	}
	if checked < 300 {
		t.Errorf("only %d node tests checked", checked)
	}
	for _, c := range []struct {
		op    string
		opset int
		want  string
	}{
		{"Conv", 99, "Conv at opset 99 is not supported: this implementation follows Conv-1 to opset 25"},
		{"Add", 6, "Add at opset 6 is not supported: this implementation follows Add-7 to opset 25"},
		{"Gelu", 19, "Gelu at opset 19 is not supported"},
		{"Relu", 0, "imports no opset"},
	} {
		err := Lookup("", c.op).CheckOpset(c.opset)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s-%d: %v, want %q", c.op, c.opset, err, c.want)
		}
	}
	for _, typ := range Types() {
		op := Lookup("", typ)
		if op.MaxOpset != 0 {
			continue // an operator ONNX removed (Upsample, deprecated at 10)
		}
		if op.CheckOpset(LatestOpset) != nil || op.CheckOpset(LatestOpset+1) == nil {
			t.Errorf("%s: range %d..%d does not end at LatestOpset", typ, op.MinOpset, op.MaxOpset)
		}
	}
}

// TestChannelRules: the rules the pruner follows channels by, checked on
// the operators' definitions at 0: f(0) = 0 for ZeroToZero, f(0) ≠ 0 for
// ZeroToNonzero (unary reference formulas of activation_test.go).
func TestChannelRules(t *testing.T) {
	for _, typ := range Types() {
		op := Lookup("", typ)
		ref := unaryRefs[typ]
		if op.Channels == ChannelsUnknown || ref == nil {
			continue
		}
		at0 := ref(0)
		if (op.Channels == ChannelsZeroToZero) != (at0 == 0) {
			t.Errorf("%s: f(0) = %v, rule %d", typ, at0, op.Channels)
		}
	}
	for _, typ := range []string{"Relu", "MaxPool", "GlobalAveragePool", "Identity", "Dropout"} {
		if Lookup("", typ).Channels != ChannelsZeroToZero {
			t.Errorf("%s does not keep a zero channel zero", typ)
		}
	}
	for _, typ := range []string{"Conv", "Gemm", "Softmax", "Reshape", "Transpose"} {
		if Lookup("", typ).Channels != ChannelsUnknown {
			t.Errorf("%s claims a channel rule", typ)
		}
	}
}
