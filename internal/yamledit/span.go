package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// errSpan reports that the text of a node could not be located.
var errSpan = errors.New("cannot locate node text")

// ctx is the context a node appears in.
type ctx struct {
	flow   bool // inside a flow collection
	indent int  // column of the enclosing block key or dash; -1 at the root
}

var rootCtx = ctx{indent: -1}

// start returns the offset of the first character of n (its tag or anchor
// if it has one).
func (s *source) start(n *yaml.Node) (int, error) {
	p, err := s.offset(n.Line, n.Column)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errSpan, err)
	}
	return p, nil
}

// col returns the visual column of off (a BOM is not counted).
func (s *source) col(off int) int {
	c := s.column(off)
	if s.lineIndex(off) == 0 {
		c -= s.bom
	}
	return c
}

// skipProps skips the node properties (tag, anchor) at p. It returns the
// end of the properties and the start of the content.
func (s *source) skipProps(p int) (propsEnd, content int) {
	propsEnd, content = p, p
	for content < len(s.data) && (s.data[content] == '!' || s.data[content] == '&') {
		content = s.propEnd(content)
		propsEnd = content
		content = s.skipSpaces(content)
		if content < len(s.data) && (s.data[content] == '\n' || s.data[content] == '\r') {
			content = s.skipBlankLines(content)
		}
	}
	return propsEnd, content
}

// skipBlankLines skips line breaks and the indentation of the next
// non-blank line.
func (s *source) skipBlankLines(p int) int {
	for p < len(s.data) && isBlankOrBreak(s.data[p]) {
		p++
	}
	return p
}

// propEnd returns the end of the tag, anchor or alias starting at p. Tags
// are read as libyaml (yaml.v3) reads them: URI characters, including
// ',', '[' and ']'; anchors and aliases up to a blank or flow indicator.
func (s *source) propEnd(p int) int {
	i := p + 1
	if s.data[p] != '!' {
		for i < len(s.data) && !isBlankOrBreak(s.data[i]) && !isFlowIndicator(s.data[i]) {
			i++
		}
		return i
	}
	if i < len(s.data) && s.data[i] == '<' {
		if j := bytes.IndexByte(s.data[i:], '>'); j >= 0 {
			return i + j + 1
		}
	}
	for i < len(s.data) && isTagChar(s.data[i]) {
		i++
	}
	return i
}

func isTagChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ||
		strings.IndexByte("_-;/?:@&=+$,.!~*'()[]%", c) >= 0
}

// isEmptyNull reports whether n is an empty, untagged plain scalar (`key:`).
func isEmptyNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "" && n.Style == 0
}

