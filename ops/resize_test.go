package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// resizeX is the input of the PyTorch references below:
// x = (arange(12).reshape(1,1,3,4)·0.37) mod 1.3 − 0.4.
var resizeX = []float32{-0.4, -0.03, 0.34, 0.71, -0.22, 0.15, 0.52, 0.89, -0.04, 0.33, 0.7, -0.23}

// TestResizeTorch checks modes the ONNX node tests leave out against
// torch.nn.functional.interpolate (PyTorch 1.13, printed to 6 decimals):
// bicubic (cubic, A = −0.75, half_pixel or align_corners), antialiased
// bilinear (torch's antialias drops the taps outside the image and
// renormalises, as PIL does: ONNX's antialias with exclude_outside = 1),
// and nearest at scale 2 through Upsample-7, Upsample-9 and Resize-10.
func TestResizeTorch(t *testing.T) {
	x := tf32([]int{1, 1, 3, 4}, resizeX...)
	sizes := func(h, w int64) *tensor.Tensor { return ti64s(1, 1, h, w) }
	empty := tensor.New(tensor.Float32, 0)
	cases := []struct {
		name  string
		opset int
		op    string
		attrs []*onnxpb.AttributeProto
		in    []*tensor.Tensor
		want  []float32
		shape []int
	}{
		{"bicubic", 13, "Resize", []*onnxpb.AttributeProto{attrString("mode", "cubic")}, []*tensor.Tensor{x, empty, empty, sizes(5, 7)},
			[]float32{-0.45399, -0.313959, -0.085541, 0.13772, 0.360981, 0.589399, 0.72943, -0.37983, -0.239799, -0.011381, 0.203105, 0.440496, 0.725265, 0.906477, -0.25671, -0.116679, 0.111739, 0.335, 0.558261, 0.786679, 0.92671, -0.13359, 0.006441, 0.234859, 0.532708, 0.63586, 0.385295, 0.175294, -0.05943, 0.080601, 0.309019, 0.665855, 0.67402, 0.044651, -0.442173},
			[]int{1, 1, 5, 7}},
		{"bicubic align_corners", 13, "Resize", []*onnxpb.AttributeProto{attrString("mode", "cubic"), attrString("coordinate_transformation_mode", "align_corners")}, []*tensor.Tensor{x, empty, empty, sizes(5, 7)},
			[]float32{-0.4, -0.249688, -0.03, 0.155, 0.34, 0.559687, 0.71, -0.326875, -0.176562, 0.043125, 0.216699, 0.413125, 0.69375, 0.905, -0.22, -0.069687, 0.15, 0.335, 0.52, 0.739688, 0.89, -0.113125, 0.037188, 0.256875, 0.502813, 0.626875, 0.521563, 0.346875, -0.04, 0.110313, 0.33, 0.636875, 0.7, 0.269688, -0.23},
			[]int{1, 1, 5, 7}},
		{"bilinear antialias", 18, "Resize", []*onnxpb.AttributeProto{attrString("mode", "linear"), attrInt("antialias", 1), attrInt("exclude_outside", 1)}, []*tensor.Tensor{x, nil, nil, sizes(2, 3)},
			[]float32{-0.2215, 0.2225, 0.6665, 0.0035, 0.4475, 0.32275}, []int{1, 1, 2, 3}},
		{"nearest x2 Upsample-9", 9, "Upsample", nil, []*tensor.Tensor{x, tf32([]int{4}, 1, 1, 2, 2)}, nearest2, []int{1, 1, 6, 8}},
		{"nearest x2 Upsample-7", 7, "Upsample", []*onnxpb.AttributeProto{attrFloats("scales", 1, 1, 2, 2)}, []*tensor.Tensor{x}, nearest2, []int{1, 1, 6, 8}},
		{"nearest x2 Resize-10", 10, "Resize", nil, []*tensor.Tensor{x, tf32([]int{4}, 1, 1, 2, 2)}, nearest2, []int{1, 1, 6, 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := opTest{op: c.op, opset: c.opset, attrs: c.attrs, inputs: c.in,
				want: []*tensor.Tensor{tf32(c.shape, c.want...)}, rtol: 1e-5, atol: 2e-6}
			runOpTest(t, tc)
			gradCheck(t, tc, 0, 2e-3)
		})
	}
}

