// Package testshared finds the project's read-only shared folder (../shared
// beside the repository: fixtures and ONNX conformance tests) for tests.
// Where it is absent a test is skipped with the reason, except under CI=true,
// where its absence is a failure.
package testshared

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the shared folder: $ONNXPRUNE_SHARED, else ../shared beside
// the repository root.
func Dir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("ONNXPRUNE_SHARED"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures")); err != nil {
		Missing(t, "../shared (the fixtures) is absent: "+err.Error())
	}
	return dir
}

// Missing skips the test with the reason, or fails it when CI=true.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: required)", why)
	}
	t.Skip(why)
}