func isFlow(n *yaml.Node) bool {
	return (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle != 0
}

// end returns the offset just after the last character of n's text.
func (s *source) end(n *yaml.Node, c ctx) (int, error) {
	p, err := s.start(n)
	if err != nil {
		return 0, err
	}
	switch {
	case n.Kind == yaml.ScalarNode:
		return s.scalarEnd(p, n, c)
	case isFlow(n):
		_, q := s.skipProps(p)
		return s.flowEnd(q)
	case (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) > 0:
		return s.blockEnd(n)
	}
	return 0, fmt.Errorf("%w: node kind %v at line %d", errSpan, n.Kind, n.Line)
}

// blockEnd returns the end of the last entry of a block collection.
func (s *source) blockEnd(n *yaml.Node) (int, error) {
	last := n.Content[len(n.Content)-1]
	if n.Kind == yaml.MappingNode {
		key := n.Content[len(n.Content)-2]
		kc, err := s.keyCol(n)
		if err != nil {
			return 0, err
		}
		if isEmptyNull(last) {
			after, err := s.entryKeyEnd(key, ctx{indent: kc})
			if err != nil {
				return 0, err
			}
			return s.emptyEnd(last, after), nil
		}
		return s.end(last, ctx{indent: kc})
	}
	dc, err := s.dashCol(n)
	if err != nil {
		return 0, err
	}
	if isEmptyNull(last) {
		after, err := s.dashEnd(last)
		if err != nil {
			return 0, err
		}
		return s.emptyEnd(last, after), nil
	}
	return s.end(last, ctx{indent: dc})
}

// emptyEnd returns the end of the empty value v whose ':' or '-' ends at
// after: after itself, or the end of a non-specific tag ("key: !").
func (s *source) emptyEnd(v *yaml.Node, after int) int {
	p, err := s.start(v)
	if err != nil || p < after || p >= len(s.data) || s.data[p] != '!' && s.data[p] != '&' {
		return after
	}
	pe, _ := s.skipProps(p)
	return pe
}

// keyCol returns the column of the keys of a block mapping (of the '?' of
// an explicit first key).
func (s *source) keyCol(m *yaml.Node) (int, error) {
	p, err := s.start(m.Content[0])
	if err != nil {
		return 0, err
	}
	if s.explicitKey(p) {
		p = bytes.LastIndexByte(s.data[:p], '?')
	}
	return s.col(p), nil
}

// dashCol returns the column of the dashes of a block sequence.
func (s *source) dashCol(seq *yaml.Node) (int, error) {
	p, err := s.dashEnd(seq.Content[0])
	if err != nil {
		return 0, err
	}
	return s.col(p - 1), nil
}

// dashEnd returns the offset just after the '-' introducing a block
// sequence item.
func (s *source) dashEnd(item *yaml.Node) (int, error) {
	p, err := s.start(item)
	if err != nil {
		return 0, err
	}
	ls := s.lineStart(p)
	i := p
	for i > ls && isSpace(s.data[i-1]) {
		i--
	}
	if i > ls {
		if s.data[i-1] == '-' {
			return i, nil
		}
		return 0, fmt.Errorf("%w: no dash before item at line %d", errSpan, item.Line)
	}
	for li := s.lineIndex(p) - 1; li >= 0; li-- {
		line := s.lineAt(li)
		if isBlank(line) || isComment(line) {
			continue
		}
		t := strings.TrimLeft(string(line), " ")
		if t == "-" || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "-\t") {
			rest := strings.TrimSpace(t[1:])
			if rest == "" || rest[0] == '#' {
				return s.lines[li] + len(line) - len(t) + 1, nil
			}
		}
		break
	}
	return 0, fmt.Errorf("%w: no dash before item at line %d", errSpan, item.Line)
}

// explicitKey reports whether the key starting at p follows a '?'.
func (s *source) explicitKey(p int) bool {
	i := p
	for i > s.lineStart(p) && isSpace(s.data[i-1]) {
		i--
	}
	return i > s.lineStart(p) && s.data[i-1] == '?'
}

// colonEnd returns the offset just after the ':' following a block key.
func (s *source) colonEnd(key *yaml.Node, c ctx) (int, error) {
	e, found, err := s.valueIndicator(key, c)
	if err == nil && !found {
		err = fmt.Errorf("%w: explicit key without value at line %d", errSpan, key.Line)
	}
	return e, err
}

// entryKeyEnd returns the end of a key and of its ':' (an explicit key may
// have none).
func (s *source) entryKeyEnd(key *yaml.Node, c ctx) (int, error) {
	e, _, err := s.valueIndicator(key, c)
	return e, err
}

