package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const (
	defaultMaxBytes = 8 << 20
	defaultMaxNodes = 1_000_000
)

// Options bound the work on hostile input.
type Options struct {
	// MaxBytes refuses larger files (default 8 MiB when 0).
	MaxBytes int64
	// MaxNodes refuses documents whose node count, with aliases expanded,
	// exceeds it (default 1_000_000 when 0). It protects against alias
	// ("billion laughs") bombs.
	MaxNodes int
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = defaultMaxNodes
	}
	return o
}

// File is a parsed YAML file. It is not safe for concurrent use.
type File struct {
	Path string
	// Data holds the original bytes; it is never modified.
	Data []byte
	Docs []*Doc
	// CRLF is true when the file uses \r\n line endings (judged by its
	// first line break).
	CRLF bool
	// NotEditable is non-nil when the file can be read but must never be
	// edited; it wraps ErrNotEditable (and ErrTemplate for templates).
	NotEditable error

	opts     Options
	orig     []*yaml.Node       // pristine copies of the document roots (editable files only)
	edited   map[int]*yaml.Node // desired roots recorded by SetDoc
	style    *indentStyle       // detected lazily by Render
	released bool               // Release was called: SetDoc and Render fail
}

// Doc is one document of a File.
type Doc struct {
	// Index is the 0-based index of the document in the file.
	Index int
	// Line is the 1-based line where the document's content starts (for an
	// empty document, the line of its "---").
	Line int
	// Node is the document's root content; nil for an empty document.
	Node *yaml.RNode
}

// Parse parses data, the content of the file at path. Invalid YAML gives a
// *ParseError (wrapping ErrTemplate if the file contains "{{"); a file or
// document over the Options limits gives an error wrapping ErrTooLarge. A
// file that parses but must not be edited gets File.NotEditable.
func Parse(path string, data []byte, opts Options) (*File, error) {
	opts = opts.withDefaults()
	if int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("%s: %d bytes exceeds the limit of %d: %w", path, len(data), opts.MaxBytes, ErrTooLarge)
	}
	template := bytes.Contains(data, []byte("{{"))
	docs, err := decodeAll(data)
	if err != nil {
		pe := newParseError(path, err)
		if template {
			pe.Err = ErrTemplate
		}
		return nil, pe
	}
	f := &File{Path: path, Data: data, CRLF: detectCRLF(data), opts: opts}
	// Without a '*' there is no alias, and a document's size is bounded by
	// MaxBytes already.
	aliases := bytes.IndexByte(data, '*') >= 0
	for i, d := range docs {
		if !aliases {
			f.Docs = append(f.Docs, newDoc(i, d))
			continue
		}
		if n := countNodes(d, opts.MaxNodes); n > opts.MaxNodes {
			return nil, fmt.Errorf("%s: document %d has more than %d nodes with aliases expanded: %w", path, i, opts.MaxNodes, ErrTooLarge)
		}
		f.Docs = append(f.Docs, newDoc(i, d))
	}
	f.NotEditable = notEditable(path, data, docs, template)
	return f, nil
}

// original returns the pristine document roots, decoded again from Data the
// first time an edit needs them: reading files costs no copy, and editing
// Docs[i].Node in place cannot change what edits are diffed against.
func (f *File) original() ([]*yaml.Node, error) {
	if f.orig != nil {
		return f.orig, nil
	}
	docs, err := decodeAll(f.Data)
	if err != nil || len(docs) != len(f.Docs) {
		return nil, fmt.Errorf("%s: the file no longer decodes as it did: %v", f.Path, err)
	}
	orig := make([]*yaml.Node, len(docs))
	for i, d := range docs {
		orig[i] = docRoot(d)
	}
	f.orig = orig
	return orig, nil
}

// Edit returns a new File for one edit of f's content. It shares f's Path,
// Data, Docs, CRLF and NotEditable, which it does not change (edit copies
// of the Docs' nodes: they are f's too), and starts with no edit: SetDoc,
// Render and Release on it leave f as it is. A caller
// that edits a file kept for longer (one of a manifest set, fixed once per
// run) edits it through Edit, so that each edit starts from the original
// content, whatever edits came before, and its trees are dropped with it.
func (f *File) Edit() *File {
	return &File{Path: f.Path, Data: f.Data, Docs: f.Docs, CRLF: f.CRLF, NotEditable: f.NotEditable, opts: f.opts}
}

// Release ends f's edit: it drops the trees f keeps for editing (the
// original documents decoded again for SetDoc, the trees SetDoc recorded)
// and the indentation Render detected. Call it once Render's bytes are
// known and the edit is done with (written, verified or reported): a run
// over many files then keeps the trees of the files being edited only, not
// of every file edited so far. Path, Data, Docs, CRLF and NotEditable stay
// as they are. Afterwards SetDoc and Render fail with an error wrapping
// ErrReleased, rather than start again from the original trees and drop
// the edit without a word; Edit still gives a new File to edit. Calling
// Release again does nothing.
func (f *File) Release() {
	f.orig, f.edited, f.style = nil, nil, nil
	f.released = true
}

func (f *File) errReleased(op string) error {
	return fmt.Errorf("%s: %s after Release: %w", f.Path, op, ErrReleased)
}

func newDoc(i int, d *yaml.Node) *Doc {
	root := docRoot(d)
	if root == nil {
		return &Doc{Index: i, Line: d.Line}
	}
	return &Doc{Index: i, Line: root.Line, Node: yaml.NewRNode(root)}
}

