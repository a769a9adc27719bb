package ort

import (
	"maps"
	"testing"
)

func TestProviderOptions(t *testing.T) {
	for _, c := range []struct {
		o    CUDAOptions
		id   int
		want map[string]string
	}{
		{CUDAOptions{}, 0, map[string]string{"device_id": "0", "use_tf32": "0"}},
		{CUDAOptions{TF32: true, ConvAlgoSearch: ConvAlgoHeuristic}, 1, map[string]string{"device_id": "1", "use_tf32": "1", "cudnn_conv_algo_search": "HEURISTIC"}},
		{CUDAOptions{ConvAlgoSearch: ConvAlgoExhaustive}, 0, map[string]string{"device_id": "0", "use_tf32": "0", "cudnn_conv_algo_search": "EXHAUSTIVE"}},
		{CUDAOptions{ConvAlgoSearch: ConvAlgoDefault}, 2, map[string]string{"device_id": "2", "use_tf32": "0", "cudnn_conv_algo_search": "DEFAULT"}},
	} {
		got, err := c.o.ProviderOptions(c.id)
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("%+v: %v, %v; want %v", c.o, got, err, c.want)
		}
	}
	if _, err := (CUDAOptions{ConvAlgoSearch: "fast"}).ProviderOptions(0); err == nil {
		t.Error("accepted conv algorithm search \"fast\"")
	}
}
