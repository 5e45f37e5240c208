package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmend/kmend/internal/lazyre"
)

// Error is one mistake in a configuration: the file, the line (0 when
// unknown), the key ("paths.include[2]"; empty for the whole file) and what
// is wrong. Parse and LoadServer return every mistake they find, joined
// with errors.Join; errors.As finds the first.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns the *Error values in err (a single one or a join).
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// decoder walks a YAML node tree by hand, so that every error can name its
// line and key, unknown keys included.
type decoder struct {
	file string
	errs []error
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error { return errors.Join(d.errs...) }

var yamlLine = lazyre.New(`^(?:yaml: )?line (\d+): (.*)$`)

// parseDocument reads data as exactly one YAML document and returns its
// root node: nil for an empty document.
func (d *decoder) parseDocument(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		d.syntax(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			d.syntax(err)
		} else {
			d.fail(&extra, "", "more than one YAML document (only one is read)")
		}
		return nil
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// syntax records a YAML parse error with its line when it has one.
func (d *decoder) syntax(err error) {
	msg := err.Error()
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if m := yamlLine.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			d.errs = append(d.errs, &Error{File: d.file, Line: n, Msg: "invalid YAML: " + m[2]})
			return
		}
	}
	d.errs = append(d.errs, &Error{File: d.file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
}

// field decodes the value of one mapping key.
type field func(key string, v *yaml.Node)

// mapping calls the field of each key of n, and records every key that has
// none as unknown, naming the keys that are known.
func (d *decoder) mapping(n *yaml.Node, key string, fields map[string]field) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "must be a mapping, not %s", describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			d.fail(k, key, "keys must be strings")
			continue
		}
		if line, dup := seen[name]; dup {
			d.fail(k, join(key, name), "set twice (first at line %d)", line)
			continue
		}
		seen[name] = k.Line
		f, ok := fields[name]
		if !ok {
			d.fail(k, join(key, name), "unknown key (known keys: %s)", strings.Join(sortedKeys(fields), ", "))
			continue
		}
		f(join(key, name), v)
	}
}

// str decodes a string scalar. Numbers are read as their text; null and
// booleans are errors (quote a value that looks like one).
func (d *decoder) str(n *yaml.Node, key string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "must be a string, not %s", describe(n))
		return "", false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float":
		return n.Value, true
	default:
		d.fail(n, key, "must be a string, not %s (quote it)", describe(n))
		return "", false
	}
}

// strList decodes a sequence of strings; lines[i] is the line of item i.
func (d *decoder) strList(n *yaml.Node, key string) (items []string, lines []int, ok bool) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.fail(n, key, "must be a list, not %s", describe(n))
		return nil, nil, false
	}
	items = []string{}
	ok = true
	for i, c := range n.Content {
		s, good := d.str(c, fmt.Sprintf("%s[%d]", key, i))
		if !good {
			ok = false
			continue
		}
		items = append(items, s)
		lines = append(lines, c.Line)
	}
	return items, lines, ok
}

// integer decodes an integer scalar.
func (d *decoder) integer(n *yaml.Node, key string) (int64, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.fail(n, key, "must be a whole number, not %s", describe(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		d.fail(n, key, "must be a whole number: %v", err)
		return 0, false
	}
	return v, true
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names a node's kind for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func sortedKeys(m map[string]field) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// version reads the required "version" key of root and reports whether it
// is one this kmend reads (Version). It is checked before anything else so
// that a newer file is reported as such, not as a list of unknown keys.
func (d *decoder) version(root *yaml.Node) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if resolve(root.Content[i]).Value != "version" {
			continue
		}
		v := resolve(root.Content[i+1])
		n, ok := d.integer(v, "version")
		if !ok {
			return false
		}
		if n != Version {
			d.fail(v, "version", "unsupported version %d: this kmend reads version %d", n, Version)
			return false
		}
		return true
	}
	d.fail(root, "version", "missing: start the file with \"version: %d\"", Version)
	return false
}
