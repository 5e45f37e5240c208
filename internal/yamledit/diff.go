package yamledit

import (
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// errFallback asks the caller to replace a wider value: the change cannot be
// expressed minimally at this level.
var errFallback = errors.New("needs a wider replacement")

func retryable(err error) bool {
	return errors.Is(err, errFallback) || errors.Is(err, errSpan)
}

// edit replaces data[start:end] with text.
type edit struct {
	start, end int
	text       string
	seq        int
}

// differ turns the differences between an original and an edited tree into
// text edits of the original source.
type differ struct {
	s     *source
	style *indentStyle
	edits []edit
	// noEOL is true when the file had no final newline: the source then
	// has one appended, which Render strips again.
	noEOL bool
}

func (d *differ) add(start, end int, text string) {
	d.edits = append(d.edits, edit{start: start, end: end, text: text, seq: len(d.edits)})
}

type slotKind int

const (
	slotRoot slotKind = iota // the root of a document
	slotKey                  // the value of a block mapping entry
	slotItem                 // an item of a block sequence
)

// slot says where a value lives in its parent.
type slot struct {
	kind  slotKind
	after int // offset just after the ':' or '-'; the value's start at the root
	col   int // column of the key or dash
	ctx   ctx // context of the value
}

// diffValue records the edits turning value o into e.
func (d *differ) diffValue(o, e *yaml.Node, sl slot) error {
	if equalNode(o, e) {
		return nil
	}
	mark := len(d.edits)
	err := d.change(o, e, sl)
	if err == nil || !retryable(err) {
		return err
	}
	d.edits = d.edits[:mark]
	return d.replaceValue(o, e, sl)
}

func (d *differ) change(o, e *yaml.Node, sl slot) error {
	switch {
	case o.Kind == yaml.AliasNode || e.Kind == yaml.AliasNode:
		return fmt.Errorf("alias at line %d: %w", o.Line, ErrUnsupported)
	case isFlow(o):
		return d.flowChange(o, e, sl)
	case o.Kind != e.Kind || o.Kind != yaml.ScalarNode && o.ShortTag() != e.ShortTag():
		return d.replaceValue(o, e, sl)
	case o.Kind == yaml.ScalarNode:
		return d.scalarChange(o, e, sl)
	case o.Kind == yaml.MappingNode:
		return d.mappingChange(o, e, sl)
	case o.Kind == yaml.SequenceNode:
		return d.sequenceChange(o, e, sl)
	}
	return fmt.Errorf("node kind %v at line %d: %w", o.Kind, o.Line, ErrUnsupported)
}

// valueEnd returns the end of the text of the value o of slot sl.
func (d *differ) valueEnd(o *yaml.Node, sl slot) (int, error) {
	if isEmptyNull(o) && sl.kind != slotRoot {
		return d.s.emptyEnd(o, sl.after), nil
	}
	return d.s.end(o, sl.ctx)
}

// replaceValue replaces the whole text of value o with a rendering of e.
func (d *differ) replaceValue(o, e *yaml.Node, sl slot) error {
	b, err := d.valueEnd(o, sl)
	if err != nil {
		return err
	}
	s, a := d.s, sl.after
	col := sl.col
	if sl.kind == slotRoot {
		col = s.col(a)
	}
	e = d.guardBlockScalar(e, s.nextLine(b), col)
	text, block, err := d.renderValue(e, sl)
	if err != nil {
		return err
	}
	if sl.kind == slotRoot {
		if block && !s.onlySpaceBefore(a) { // "--- {}"
			for isSpace(s.data[a-1]) {
				a--
			}
			text = "\n" + text
		} else {
			text = indentLines(text, col, false)
		}
	} else if a, text, err = d.placeInSlot(o, a, text, block); err != nil {
		return err
	}
	if strings.Contains(text, "\n") {
		text, b = d.absorbRest(text, b)
	}
	d.add(a, b, text)
	return nil
}

// placeInSlot adjusts the start and the text replacing value o of a key or
// item whose ':' or '-' ends at a, keeping the comments around it.
func (d *differ) placeInSlot(o *yaml.Node, a int, text string, block bool) (int, string, error) {
	s := d.s
	later := false
	if !isEmptyNull(o) {
		os, err := s.start(o)
		if err != nil {
			return 0, "", err
		}
		later = s.lineIndex(os) > s.lineIndex(a)
	}
	switch comment := strings.TrimSpace(string(s.restOfLine(a))); {
	case !later:
		text = d.keepHeaderComment(o, text)
	case block: // keep "key: # comment"
		a = s.lineEnd(a)
	case comment != "":
		text = afterFirstLine(text, " "+comment)
	}
	return a, text, nil
}

// absorbRest handles the text after the old value on its last line when the
// new text has several lines: it would end up on the last line of the new
// text (inside a block scalar). Trailing blanks are dropped and a comment
// moves to the first line.
func (d *differ) absorbRest(text string, b int) (string, int) {
	rest := d.s.restOfLine(b)
	t := strings.TrimSpace(string(rest))
	if t != "" && t[0] != '#' {
		return text, b
	}
	c := strings.TrimRight(string(rest), " \t")
	if c != "" && c[0] == '#' {
		c = " " + c
	}
	return afterFirstLine(text, c), d.s.lineEnd(b)
}

// guardBlockScalar returns e, or a copy of it whose last scalar is
// double-quoted when it could be written as a block scalar ending the new
// text, and the lines from p on (up to the next content line) hold blanks or
// comments indented deeper than col: they would become its content.
func (d *differ) guardBlockScalar(e *yaml.Node, p, col int) *yaml.Node {
	last := e
	for len(last.Content) > 0 && !isFlow(last) {
		last = last.Content[len(last.Content)-1]
	}
	if last.Kind != yaml.ScalarNode || !strings.Contains(last.Value, "\n") && last.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		return e
	}
	if !d.swallowRisk(p, col) {
		return e
	}
	return withLastQuoted(e)
}

