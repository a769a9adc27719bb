package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

func NewFlagSet(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {} // Parse prints the help once, to stdout, on --help
	synopses[fs] = synopsis
	return fs
}

var synopses = map[*pflag.FlagSet]string{}

func PrintUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nFlags:\n%s", synopses[fs], fs.FlagUsages())
}

func Run(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer, run func(args []string) error) int {
	if code, ok := Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	return Exit(fs.Name(), stderr, run(fs.Args()))
}

func Exit(name string, stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Msg != "" {
			fmt.Fprintf(stderr, "%s: %s\n", name, ee.Msg)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if IsUsage(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
		return ExitUsage
	}
	return ExitFailure
}

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

func Usage(fs *pflag.FlagSet, stdout, stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", fs.Name(), err, fs.Name())
		return ExitUsage
	}
	PrintUsage(stdout, fs)
	return ExitOK
}

func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
