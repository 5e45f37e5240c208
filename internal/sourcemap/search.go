package sourcemap

import "fmt"

// bySearch searches the default checkout.
func (m *Mapper) bySearch(o *object, _ int) (outcome, bool) {
	c := m.def
	if c == nil {
		return fail(fmt.Errorf("%w: no tracking metadata, and no default checkout to search", ErrNotFound)), true
	}
	s, err := c.scopeFor("", scopeTree, xform{}, false)
	if err != nil {
		return fail(err), true
	}
	ix, _ := c.index()
	var hits []candidate
	for _, mt := range ix.search(s, o, "") {
		e := &ix.entries[mt.id]
		l := locFromEntry(e)
		l.Repo = c.url
		l.Kind, l.Via, l.Confidence = kindOfFile(ix, e.file), ViaSearch, ConfidenceLow
		l.Detail = fmt.Sprintf("search: %s found in %s of the default checkout", o.ref, e.file)
		hits = append(hits, candidate{l, mt.tier})
	}
	if len(hits) == 0 {
		return fail(fmt.Errorf("%w: no tracking metadata, and the default checkout has no %s %s", ErrNotFound, o.ref.APIVersion, o.ref)), true
	}
	return pickTier("search", hits), true
}
