package yamledit

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// indentStyle is the indentation a file uses, applied to inserted text.
type indentStyle struct {
	step    int  // indentation of a mapping nested in a mapping
	compact bool // sequences under a key are not indented ("- a" at the key's column)
}

// detectStyle finds the most common mapping indentation step and sequence
// offset of the documents; kyaml's DeriveSeqIndentStyle decides when the
// file has no block sequence under a key.
func detectStyle(s *source, roots []*yaml.Node) *indentStyle {
	steps, offsets := map[int]int{}, map[int]int{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode && !isFlow(n) {
			for i := 0; i+1 < len(n.Content); i += 2 {
				styleSample(s, n.Content[i], n.Content[i+1], steps, offsets)
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	st := &indentStyle{step: mostCommon(steps, 2)}
	st.step = min(max(st.step, 2), 9)
	off := mostCommon(offsets, -1)
	if off < 0 {
		st.compact = yaml.DeriveSeqIndentStyle(string(s.data)) == string(yaml.CompactSequenceStyle)
	} else {
		st.compact = off < st.step
	}
	return st
}

func styleSample(s *source, k, v *yaml.Node, steps, offsets map[int]int) {
	if v.Line <= k.Line || isFlow(v) || len(v.Content) == 0 {
		return
	}
	switch v.Kind {
	case yaml.MappingNode:
		if d := v.Content[0].Column - k.Column; d > 0 {
			steps[d]++
		}
	case yaml.SequenceNode:
		if dc, err := s.dashCol(v); err == nil && dc >= k.Column-1 {
			offsets[dc-(k.Column-1)]++
		}
	}
}

// mostCommon returns the most frequent key (the smallest on ties), or def.
func mostCommon(counts map[int]int, def int) int {
	best, bestN := def, 0
	for k, n := range counts {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	return best
}

// encode renders n with kyaml's encoder in the file's indentation style.
func (d *differ) encode(n *yaml.Node) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoding: %v: %w", r, ErrUnsupported)
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(d.style.step)
	if !d.style.compact {
		enc.DefaultSeqIndent()
	}
	if err := enc.Encode(explicitNulls(n, false)); err != nil {
		return "", fmt.Errorf("encoding: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("encoding: %w", err)
	}
	return buf.String(), nil
}

// explicitNulls returns n, or a copy of it where the empty nulls inside
// flow collections and in mapping keys read "null": yaml.v3 writes them as
// an empty single-quoted string there.
func explicitNulls(n *yaml.Node, flow bool) *yaml.Node {
	if n.Kind == yaml.ScalarNode {
		if flow && n.Value == "" && n.ShortTag() == "!!null" {
			c := *n
			c.Value = "null"
			return &c
		}
		return n
	}
	flow = flow || isFlow(n)
	var content []*yaml.Node
	for i, ch := range n.Content {
		key := n.Kind == yaml.MappingNode && i%2 == 0
		nc := explicitNulls(ch, flow || key)
		if nc != ch && content == nil {
			content = append([]*yaml.Node(nil), n.Content...)
		}
		if content != nil {
			content[i] = nc
		}
	}
	if content == nil {
		return n
	}
	c := *n
	c.Content = content
	return &c
}

// trimRendering removes the final line break of an encoder output, and the
// blank lines yaml.v3 adds after a folded scalar, unless the last scalar of
// n ends with several line breaks (keep chomping needs the blank lines).
func trimRendering(out string, n *yaml.Node) string {
	for len(n.Content) > 0 && !isFlow(n) {
		n = n.Content[len(n.Content)-1]
	}
	if n.Kind == yaml.ScalarNode && strings.HasSuffix(n.Value, "\n\n") {
		return strings.TrimSuffix(out, "\n")
	}
	return strings.TrimRight(out, "\n")
}

// indentLines prefixes the non-empty lines of text with col spaces (all
// lines, or all but the first).
func indentLines(text string, col int, first bool) string {
	if col <= 0 {
		return text
	}
	pad := strings.Repeat(" ", col)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "" && (first || i > 0) {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}

// withoutComments returns a shallow copy of n without its own comments,
// which belong to text kept around the replaced span.
func withoutComments(n *yaml.Node) *yaml.Node {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	return &c
}

// renderValue renders e as the new text of slot sl, from just after the
// ':' or '-' (the value's start at the root) to the end of the value. block
// is true when the text starts on a line of its own.
func (d *differ) renderValue(e *yaml.Node, sl slot) (text string, block bool, err error) {
	c := withoutComments(e)
	switch sl.kind {
	case slotKey:
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"}
		return d.renderWrapped(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, c}}, "k:", sl.col)
	case slotItem:
		text, _, err := d.renderWrapped(&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{c}}, "-", sl.col)
		return text, false, err
	}
	out, err := d.encode(c)
	if err != nil {
		return "", false, err
	}
	out = trimRendering(out, c)
	block = (c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode) && !isFlow(c) && len(c.Content) > 0
	return out, block, nil
}

func (d *differ) renderWrapped(w *yaml.Node, prefix string, col int) (string, bool, error) {
	out, err := d.encode(w)
	if err != nil {
		return "", false, err
	}
	rest, ok := strings.CutPrefix(out, prefix)
	if !ok {
		return "", false, fmt.Errorf("unexpected rendering %q: %w", out, ErrUnsupported)
	}
	rest = trimRendering(rest, w)
	return indentLines(rest, col, false), strings.HasPrefix(rest, "\n"), nil
}

// scalarToken renders the new scalar e as a single-line token replacing o,
// in o's quoting style if the value allows it.
func (d *differ) scalarToken(o, e *yaml.Node) (string, bool) {
	tag := e.Tag
	if tag == "" {
		tag = e.ShortTag()
	}
	keep := o.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	if o.Style&yaml.TaggedStyle != 0 && o.Tag == e.Tag {
		keep |= yaml.TaggedStyle
	}
	own := e.Style &^ (yaml.LiteralStyle | yaml.FoldedStyle)
	for _, st := range []yaml.Style{keep, own, 0} {
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: e.Value, Style: st}
		out, err := d.encode(n)
		tok := strings.TrimSuffix(out, "\n")
		if err != nil || tok == "" || strings.ContainsAny(tok, "\r\n") {
			continue
		}
		if docs, err := decodeAll([]byte(tok)); err == nil && len(docs) == 1 && equalNode(docRoot(docs[0]), e) {
			return tok, true
		}
	}
	return "", false
}

// renderFlow renders a collection in flow style on one line.
func (d *differ) renderFlow(e *yaml.Node) (string, bool) {
	c := flowCopy(e)
	out, err := d.encode(c)
	out = strings.TrimSuffix(out, "\n")
	if err != nil || strings.ContainsAny(out, "\r\n") {
		return "", false
	}
	return out, true
}

// flowCopy deep-copies n in flow style, without comments.
func flowCopy(n *yaml.Node) *yaml.Node {
	c := withoutComments(n)
	if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
		c.Style |= yaml.FlowStyle
	}
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			c.Content[i] = flowCopy(ch)
		}
	}
	return c
}

