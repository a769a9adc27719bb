package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBytes parses a byte count with an optional K, M or G suffix (powers
// of 1024; "KiB", "MB" and the like are accepted too).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, Usagef("size %q: want a byte count such as 1048576, 64K, 100M or 1G", s)
	}
	return n * mult, nil
}

// ParseInput parses an image size "CxHxW" (e.g. 3x224x224), each from 1 to 65536.
func ParseInput(s string) ([]int, error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 3 {
		return nil, Usagef("input %q: want CxHxW, e.g. 3x224x224", s)
	}
	dims := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1<<16 {
			return nil, Usagef("input %q: %q is not a size from 1 to 65536", s, p)
		}
		dims[i] = n
	}
	return dims, nil
}

// ParseInts parses "1,8,32" into positive integers; flag names the flag in
// the error.
func ParseInts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range SplitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, Usagef("%s %q: want positive integers", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// ByteSize is a flag value in bytes that accepts ParseBytes's forms and -1
// (which a command may give a meaning, such as "as the input did").
type ByteSize int64

func (b *ByteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set parses s.
func (b *ByteSize) Set(s string) error {
	if strings.TrimSpace(s) == "-1" {
		*b = -1
		return nil
	}
	n, err := ParseBytes(s)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	*b = ByteSize(n)
	return nil
}

// Type is the name --help shows.
func (b *ByteSize) Type() string { return "bytes" }
