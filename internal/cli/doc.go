// Package cli is what every onnxprune command shares; each command is a
// package tools/<name> with
//
//	func Main(args []string, stdout, stderr io.Writer) int
//
// and cmd/<name>/main.go is os.Exit(<name>.Main(os.Args[1:], os.Stdout, os.Stderr)).
//
// Exit codes, one set for every command:
//
//	ExitOK      0  success
//	ExitFailure 1  failure (bad model, I/O error, a check that did not pass)
//	ExitUsage   2  usage error (unknown flag, missing argument, bad value)
//
// The API, kept stable for the tools that build on it:
//
//   - Flags and errors: NewFlagSet(name, synopsis) makes a GNU-style pflag
//     set whose --help prints the synopsis and the flags. Run(fs, args,
//     stdout, stderr, body) parses, calls body with the arguments left and
//     maps its error to an exit code: a UsageError (Usagef; IsUsage) is 2
//     with a pointer to --help, an ExitError its own Code (a report already
//     printed that must still fail), anything else 1, each printed as
//     "name: error". Parse and Usage serve commands that handle errors
//     themselves; Exit maps an error as Run does.
//   - Backends: BackendFlags registers --threads, --device, --ort-lib,
//     --ort-opt and --ort-inter-threads; BackendFlags.Backend(name) is the one
//     place a name ("go", "ort") becomes a runtime.Backend, Backends a comma
//     list, Options(batch) the runtime.Options, DeviceOf a session's device.
//     --backend itself is each command's flag (one name or a list).
//   - Output files: OutputFlags registers -o/--output and
//     --external-threshold (a ByteSize: 64K, 100M, 1G; -1 "as the input
//     did"), and for a command that rewrites an input, --force and
//     --overwrite. Resolve(input, default) checks the path before the work
//     (never the input unless --overwrite, never an existing file unless
//     --force); Save(m, inputSize) checks the model's shapes (CheckShapes)
//     and writes it atomically, so a model that does not fit is never written.
//   - JSON: WriteJSON(w, v), two-space indented, for every --json.
//   - Progress: NewProgress(stderr) draws one bar at a time (mpb), quiet when
//     stderr is not a terminal (a nil *Progress is valid and silent):
//     Start(name, total), SetTotal, SetCurrent, Increment, SetStatus, Done
//     before printing results.
//   - Models: ModelFlags (--input-shape) and its Load: the model (or its
//     header), weights held in Constant nodes lifted to initializers, its
//     graph view, and the input shapes resolved against its inputs.
//   - Parsing: ParseBytes, ParseInput ("CxHxW"), ParseInts ("1,8,32"),
//     SplitList ("go,ort"), IsTerminal.
package cli
