package render

import (
	"errors"
	"strings"
)

// The packer lays a document out over the pull request body and as many
// follow-up comments as it needs, each at most Limit long (see Length). It
// places whole items only: a table row, a code block, a control's text. A
// section continued in a new comment gets its heading again ("…
// (continued)"), and a group (a <details> fold or a table) is closed at the
// end of a part and opened again in the next, so every part is valid
// Markdown on its own.

// item is the smallest unit the packer places.
type item struct {
	text string
	// split gives smaller items to place instead when text cannot fit in
	// an empty comment; nil when it cannot be split.
	split func() []item
	// tooLarge is shown instead when text cannot fit and cannot be split.
	tooLarge string
}

// group is a run of items inside a wrapper: a <details> fold or a table
// (open is its header). reopen is open for a continuation; close ends it.
type group struct {
	open, reopen, close string
	items               []item
	started             bool
}

// section is a part of the document with a heading.
type section struct {
	// name says what the section holds, for the "continued in comments"
	// notice: "the manual fallback".
	name               string
	heading, reheading string
	groups             []*group
	started            bool
}

// reset makes a section new again, for another layout.
func (s *section) reset() {
	if s == nil {
		return
	}
	s.started = false
	for _, g := range s.groups {
		g.started = false
	}
}

type part struct {
	b     strings.Builder
	n     int // Length of b plus the part's reserve
	items int
	sec   *section
	grp   *group
	// names of the sections that have items in this part
	names []string
}

type packer struct {
	limit int
	// commentReserve is kept free in every comment for its heading.
	commentReserve int
	parts          []*part
	cur            *part
}

var errNoRoom = errors.New("no room")

func newPacker(limit, bodyReserve, commentReserve int) *packer {
	p := &packer{limit: limit, commentReserve: commentReserve}
	first := &part{n: bodyReserve}
	p.parts = []*part{first}
	p.cur = first
	return p
}

func (p *packer) write(s string) {
	p.cur.b.WriteString(s)
	p.cur.n += Length(s)
}

// writeFree writes text outside any section (the introduction); it must
// fit.
func (p *packer) writeFree(s string) error {
	p.closeOpen()
	if p.cur.n+Length(s) > p.limit {
		return errNoRoom
	}
	p.write(s)
	return nil
}

func closeLen(c *part) int {
	if c.grp == nil {
		return 0
	}
	return Length(c.grp.close)
}

func (g *group) opener() string {
	if g.started {
		return g.reopen
	}
	return g.open
}

func (s *section) header() string {
	if s.started {
		return s.reheading
	}
	return s.heading
}

// cost is the Length of the current part once text is placed in group g
// of section s, with room left to close the group.
func (p *packer) cost(s *section, g *group, text string) int {
	c := p.cur
	n := c.n
	switch {
	case c.sec != s:
		n += closeLen(c) + Length(s.header()) + Length(g.opener())
	case c.grp != g:
		n += closeLen(c) + Length(g.opener())
	}
	return n + Length(text) + Length(g.close)
}

// put places text, opening the section and the group as needed.
func (p *packer) put(s *section, g *group, text string) {
	c := p.cur
	if c.sec != s {
		p.closeOpen()
		p.write(s.header())
		s.started = true
		c.sec = s
		c.names = append(c.names, s.name)
	}
	if c.grp != g {
		if c.grp != nil {
			p.write(c.grp.close)
		}
		p.write(g.opener())
		g.started = true
		c.grp = g
	}
	p.write(text)
	c.items++
}

// closeOpen closes the open group and section of the current part.
func (p *packer) closeOpen() {
	c := p.cur
	if c.grp != nil {
		p.write(c.grp.close)
	}
	c.grp, c.sec = nil, nil
}

// newPart closes the current part and starts a comment.
func (p *packer) newPart() {
	p.closeOpen()
	c := &part{n: p.commentReserve}
	p.parts = append(p.parts, c)
	p.cur = c
}

// breakBody starts the comments, unless they have started already.
func (p *packer) breakBody() {
	if p.cur == p.parts[0] {
		p.newPart()
	}
}

// place puts an item where it fits: in the current part, else in a new
// comment, else split, else replaced by its too-large text.
func (p *packer) place(s *section, g *group, it item) error {
	if p.cost(s, g, it.text) <= p.limit {
		p.put(s, g, it.text)
		return nil
	}
	if p.cur.items > 0 || p.cur == p.parts[0] {
		p.newPart()
		if p.cost(s, g, it.text) <= p.limit {
			p.put(s, g, it.text)
			return nil
		}
	}
	if it.split != nil {
		for _, sub := range it.split() {
			if err := p.place(s, g, sub); err != nil {
				return err
			}
		}
		return nil
	}
	if it.tooLarge != "" && p.cost(s, g, it.tooLarge) <= p.limit {
		p.put(s, g, it.tooLarge)
		return nil
	}
	return errNoRoom
}

// section places every item of s.
func (p *packer) section(s *section) error {
	for _, g := range s.groups {
		for _, it := range g.items {
			if err := p.place(s, g, it); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish closes the last part and drops a trailing comment left empty.
func (p *packer) finish() {
	p.closeOpen()
	if n := len(p.parts); n > 1 && p.parts[n-1].items == 0 {
		p.parts = p.parts[:n-1]
	}
}
