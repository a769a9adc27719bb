package cli

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v as indented JSON (two spaces) and a newline: the form of
// every command's --json.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