func (d *differ) swallowRisk(p, col int) bool {
	for li := d.s.lineIndex(p); li < len(d.s.lines); li++ {
		line := d.s.lineAt(li)
		switch {
		case isBlank(line):
			if len(line) > col {
				return true
			}
		case isComment(line):
			if indentOf(line) > col {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// withLastQuoted copies the path to the last scalar of n and makes that
// scalar double-quoted.
func withLastQuoted(n *yaml.Node) *yaml.Node {
	c := *n
	if len(n.Content) == 0 || isFlow(n) {
		c.Style = yaml.DoubleQuotedStyle | n.Style&yaml.TaggedStyle
		return &c
	}
	c.Content = append([]*yaml.Node(nil), n.Content...)
	c.Content[len(c.Content)-1] = withLastQuoted(n.Content[len(n.Content)-1])
	return &c
}

// afterFirstLine inserts s at the end of the first line of text.
func afterFirstLine(text, s string) string {
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		return text[:i] + s + text[i:]
	}
	return text + s
}

// keepHeaderComment carries the comment on the header line of a replaced
// block scalar ("key: | # comment") over to the new text.
func (d *differ) keepHeaderComment(o *yaml.Node, text string) string {
	if o.Kind != yaml.ScalarNode || o.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		return text
	}
	p, err := d.s.start(o)
	if err != nil {
		return text
	}
	_, q := d.s.skipProps(p)
	header := string(d.s.restOfLine(q))
	i := strings.Index(header, "#")
	if i < 0 {
		return text
	}
	for i > 1 && isSpace(header[i-1]) {
		i--
	}
	comment := header[i:]
	if comment[0] == '#' {
		comment = " " + comment
	}
	return afterFirstLine(text, comment)
}

// scalarChange replaces the text of a scalar, keeping its quoting style
// when the new value allows it.
func (d *differ) scalarChange(o, e *yaml.Node, sl slot) error {
	blockStyles := yaml.LiteralStyle | yaml.FoldedStyle
	if isEmptyNull(o) || o.Style&blockStyles != 0 {
		if o.Style&blockStyles != 0 && e.Style&blockStyles == 0 && strings.Contains(e.Value, "\n") {
			c := *e
			c.Style = c.Style&yaml.TaggedStyle | o.Style&blockStyles
			e = &c
		}
		return d.replaceValue(o, e, sl)
	}
	tok, ok := d.scalarToken(o, e)
	if !ok {
		return d.replaceValue(o, e, sl)
	}
	a, err := d.s.start(o)
	if err != nil {
		return err
	}
	b, err := d.s.end(o, sl.ctx)
	if err != nil {
		return err
	}
	d.add(a, b, tok)
	return nil
}

// mappingChange diffs two block mappings key by key: changed values are
// diffed recursively, removed keys lose their lines, new keys are inserted
// after the last entry.
func (d *differ) mappingChange(o, e *yaml.Node, sl slot) error {
	if len(e.Content) == 0 {
		return d.replaceValue(o, e, sl)
	}
	oKeys, ok1 := keyIndex(o)
	eKeys, ok2 := keyIndex(e)
	if !ok1 || !ok2 {
		return errFallback
	}
	kc, err := d.s.keyCol(o)
	if err != nil {
		return err
	}
	child := ctx{indent: kc}
	var removed []int
	for i := 0; i < len(o.Content); i += 2 {
		j, ok := eKeys[keyOf(o.Content[i])]
		if !ok {
			removed = append(removed, i)
			continue
		}
		if equalNode(o.Content[i+1], e.Content[j+1]) {
			continue
		}
		after, err := d.s.colonEnd(o.Content[i], child)
		if err != nil {
			return err
		}
		if err := d.diffValue(o.Content[i+1], e.Content[j+1], slot{slotKey, after, kc, child}); err != nil {
			return err
		}
	}
	if 2*len(removed) == len(o.Content) {
		return errFallback
	}
	if err := d.removeEntries(o, removed, kc); err != nil {
		return err
	}
	var added []*yaml.Node
	for j := 0; j < len(e.Content); j += 2 {
		if _, ok := oKeys[keyOf(e.Content[j])]; !ok {
			added = append(added, e.Content[j], e.Content[j+1])
		}
	}
	if len(added) == 0 {
		return nil
	}
	return d.insertAfter(o, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: added}, kc)
}

// entryEnd returns the end of the text of the entry at index i of mapping m.
func (d *differ) entryEnd(m *yaml.Node, i, kc int) (int, error) {
	k, v := m.Content[i], m.Content[i+1]
	if isEmptyNull(v) {
		after, err := d.s.entryKeyEnd(k, ctx{indent: kc})
		if err != nil {
			return 0, err
		}
		return d.s.emptyEnd(v, after), nil
	}
	return d.s.end(v, ctx{indent: kc})
}

// removeEntries removes the entries at the given key indexes (ascending).
func (d *differ) removeEntries(m *yaml.Node, removed []int, kc int) error {
	s := d.s
	for r := 0; r < len(removed); r++ {
		i := removed[r]
		ks, err := s.start(m.Content[i])
		if err != nil {
			return err
		}
		if s.explicitKey(ks) {
			return errFallback
		}
		if s.onlySpaceBefore(ks) {
			end, err := d.entryEnd(m, i, kc)
			if err != nil {
				return err
			}
			d.add(s.lineStart(ks), s.nextLine(end), "")
			continue
		}
		// The first key shares its line with "- ": pull the next kept key up.
		if i != 0 {
			return errFallback
		}
		j := i + 2
		for r+1 < len(removed) && removed[r+1] == j {
			r++
			j += 2
		}
		if j >= len(m.Content) {
			return errFallback
		}
		ns, err := s.start(m.Content[j])
		if err != nil {
			return err
		}
		d.add(ks, ns, "")
	}
	return nil
}

// insertAfter inserts the rendering of the block collection add (new
// entries or items) on the lines after block collection o, at column col.
func (d *differ) insertAfter(o, add *yaml.Node, col int) error {
	b, err := d.s.blockEnd(o)
	if err != nil {
		return err
	}
	return d.insertLines(d.s.nextLine(b), o, add, col)
}

// insertLines inserts the rendering of add at line start p, after the
// text of node last.
func (d *differ) insertLines(p int, last, add *yaml.Node, col int) error {
	if d.noEOL && p == len(d.s.data) {
		if err := d.stripEOFScalar(last); err != nil {
			return err
		}
	}
	add = d.guardBlockScalar(add, p, col)
	out, err := d.encode(add)
	if err != nil {
		return err
	}
	d.add(p, p, indentLines(trimRendering(out, add)+"\n", col, true))
	return nil
}

// stripEOFScalar handles a block scalar ending a file without final
// newline: its value has no trailing line break, which text inserted after
// it would add unless its chomping becomes "strip".
func (d *differ) stripEOFScalar(n *yaml.Node) error {
	for n != nil && len(n.Content) > 0 && !isFlow(n) {
		n = n.Content[len(n.Content)-1]
	}
	if n == nil || n.Kind != yaml.ScalarNode || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		return nil
	}
	p, err := d.s.start(n)
	if err != nil {
		return err
	}
	_, q := d.s.skipProps(p)
	for _, e := range d.edits {
		if e.start <= q && q < e.end {
			return nil // the scalar is being replaced
		}
	}
	header := d.s.restOfLine(q)
	if strings.HasSuffix(n.Value, "\n") {
		if _, keep := blockHeader(header); keep {
			// Its trailing line breaks would grow by one.
			return fmt.Errorf("keep-chomped block scalar ending a file without final newline, line %d: %w", n.Line, ErrUnsupported)
		}
		return nil
	}
	for i := 1; i < len(header) && !isSpace(header[i]) && header[i] != '#'; i++ {
		switch header[i] {
		case '-':
			return nil
		case '+':
			d.add(q+i, q+i+1, "-")
			return nil
		}
	}
	d.add(q+1, q+1, "-")
	return nil
}

