package cli

import (
	"slices"
	"testing"
)

func TestParseHelpers(t *testing.T) {
	if d, err := ParseInput("3x224x224"); err != nil || !slices.Equal(d, []int{3, 224, 224}) {
		t.Errorf("ParseInput: %v %v", d, err)
	}
	for _, bad := range []string{"", "3x224", "0x1x1", "ax1x1", "3x224x224x1", "1x1x65537"} {
		if _, err := ParseInput(bad); err == nil || !IsUsage(err) {
			t.Errorf("ParseInput(%q): %v, want a usage error", bad, err)
		}
	}
	for s, want := range map[string]int64{"0": 0, "1024": 1024, "64K": 64 << 10, "100M": 100 << 20, "1G": 1 << 30, "2MiB": 2 << 20, "3mb": 3 << 20} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1T", "x", "9999999999G"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) accepted", bad)
		}
	}
	var b ByteSize
	for s, want := range map[string]ByteSize{"-1": -1, "64K": 64 << 10, "0": 0} {
		if err := b.Set(s); err != nil || b != want {
			t.Errorf("ByteSize.Set(%q) = %d, %v; want %d", s, b, err, want)
		}
	}
	if got, err := ParseInts("--batch", "1, 8,32"); err != nil || !slices.Equal(got, []int{1, 8, 32}) {
		t.Errorf("ParseInts: %v %v", got, err)
	}
	if _, err := ParseInts("--batch", "1,0"); err == nil || !IsUsage(err) {
		t.Errorf("ParseInts(1,0): %v", err)
	}
	if got := SplitList(" go, ,ort,"); !slices.Equal(got, []string{"go", "ort"}) {
		t.Errorf("SplitList: %q", got)
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"0", "64K", "1G", "-1", "2MiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err == nil && n < 0 {
			t.Errorf("ParseBytes(%q) = %d", s, n)
		}
	})
}
