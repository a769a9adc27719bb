package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestInputShapes(t *testing.T) {
	for _, tc := range []struct {
		specs  []string
		inputs []string
		want   map[string][]int
		err    string
	}{
		{[]string{"x:1,3,48,192"}, []string{"x"}, map[string][]int{"x": {1, 3, 48, 192}}, ""},
		{[]string{"1x3x48x192"}, []string{"img"}, map[string][]int{"img": {1, 3, 48, 192}}, ""},
		{[]string{":2,3"}, []string{"a"}, map[string][]int{"a": {2, 3}}, ""},
		{[]string{"a:1,2", "b:3"}, []string{"a", "b"}, map[string][]int{"a": {1, 2}, "b": {3}}, ""},
		{[]string{"ns:x:1,2"}, []string{"ns:x"}, map[string][]int{"ns:x": {1, 2}}, ""}, // the last colon splits
		{[]string{"1,2"}, []string{"a", "b"}, nil, "the model has 2 inputs"},
		{[]string{"c:1"}, []string{"a", "b"}, nil, `names "c"`},
		{[]string{"a:1,-2"}, []string{"a"}, nil, `dimension "-2" is not a positive integer`},
		{[]string{"a:"}, []string{"a"}, nil, "no dimensions"},
		{[]string{"a:1", "a:2"}, []string{"a"}, nil, "given twice"},
		{[]string{"1", "a:2"}, []string{"a"}, nil, "given twice"},
	} {
		got, err := ParseInputShapes(tc.specs)
		if err == nil {
			got, err = ResolveInputShapes(got, tc.inputs)
		}
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !IsUsage(err)):
			t.Errorf("%q: error %v, want a usage error with %q", tc.specs, err, tc.err)
		case tc.err == "" && (err != nil || !reflect.DeepEqual(got, tc.want)):
			t.Errorf("%q: %v, %v; want %v", tc.specs, got, err, tc.want)
		}
	}
}