var nearest2 = []float32{-0.4, -0.4, -0.03, -0.03, 0.34, 0.34, 0.71, 0.71, -0.4, -0.4, -0.03, -0.03, 0.34, 0.34, 0.71, 0.71, -0.22, -0.22, 0.15, 0.15, 0.52, 0.52, 0.89, 0.89, -0.22, -0.22, 0.15, 0.15, 0.52, 0.52, 0.89, 0.89, -0.04, -0.04, 0.33, 0.33, 0.7, 0.7, -0.23, -0.23, -0.04, -0.04, 0.33, 0.33, 0.7, 0.7, -0.23, -0.23}

// TestResizeBackward checks the gradients of the modes by finite differences,
// tf_crop_and_resize's extrapolated outputs included (they get none).
func TestResizeBackward(t *testing.T) {
	x := trand(7, 1, 2, 4, 5)
	for _, c := range []struct {
		name  string
		attrs []*onnxpb.AttributeProto
		in    []*tensor.Tensor
	}{
		{"linear down", []*onnxpb.AttributeProto{attrString("mode", "linear")}, []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 0.6, 0.5)}},
		{"cubic exclude_outside", []*onnxpb.AttributeProto{attrString("mode", "cubic"), attrInt("exclude_outside", 1)}, []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 1.5, 2)}},
		{"nearest asymmetric", []*onnxpb.AttributeProto{attrString("coordinate_transformation_mode", "asymmetric")}, []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 2, 3)}},
		{"tf_crop_and_resize", []*onnxpb.AttributeProto{attrString("mode", "linear"), attrString("coordinate_transformation_mode", "tf_crop_and_resize"), attrFloat("extrapolation_value", 10)},
			[]*tensor.Tensor{x, tf32([]int{8}, 0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3), nil, ti64s(1, 2, 3, 4)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			gradCheck(t, opTest{op: "Resize", opset: 13, attrs: c.attrs, inputs: c.in}, 0, 2e-3)
		})
	}
}

func TestResizeErrors(t *testing.T) {
	x := trand(1, 1, 1, 4, 4)
	for _, tc := range []opTest{
		{name: "both", op: "Resize", inputs: []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 2, 2), ti64s(1, 1, 8, 8)}, err: "both scales and sizes"},
		{name: "neither", op: "Resize", inputs: []*tensor.Tensor{x}, err: "needs scales or sizes"},
		{name: "scale count", op: "Resize", inputs: []*tensor.Tensor{x, nil, tf32([]int{2}, 2, 2)}, err: "scales has 2 values for 4 axes"},
		{name: "zero scale", op: "Resize", inputs: []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 0, 2)}, err: "not positive"},
		{name: "mode", op: "Resize", attrs: []*onnxpb.AttributeProto{attrString("mode", "area")}, inputs: []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 2, 2)}, err: "unknown mode"},
		{name: "coordinate mode", op: "Resize", attrs: []*onnxpb.AttributeProto{attrString("coordinate_transformation_mode", "centre")}, inputs: []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 2, 2)}, err: "unknown coordinate_transformation_mode"},
		{name: "crop without roi", op: "Resize", attrs: []*onnxpb.AttributeProto{attrString("coordinate_transformation_mode", "tf_crop_and_resize")}, inputs: []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 2, 2)}, err: "needs roi"},
		{name: "empty output", op: "Resize", inputs: []*tensor.Tensor{x, nil, tf32([]int{4}, 1, 1, 0.1, 1)}, err: "empty or absurd size"},
	} {
		t.Run(tc.name, func(t *testing.T) { runOpTest(t, tc) })
	}
}
