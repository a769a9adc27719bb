package onnx_test

import (
	"fmt"
	"log"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Build a graph view of a model and walk it in topological order.
func ExampleNewModelGraph() {
	m := tinyModel()
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range g.Nodes {
		fmt.Println(n.GetOpType(), n.GetInput(), "->", n.GetOutput())
	}
	fmt.Println("real inputs:", len(g.Inputs), "initializers:", len(g.Initializers))
	// Output:
	// MatMul [x W] -> [h]
	// Relu [h] -> [y]
	// real inputs: 1 initializers: 1
}

// Decode an initializer into a Go tensor, change it, and store it back.
func ExampleDecodeTensor() {
	m := tinyModel()
	tp := m.Initializer("W")
	w, err := onnx.DecodeTensor(tp)
	if err != nil {
		log.Fatal(err)
	}
	for i, v := range w.F32() {
		if v < 0 {
			w.F32()[i] = 0
		}
	}
	onnx.SetTensorData(tp, w)
	back, _ := onnx.DecodeTensor(tp)
	fmt.Println(back.Shape, back.F32(), back.DType == tensor.Float32)
	// Output: [2 3] [1 0 3 0 5 0] true
}
