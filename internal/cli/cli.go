// Package cli holds what every onnxprune command shares: GNU-style flags
// (pflag), usage text, and exit codes that scripts can rely on:
//
//	0  success
//	1  failure (bad model, I/O error, a check that did not pass)
//	2  usage error (unknown flag, missing argument)
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError is a mistake in the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// NewFlagSet returns a flag set that prints synopsis then the flags on --help.
func NewFlagSet(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	usages[fs] = synopsis
	fs.Usage = func() {} // Run prints the help once, to stdout, on --help
	return fs
}

var usages = map[*pflag.FlagSet]string{}

// PrintUsage writes the synopsis and the flags of fs.
func PrintUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nFlags:\n%s", usages[fs], fs.FlagUsages())
}

// Run parses args with fs, calls run, prints any error as "name: error" on
// stderr and returns the exit code.
func Run(fs *pflag.FlagSet, args []string, run func(args []string) error) int {
	if code, ok := Parse(fs, args, os.Stdout, os.Stderr); !ok {
		return code
	}
	if err := run(fs.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", fs.Name(), err)
		var ue *UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "Run '%s --help' for usage.\n", fs.Name())
			return ExitUsage
		}
		return ExitFailure
	}
	return ExitOK
}

// Parse parses args with fs. On --help it prints the help to stdout; on a bad
// flag, the error to stderr. ok is false when the command should stop and
// exit with code.
func Parse(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return Usage(fs, stdout, stderr, nil), false
		}
		return Usage(fs, stdout, stderr, err), false
	}
	return ExitOK, true
}

// Usage prints the help to stdout and returns ExitOK when err is nil;
// otherwise it prints "name: err" and a pointer to --help to stderr and
// returns ExitUsage.
func Usage(fs *pflag.FlagSet, stdout, stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", fs.Name(), err, fs.Name())
		return ExitUsage
	}
	PrintUsage(stdout, fs)
	return ExitOK
}

// IsTerminal reports whether f is a terminal (progress output goes only there).
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
