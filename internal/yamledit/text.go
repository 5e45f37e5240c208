package yamledit

import (
	"bytes"
	"fmt"
	"sort"
	"unicode/utf8"
)

// source is the text being edited, with a line index. Lines end at \n
// (optionally preceded by \r); files with other line breaks are not
// editable.
type source struct {
	data  []byte
	lines []int // lines[i] is the offset where line i+1 starts
	bom   int   // length of a leading UTF-8 byte order mark
}

var utf8BOM = []byte("\xef\xbb\xbf")

func newSource(data []byte) *source {
	s := &source{data: data, lines: []int{0}}
	if bytes.HasPrefix(data, utf8BOM) {
		s.bom = len(utf8BOM)
	}
	for i, c := range data {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// offset converts a yaml.v3 position (1-based line, 1-based column counted
// in runes, a leading BOM not counted) into a byte offset.
func (s *source) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) || col < 1 {
		return 0, fmt.Errorf("position %d:%d out of range", line, col)
	}
	p := s.lines[line-1]
	if line == 1 {
		p += s.bom
	}
	for i := 1; i < col; i++ {
		if p >= len(s.data) || s.data[p] == '\n' {
			return 0, fmt.Errorf("column %d beyond the end of line %d", col, line)
		}
		_, w := utf8.DecodeRune(s.data[p:])
		p += w
	}
	return p, nil
}

// lineIndex returns the 0-based index of the line containing off.
func (s *source) lineIndex(off int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
}

// lineStart returns the offset of the start of the line containing off.
func (s *source) lineStart(off int) int { return s.lines[s.lineIndex(off)] }

// lineEnd returns the offset of the line break ending the line containing
// off (the \r of a \r\n), or len(data).
func (s *source) lineEnd(off int) int {
	i := bytes.IndexByte(s.data[off:], '\n')
	if i < 0 {
		return len(s.data)
	}
	e := off + i
	if e > off && s.data[e-1] == '\r' {
		e--
	}
	return e
}

// nextLine returns the offset just after the line break ending the line
// containing off, or len(data).
func (s *source) nextLine(off int) int {
	i := bytes.IndexByte(s.data[off:], '\n')
	if i < 0 {
		return len(s.data)
	}
	return off + i + 1
}

// column returns the number of bytes between the start of off's line and
// off (the visual column for the ASCII indentation YAML allows).
func (s *source) column(off int) int { return off - s.lineStart(off) }

// onlySpaceBefore reports whether off is preceded on its line by spaces only.
func (s *source) onlySpaceBefore(off int) bool {
	for i := s.lineStart(off); i < off; i++ {
		if s.data[i] != ' ' {
			return false
		}
	}
	return true
}

// restOfLine returns the text after off up to the line break.
func (s *source) restOfLine(off int) []byte { return s.data[off:s.lineEnd(off)] }

// lineAt returns the content of the 0-based line i without its break.
func (s *source) lineAt(i int) []byte {
	start := s.lines[i]
	return s.data[start:s.lineEnd(start)]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isBlankOrBreak(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpaces skips spaces and tabs.
func (s *source) skipSpaces(p int) int {
	for p < len(s.data) && isSpace(s.data[p]) {
		p++
	}
	return p
}

// indentOf counts the leading spaces of a line.
func indentOf(line []byte) int {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	return n
}

// isBlank reports whether a line holds only spaces and tabs.
func isBlank(line []byte) bool { return len(bytes.Trim(line, " \t")) == 0 }

// isComment reports whether a line holds only a comment.
func isComment(line []byte) bool {
	t := bytes.TrimLeft(line, " \t")
	return len(t) > 0 && t[0] == '#'
}