// sequenceChange diffs two block sequences: items are aligned on their
// longest common subsequence, then changed, removed or inserted.
func (d *differ) sequenceChange(o, e *yaml.Node, sl slot) error {
	if len(e.Content) == 0 {
		return d.replaceValue(o, e, sl)
	}
	dc, err := d.s.dashCol(o)
	if err != nil {
		return err
	}
	if len(o.Content) == len(e.Content) {
		for i := range o.Content {
			if err := d.diffItem(o, i, e.Content[i], dc); err != nil {
				return err
			}
		}
		return nil
	}
	matches, ok := align(o.Content, e.Content)
	if !ok {
		return errFallback
	}
	matches = append(matches, [2]int{len(o.Content), len(e.Content)})
	oi, ei := 0, 0
	for _, m := range matches {
		if err := d.seqGap(o, e, oi, m[0], ei, m[1], dc); err != nil {
			return err
		}
		oi, ei = m[0]+1, m[1]+1
	}
	return nil
}

// seqGap handles the unmatched items o[oi:oj] and e[ei:ej] between two
// matched items.
func (d *differ) seqGap(o, e *yaml.Node, oi, oj, ei, ej, dc int) error {
	n := min(oj-oi, ej-ei)
	for t := 0; t < n; t++ {
		if err := d.diffItem(o, oi+t, e.Content[ei+t], dc); err != nil {
			return err
		}
	}
	for t := oi + n; t < oj; t++ {
		if err := d.removeItem(o, t, dc); err != nil {
			return err
		}
	}
	if ej-ei == n {
		return nil
	}
	add := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: e.Content[ei+n : ej]}
	if prev := oi + n - 1; prev >= 0 {
		end, err := d.itemEnd(o.Content[prev], dc)
		if err != nil {
			return err
		}
		return d.insertLines(d.s.nextLine(end), o.Content[prev], add, dc)
	}
	de, err := d.s.dashEnd(o.Content[oj])
	if err != nil {
		return err
	}
	if !d.s.onlySpaceBefore(de - 1) {
		return errFallback
	}
	return d.insertLines(d.s.lineStart(de-1), nil, add, dc)
}

