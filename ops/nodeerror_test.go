package ops

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// TestNodeErrorTyped: an operator's error is an *onnx.NodeError naming the
// node once, even when it wraps an attribute error that names the node
// too, and the attribute error stays reachable with errors.As; WrapNode
// adds no second name.
func TestNodeErrorTyped(t *testing.T) {
	np := &onnxpb.NodeProto{Name: "c1", OpType: "Conv", Attribute: []*onnxpb.AttributeProto{
		{Name: "group", Type: onnxpb.AttributeProto_STRING, S: []byte("x")}}}
	n := NewNode(np, 13)
	_, attrErr := n.Attrs.Int("group", 1)
	if attrErr == nil {
		t.Fatal("a string group read as an int")
	}
	err := n.Errorf("bad group: %w", attrErr)
	var ne *onnx.NodeError
	if !errors.As(err, &ne) || ne.Name != "c1" || ne.OpType != "Conv" {
		t.Fatalf("%v is not a NodeError of c1", err)
	}
	var fe *onnx.FormatError
	if !errors.As(err, &fe) {
		t.Errorf("%v lost the attribute error", err)
	}
	msg := err.Error()
	if strings.Count(msg, `node "c1"`) != 1 || !strings.HasPrefix(msg, `node "c1" (Conv): bad group: `) {
		t.Errorf("message %q names the node other than once, first", msg)
	}
	if w := onnx.WrapNode(np, 4, err); w != err {
		t.Errorf("WrapNode renamed: %v", w)
	}
	if w := onnx.WrapNode(&onnxpb.NodeProto{OpType: "Relu"}, 4, errors.New("boom")); w.Error() != "node #4 (Relu): boom" {
		t.Errorf("WrapNode of an unnamed node: %q", w)
	}
}
