package prune

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Scope says how unstructured pruning draws its threshold.
type Scope string

// Scopes.
const (
	ScopeLocal  Scope = "local"  // each layer loses its own fraction
	ScopeGlobal Scope = "global" // one threshold over all selected layers
)

// Structure says what unit is removed.
type Structure string

// Structures.
const (
	Unstructured Structure = ""   // single weights (L1 magnitude)
	StructuredL1 Structure = "l1" // whole output channels ranked by L1 norm
	StructuredL2 Structure = "l2" // whole output channels ranked by L2 norm
)

// Mode says what structured pruning does with a pruned channel.
type Mode string

// Modes.
const (
	ModeDefault Mode = ""       // shrink for structured pruning
	ModeMask    Mode = "mask"   // keep the shapes, zero the channel and what feeds its output
	ModeShrink  Mode = "shrink" // remove the channel and the inputs that read it
)

// Options choose what is pruned and how.
type Options struct {
	// Amount is the fraction to prune, in [0, 1): of each layer (local), of all
	// selected weights (global), or of each group's channels (structured).
	Amount float64
	// Count, when > 0, prunes that many weights (or channels) instead of a
	// fraction: per layer (local, structured) or in total (global).
	Count int
	// Scope of unstructured pruning; "" means local.
	Scope Scope
	// Structured selects channel pruning and its norm; "" is unstructured.
	Structured Structure
	// Mode of structured pruning; "" means shrink.
	Mode Mode
	// Include, when not empty, keeps only the layers whose node name,
	// initializer name or op type matches one of these regular expressions.
	Include []string
	// Exclude drops the layers whose node name, initializer name or op type
	// matches one of these regular expressions.
	Exclude []string
	// SkipFirst and SkipLast drop that many selected layers at the start and
	// end of the graph (in topological order), after Include and Exclude.
	SkipFirst, SkipLast int
	// RoundTo, when > 1, keeps the channels of every structured group a
	// multiple of it (the nearest one, at least RoundTo): inference
	// libraries run channel counts that are multiples of 8 or 16 faster.
	RoundTo int
	// InputShapes gives whole shapes to inputs by name, for the MACs of the
	// report when the model leaves spatial dimensions symbolic.
	InputShapes map[string][]int
}

// compiled holds validated options.
type compiled struct {
	Options
	include, exclude []*regexp.Regexp
}

// OptionError reports an invalid option.
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return "prune: " + e.Msg }

func optErr(format string, args ...any) error {
	return &OptionError{Msg: fmt.Sprintf(format, args...)}
}

// ErrNoLayers is returned (wrapped) when no weight is left to prune.
var ErrNoLayers = errors.New("prune: no prunable layer")

func (o Options) compile() (*compiled, error) {
	c := &compiled{Options: o}
	if math.IsNaN(o.Amount) || o.Amount < 0 || o.Amount >= 1 {
		return nil, optErr("amount %v is outside [0, 1)", o.Amount)
	}
	if o.Count < 0 {
		return nil, optErr("count %d is negative", o.Count)
	}
	if o.Count > 0 && o.Amount > 0 {
		return nil, optErr("give an amount or a count, not both")
	}
	switch o.Scope {
	case "":
		c.Scope = ScopeLocal
	case ScopeLocal, ScopeGlobal:
	default:
		return nil, optErr("scope %q is not local or global", o.Scope)
	}
	switch o.Structured {
	case Unstructured, StructuredL1, StructuredL2:
	default:
		return nil, optErr("structured %q is not l1 or l2", o.Structured)
	}
	switch o.Mode {
	case ModeDefault:
		if o.Structured != Unstructured {
			c.Mode = ModeShrink
		}
	case ModeMask, ModeShrink:
		if o.Structured == Unstructured {
			return nil, optErr("mode %q needs structured pruning (l1 or l2)", o.Mode)
		}
	default:
		return nil, optErr("mode %q is not mask or shrink", o.Mode)
	}
	if o.Structured != Unstructured && c.Scope == ScopeGlobal {
		return nil, optErr("structured pruning ranks channels per dependency group; scope global is for unstructured pruning")
	}
	if o.SkipFirst < 0 || o.SkipLast < 0 {
		return nil, optErr("skip-first and skip-last must not be negative")
	}
	if o.RoundTo < 0 || (o.RoundTo > 1 && o.Structured == Unstructured) {
		return nil, optErr("round-to %d needs structured pruning and must not be negative", o.RoundTo)
	}
	var err error
	if c.include, err = compileAll(o.Include, "include"); err != nil {
		return nil, err
	}
	if c.exclude, err = compileAll(o.Exclude, "exclude"); err != nil {
		return nil, err
	}
	return c, nil
}

func compileAll(exprs []string, what string) ([]*regexp.Regexp, error) {
	var rs []*regexp.Regexp
	for _, e := range exprs {
		r, err := regexp.Compile(e)
		if err != nil {
			return nil, optErr("%s pattern %q: %v", what, e, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// nPrune is torch's _compute_nparams_toprune: round-half-to-even(amount·n), or
// the count.
func (c *compiled) nPrune(n int, what string) (int, error) {
	if c.Count > 0 {
		if c.Count > n {
			return 0, optErr("count %d is larger than %s (%d)", c.Count, what, n)
		}
		return c.Count, nil
	}
	return int(math.RoundToEven(c.Amount * float64(n))), nil
}

// roundKept returns how many of n channels to prune when k were asked, so
// that the kept ones are a multiple of RoundTo (nearest, at least RoundTo);
// groups smaller than RoundTo are left as asked.
func (c *compiled) roundKept(n, k int) int {
	r := c.RoundTo
	if r <= 1 || n < r {
		return k
	}
	kept := (n - k + r/2) / r * r
	kept = min(max(kept, r), n)
	return n - kept
}

// Settings returns the options as key/value pairs for metadata_props.
func (o Options) Settings() [][2]string {
	c, err := o.compile()
	if err != nil {
		c = &compiled{Options: o}
	}
	s := [][2]string{}
	if o.Count > 0 {
		s = append(s, [2]string{"count", fmt.Sprint(o.Count)})
	} else {
		s = append(s, [2]string{"amount", fmt.Sprint(o.Amount)})
	}
	if c.Structured == Unstructured {
		s = append(s, [2]string{"scope", string(c.Scope)}, [2]string{"structured", "none"})
	} else {
		s = append(s, [2]string{"structured", string(c.Structured)}, [2]string{"mode", string(c.Mode)})
	}
	if len(o.Include) > 0 {
		s = append(s, [2]string{"include", strings.Join(o.Include, ",")})
	}
	if len(o.Exclude) > 0 {
		s = append(s, [2]string{"exclude", strings.Join(o.Exclude, ",")})
	}
	if o.RoundTo > 1 {
		s = append(s, [2]string{"round_to", fmt.Sprint(o.RoundTo)})
	}
	if o.SkipFirst > 0 {
		s = append(s, [2]string{"skip_first", fmt.Sprint(o.SkipFirst)})
	}
	if o.SkipLast > 0 {
		s = append(s, [2]string{"skip_last", fmt.Sprint(o.SkipLast)})
	}
	return s
}

// Validate checks the options without a model.
func (o Options) Validate() error {
	_, err := o.compile()
	return err
}