// docRoot returns the root content of a document node, nil when the
// document is empty.
func docRoot(d *yaml.Node) *yaml.Node {
	if d == nil || len(d.Content) == 0 {
		return nil
	}
	root := d.Content[0]
	if isEmptyNull(root) && root.Style == 0 {
		return nil
	}
	return root
}

// decodeAll decodes every document of data. yaml.v3 reports errors by
// panicking internally; a panic that escapes it is turned into an error too.
func decodeAll(data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, fmt.Errorf("yaml: internal parser error: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func detectCRLF(data []byte) bool {
	i := bytes.IndexByte(data, '\n')
	return i > 0 && data[i-1] == '\r'
}

// countNodes counts the nodes of n with aliases expanded, stopping as soon
// as the count exceeds limit. Shared subtrees are counted once per use but
// computed once (memoized), so alias bombs cost linear time; an alias cycle
// counts as infinite.
func countNodes(n *yaml.Node, limit int) int {
	memo := map[*yaml.Node]int{}
	var count func(n *yaml.Node) int
	count = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		if c, ok := memo[n]; ok {
			if c < 0 { // cycle
				return limit + 1
			}
			return c
		}
		memo[n] = -1
		total := 1
		if n.Kind == yaml.AliasNode {
			total += count(n.Alias)
		}
		for _, c := range n.Content {
			total += count(c)
			if total > limit {
				total = limit + 1
				break
			}
		}
		if total > limit {
			total = limit + 1
		}
		memo[n] = total
		return total
	}
	return count(n)
}

// notEditable says why a parsed file must not be edited, or returns nil.
func notEditable(path string, data []byte, docs []*yaml.Node, template bool) error {
	if template {
		return fmt.Errorf("%s: %w (contains \"{{\"): %w", path, ErrTemplate, ErrNotEditable)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%s: not UTF-8: %w", path, ErrNotEditable)
	}
	if line := unusualBreak(data); line > 0 {
		return fmt.Errorf("%s:%d: unusual line break (lone CR, NEL, LS or PS): %w", path, line, ErrNotEditable)
	}
	for _, d := range docs {
		if n := findAnchor(d); n != nil {
			return fmt.Errorf("%s:%d: uses YAML anchors/aliases: %w", path, n.Line, ErrNotEditable)
		}
		if k := findBadKey(d); k != nil {
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s:%d: non-scalar mapping key: %w", path, k.Line, ErrNotEditable)
			}
			return fmt.Errorf("%s:%d: duplicate mapping key %q: %w", path, k.Line, k.Value, ErrNotEditable)
		}
	}
	return nil
}

// findBadKey returns the first non-scalar mapping key of n, or the second
// occurrence of a repeated key: such keys cannot come from JSON (so from a
// Kubernetes manifest), and make edits ambiguous.
func findBadKey(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || seen[keyOf(k)] {
				return k
			}
			seen[keyOf(k)] = true
		}
	}
	for _, c := range n.Content {
		if k := findBadKey(c); k != nil {
			return k
		}
	}
	return nil
}

// unusualBreak returns the 1-based line of the first line break other than
// \n and \r\n, or 0. yaml.v3 counts them as line breaks, Render does not.
func unusualBreak(data []byte) int {
	line := 1
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\n':
			line++
		case data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return line
		case bytes.HasPrefix(data[i:], []byte("\u0085")),
			bytes.HasPrefix(data[i:], []byte("\u2028")),
			bytes.HasPrefix(data[i:], []byte("\u2029")):
			return line
		}
	}
	return 0
}

func findAnchor(n *yaml.Node) *yaml.Node {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAnchor(c); a != nil {
			return a
		}
	}
	return nil
}

// copyNode deep-copies a tree. Alias nodes keep pointing at their original
// target (editable trees have none).
func copyNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			c.Content[i] = copyNode(ch)
		}
	}
	return &c
}

// SetDoc records the desired new content of document index. edited is
// normally a modified deep copy (RNode.Copy) of Docs[index].Node; it is
// copied again, so later changes to it are not seen by Render. Render diffs
// it against a private copy of the original, so editing Docs[index].Node in
// place also works. Comments are not diffed: the file keeps its comments,
// and comments on new nodes are written with them. It returns an error wrapping ErrNotEditable for a
// file that is not editable, ErrUnsupported for an empty document and
// ErrReleased after Release.
func (f *File) SetDoc(index int, edited *yaml.RNode) error {
	if f.released {
		return f.errReleased("SetDoc")
	}
	if f.NotEditable != nil {
		return fmt.Errorf("%s: %w", f.Path, f.NotEditable)
	}
	if index < 0 || index >= len(f.Docs) {
		return fmt.Errorf("%s: no document %d (file has %d)", f.Path, index, len(f.Docs))
	}
	orig, err := f.original()
	if err != nil {
		return err
	}
	if orig[index] == nil {
		return fmt.Errorf("%s: document %d is empty: %w", f.Path, index, ErrUnsupported)
	}
	if edited == nil || edited.YNode() == nil {
		return fmt.Errorf("%s: document %d: nil node: %w", f.Path, index, ErrUnsupported)
	}
	if f.edited == nil {
		f.edited = map[int]*yaml.Node{}
	}
	f.edited[index] = copyNode(edited.YNode())
	return nil
}