// valueIndicator finds the ':' following a block key: on the key's line, or
// at the start of a later line for an explicit key ("? key"). Without one it
// returns the end of the key and found == false.
func (s *source) valueIndicator(key *yaml.Node, c ctx) (int, bool, error) {
	if key.Kind != yaml.ScalarNode {
		return 0, false, fmt.Errorf("%w: complex key at line %d", errSpan, key.Line)
	}
	e, err := s.end(key, c)
	if err != nil {
		return 0, false, err
	}
	if p := s.skipSpaces(e); p < len(s.data) && s.data[p] == ':' {
		return p + 1, true, nil
	}
	p, err := s.start(key)
	if err != nil {
		return 0, false, err
	}
	if !s.explicitKey(p) {
		return 0, false, fmt.Errorf("%w: no colon after key at line %d", errSpan, key.Line)
	}
	for li := s.lineIndex(e) + 1; li < len(s.lines); li++ {
		line := s.lineAt(li)
		if isBlank(line) || isComment(line) {
			continue
		}
		t := bytes.TrimLeft(line, " ")
		if t[0] == ':' && (len(t) == 1 || isBlankOrBreak(t[1])) {
			return s.lines[li] + len(line) - len(t) + 1, true, nil
		}
		break
	}
	return e, false, nil
}

// scalarEnd returns the end of the scalar n starting at p.
func (s *source) scalarEnd(p int, n *yaml.Node, c ctx) (int, error) {
	propsEnd, q := s.skipProps(p)
	quoted := yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
	if n.Value == "" && n.Style&quoted == 0 {
		return propsEnd, nil
	}
	if q >= len(s.data) {
		return 0, fmt.Errorf("%w: scalar at line %d", errSpan, n.Line)
	}
	switch {
	case s.data[q] == '"':
		return s.doubleQuotedEnd(q)
	case s.data[q] == '\'':
		return s.singleQuotedEnd(q)
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return s.blockScalarEnd(q, c)
	}
	return s.plainEnd(q, n, c)
}

func (s *source) doubleQuotedEnd(q int) (int, error) {
	for i := q + 1; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated double-quoted scalar", errSpan)
}

func (s *source) singleQuotedEnd(q int) (int, error) {
	for i := q + 1; i < len(s.data); i++ {
		if s.data[i] != '\'' {
			continue
		}
		if i+1 < len(s.data) && s.data[i+1] == '\'' {
			i++
			continue
		}
		return i + 1, nil
	}
	return 0, fmt.Errorf("%w: unterminated single-quoted scalar", errSpan)
}

// plainLineEnd returns the end of the part of a plain scalar on the line
// starting at p (trailing blanks excluded).
func (s *source) plainLineEnd(p int, flow bool) int {
	i := p
loop:
	for ; i < len(s.data); i++ {
		ch := s.data[i]
		switch {
		case ch == '\n' || ch == '\r':
			break loop
		case ch == '#' && i > p && isSpace(s.data[i-1]):
			break loop
		case ch == ':' && (i+1 == len(s.data) || isBlankOrBreak(s.data[i+1]) || flow && strings.ContainsRune(",[]{}", rune(s.data[i+1]))):
			break loop
		case flow && strings.ContainsRune(",[]{}", rune(ch)):
			break loop
		}
	}
	for i > p && isSpace(s.data[i-1]) {
		i--
	}
	return i
}

// plainEnd returns the end of a plain scalar, following continuation lines
// as long as their folded text continues the parsed value (in linear time).
func (s *source) plainEnd(q int, n *yaml.Node, c ctx) (int, error) {
	e := s.plainLineEnd(q, c.flow)
	v := n.Value
	pos := e - q
	if pos > len(v) || v[:pos] != string(s.data[q:e]) {
		return 0, fmt.Errorf("%w: plain scalar at line %d", errSpan, n.Line)
	}
	breaks := 0
	for li := s.lineIndex(q) + 1; pos < len(v) && li < len(s.lines); li++ {
		line := s.lineAt(li)
		if isBlank(line) {
			breaks++
			continue
		}
		if isComment(line) || !c.flow && indentOf(line) <= c.indent {
			break
		}
		start := s.lines[li] + len(line) - len(bytes.TrimLeft(line, " \t"))
		end := s.plainLineEnd(start, c.flow)
		sep := " "
		if breaks > 0 {
			sep = strings.Repeat("\n", breaks)
		}
		if !strings.HasPrefix(v[pos:], sep) || !strings.HasPrefix(v[pos+len(sep):], string(s.data[start:end])) {
			break
		}
		pos += len(sep) + end - start
		e, breaks = end, 0
	}
	if pos != len(v) {
		return 0, fmt.Errorf("%w: plain scalar at line %d", errSpan, n.Line)
	}
	return e, nil
}

