package yamledit

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/kmend/kmend/internal/lazyre"
)

var (
	// ErrNotEditable is wrapped by File.NotEditable and returned by SetDoc
	// for files that can be read but must never be rewritten.
	ErrNotEditable = errors.New("not safely editable")
	// ErrTemplate marks Helm/Go template files (they contain "{{"). It is
	// wrapped by File.NotEditable for templates that parse as YAML, and by
	// the *ParseError of templates that do not.
	ErrTemplate = errors.New("helm/go template")
	// ErrTooLarge is returned by Parse for files over Options.MaxBytes or
	// documents over Options.MaxNodes.
	ErrTooLarge = errors.New("too large")
	// ErrUnfaithful is returned by Render when the spliced bytes do not
	// re-parse to the requested trees; the bad bytes are never returned.
	ErrUnfaithful = errors.New("edit could not be rendered faithfully")
	// ErrUnsupported is returned by Render for an edit it cannot express as
	// a minimal splice of the original text.
	ErrUnsupported = errors.New("unsupported edit")
	// ErrReleased is returned by SetDoc and Render on a File whose edit
	// was ended by Release.
	ErrReleased = errors.New("file used after its edit was released")
)

// ParseError is a YAML syntax error.
type ParseError struct {
	Path   string
	Line   int // 1-based, 0 when unknown
	Column int // 1-based, 0 when unknown
	Msg    string
	// Err is an optional sentinel the error wraps (ErrTemplate for a
	// template file that does not parse as YAML).
	Err error
}

// Error reads "path:line:col: msg", dropping the parts that are unknown.
func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
}

// Unwrap returns the wrapped sentinel, if any.
func (e *ParseError) Unwrap() error { return e.Err }

var yamlErrRe = lazyre.New(`^yaml: (?:line (\d+): )?(?:column (\d+): )?(.*)$`)

// newParseError turns a yaml.v3 error ("yaml: line 3: msg") into a
// *ParseError.
func newParseError(path string, err error) *ParseError {
	pe := &ParseError{Path: path, Msg: err.Error()}
	m := yamlErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return pe
	}
	pe.Line, _ = strconv.Atoi(m[1])
	pe.Column, _ = strconv.Atoi(m[2])
	pe.Msg = m[3]
	return pe
}