// debugUnfaithful, when set by tests, receives the bytes Render rejected.
var debugUnfaithful func([]byte)

// Render returns the new file bytes: the original with only the changed
// spans replaced. If no document changed, it returns f.Data itself. The
// result is re-parsed and compared with the requested trees; a mismatch is
// reported as ErrUnfaithful and the bytes are dropped. After Release it
// fails with ErrReleased.
func (f *File) Render() ([]byte, error) {
	if f.released {
		return nil, f.errReleased("Render")
	}
	var changed []int
	for i := range f.Docs {
		if e, ok := f.edited[i]; ok && !equalNode(f.orig[i], e) {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 {
		return f.Data, nil
	}
	data, added := f.Data, ""
	if len(data) > 0 && data[len(data)-1] != '\n' {
		added = "\n"
		if f.CRLF {
			added = "\r\n"
		}
		data = append(bytes.Clone(data), added...)
	}
	s := newSource(data)
	if f.style == nil {
		f.style = detectStyle(s, f.orig)
	}
	d := &differ{s: s, style: f.style, noEOL: added != ""}
	for _, i := range changed {
		if err := d.diffDoc(f.orig[i], f.edited[i]); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", f.Path, i, err)
		}
	}
	out, err := d.apply(f.CRLF)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	if added != "" {
		out = f.dropFinalNewline(out, added)
	}
	if err := f.verify(out); err != nil {
		if debugUnfaithful != nil {
			debugUnfaithful(out)
		}
		return nil, fmt.Errorf("%s: %w: %w", f.Path, ErrUnfaithful, err)
	}
	return out, nil
}

// dropFinalNewline removes the line break Render appended to a file that
// had none, unless the result needs it: a block scalar ending the file
// keeps its trailing newline only with it.
func (f *File) dropFinalNewline(out []byte, added string) []byte {
	trimmed := bytes.TrimSuffix(out, []byte(added))
	if f.verify(trimmed) != nil && f.verify(out) == nil {
		return out
	}
	return trimmed
}

func (d *differ) diffDoc(o, e *yaml.Node) error {
	start, err := d.s.start(o)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	err = d.diffValue(o, e, slot{kind: slotRoot, after: start, ctx: rootCtx})
	if retryable(err) {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return err
}

// apply splices the edits into the source.
func (d *differ) apply(crlf bool) ([]byte, error) {
	edits := d.edits
	sort.SliceStable(edits, func(i, j int) bool {
		a, b := edits[i], edits[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.seq < b.seq
	})
	var out bytes.Buffer
	cur := 0
	for _, e := range edits {
		if e.start < cur || e.end < e.start {
			return nil, fmt.Errorf("overlapping edits at offset %d: %w", e.start, ErrUnsupported)
		}
		out.Write(d.s.data[cur:e.start])
		text := e.text
		if e.end < len(d.s.data) && d.s.data[e.end] == '#' && text != "" && !isBlankOrBreak(text[len(text)-1]) {
			text += " " // "{}#c": libyaml reads '#' after a bracket as a comment, not after a scalar
		}
		if crlf {
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		out.WriteString(text)
		cur = e.end
	}
	out.Write(d.s.data[cur:])
	return out.Bytes(), nil
}

// verify re-parses out and compares every document with the tree it must
// hold: the edited one if SetDoc was called, the original otherwise.
func (f *File) verify(out []byte) error {
	docs, err := decodeAll(out)
	if err != nil {
		return fmt.Errorf("result does not parse: %w", err)
	}
	if len(docs) != len(f.orig) {
		return fmt.Errorf("result has %d documents instead of %d", len(docs), len(f.orig))
	}
	for i, doc := range docs {
		if countNodes(doc, f.opts.MaxNodes) > f.opts.MaxNodes {
			return fmt.Errorf("document %d: too many nodes: %w", i, ErrTooLarge)
		}
		want := f.orig[i]
		if e, ok := f.edited[i]; ok {
			want = e
		}
		if !equalNode(docRoot(doc), want) {
			return fmt.Errorf("document %d differs from the requested tree", i)
		}
	}
	return nil
}