// blockScalarEnd returns the end of a literal or folded scalar whose header
// starts at q: the end of its last content line, or of its last trailing
// blank line with keep chomping.
func (s *source) blockScalarEnd(q int, c ctx) (int, error) {
	explicit, keep := blockHeader(s.restOfLine(q))
	first := s.lineIndex(q) + 1
	ci := s.blockIndent(first, explicit, c.indent)
	end, blankEnd := s.lineEnd(q), -1
	// The empty "line" after a final line break is not a line.
	for li := first; li < len(s.lines) && s.lines[li] < len(s.data); li++ {
		line := s.lineAt(li)
		if strings.Trim(string(line), " ") == "" && len(line) <= ci {
			blankEnd = s.lines[li] + len(line)
			continue
		}
		if indentOf(line) < ci {
			break
		}
		end, blankEnd = s.lines[li]+len(line), -1
	}
	if keep && blankEnd > end {
		end = blankEnd
	}
	if end > len(s.data) {
		end = len(s.data)
	}
	return end, nil
}

// blockHeader parses the indentation and chomping indicators of a block
// scalar header ("|", ">2-", "|+" ...).
func blockHeader(header []byte) (explicit int, keep bool) {
	for _, ch := range header[1:] {
		switch {
		case ch >= '1' && ch <= '9':
			explicit = int(ch - '0')
		case ch == '+':
			keep = true
		case ch == '-':
		default:
			return explicit, keep
		}
	}
	return explicit, keep
}

// blockIndent returns the content indentation of a block scalar whose
// content starts at line index first, as libyaml computes it.
func (s *source) blockIndent(first, explicit, parent int) int {
	if explicit > 0 {
		if parent < 0 {
			return explicit
		}
		return parent + explicit
	}
	ci := 0
	for li := first; li < len(s.lines); li++ {
		line := s.lineAt(li)
		n := indentOf(line)
		if n > ci {
			ci = n
		}
		if strings.Trim(string(line), " ") != "" {
			break
		}
	}
	return max(ci, parent+1, 1)
}

// flowEnd returns the offset just after the bracket closing the flow
// collection opened at p, honouring quoted and plain scalars, properties
// and comments.
func (s *source) flowEnd(p int) (int, error) {
	depth, plain := 0, false
	for i := p; i < len(s.data); i++ {
		ch := s.data[i]
		if ch == '#' && i > p && isBlankOrBreak(s.data[i-1]) {
			i, plain = s.lineEnd(i)-1, false
			continue
		}
		if plain {
			if !isFlowIndicator(ch) && !(ch == ':' && s.plainColon(i)) {
				continue
			}
			plain = false
		}
		switch {
		case ch == '[' || ch == '{':
			depth++
		case ch == ']' || ch == '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case ch == ',' || ch == ':' || ch == '?' || isBlankOrBreak(ch):
		case ch == '"' || ch == '\'':
			e, err := s.quotedEnd(i)
			if err != nil {
				return 0, err
			}
			i = e - 1
		case ch == '!' || ch == '&' || ch == '*':
			i = s.propEnd(i) - 1
		default:
			plain = true
		}
	}
	return 0, fmt.Errorf("%w: unterminated flow collection", errSpan)
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}

// plainColon reports whether the ':' at i ends a plain scalar in flow
// context (it is followed by a blank or a flow indicator).
func (s *source) plainColon(i int) bool {
	return i+1 == len(s.data) || isBlankOrBreak(s.data[i+1]) || isFlowIndicator(s.data[i+1])
}

func (s *source) quotedEnd(q int) (int, error) {
	if s.data[q] == '"' {
		return s.doubleQuotedEnd(q)
	}
	return s.singleQuotedEnd(q)
}