func (d *differ) diffItem(o *yaml.Node, i int, e *yaml.Node, dc int) error {
	after, err := d.s.dashEnd(o.Content[i])
	if err != nil {
		return err
	}
	return d.diffValue(o.Content[i], e, slot{slotItem, after, dc, ctx{indent: dc}})
}

func (d *differ) itemEnd(item *yaml.Node, dc int) (int, error) {
	if isEmptyNull(item) {
		after, err := d.s.dashEnd(item)
		if err != nil {
			return 0, err
		}
		return d.s.emptyEnd(item, after), nil
	}
	return d.s.end(item, ctx{indent: dc})
}

func (d *differ) removeItem(o *yaml.Node, i, dc int) error {
	de, err := d.s.dashEnd(o.Content[i])
	if err != nil {
		return err
	}
	if !d.s.onlySpaceBefore(de - 1) {
		return errFallback
	}
	end, err := d.itemEnd(o.Content[i], dc)
	if err != nil {
		return err
	}
	d.add(d.s.lineStart(de-1), d.s.nextLine(end), "")
	return nil
}

// maxAlign bounds the size of the LCS table.
const maxAlign = 1 << 20

// align returns the index pairs of a longest common subsequence of a and b
// (items compared with equalNode semantics).
func align(a, b []*yaml.Node) ([][2]int, bool) {
	if len(a)*len(b) > maxAlign {
		return nil, false
	}
	ca, cb := canons(a), canons(b)
	w := len(b) + 1
	t := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if ca[i] == cb[j] {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	var m [][2]int
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case ca[i] == cb[j]:
			m = append(m, [2]int{i, j})
			i++
			j++
		case t[(i+1)*w+j] >= t[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return m, true
}

func canons(ns []*yaml.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = canon(n)
	}
	return out
}

// flowChange replaces a changed flow collection as a whole: in flow style
// when it fits on one line, in block style otherwise (and always for an
// empty "{}" or "[]" that gains content).
func (d *differ) flowChange(o, e *yaml.Node, sl slot) error {
	if e.Kind != yaml.MappingNode && e.Kind != yaml.SequenceNode {
		return d.replaceValue(o, e, sl)
	}
	if e.Kind == o.Kind && len(o.Content) == 0 && !sl.ctx.flow {
		return d.replaceValue(o, blockStyled(e), sl)
	}
	text, ok := d.renderFlow(e)
	if !ok {
		return d.replaceValue(o, blockStyled(e), sl)
	}
	a, err := d.s.start(o)
	if err != nil {
		return err
	}
	b, err := d.s.end(o, sl.ctx)
	if err != nil {
		return err
	}
	d.add(a, b, text)
	return nil
}

// blockStyled returns a shallow copy of n without flow style.
func blockStyled(n *yaml.Node) *yaml.Node {
	c := *n
	c.Style &^= yaml.FlowStyle
	return &c
}
