package overlay

import (
	"slices"
	"sort"
)

// apply verifies the edits and records the accepted ones. The edits are
// first computed one after the other on one state of the repository, and
// split into independent groups (edits that share no file and no affected
// kustomization). Each group is verified at once: one rendering of every
// kustomization it affects checks the invariant for all of its edits. A
// group that fails is tried again edit by edit, in order, on the
// repository as the accepted edits left it, so that a bad edit is dropped
// without its neighbours.
func (pl *planner) apply(edits []*edit, cur map[string]*rendered, res *Result) {
	var all []*staged
	var rest []*edit
	work := pl.before
	for _, e := range edits {
		s, err := pl.stage(e, work)
		if err != nil {
			rest = append(rest, e) // may succeed without the others: tried alone below
			continue
		}
		all = append(all, s)
		work = work.with(s.changes)
	}
	st := pl.before
	for _, g := range independent(all, cur) {
		if next := pl.applyGroup(g, st, cur, res); next != nil {
			st = next
			continue
		}
		var es []*edit
		for _, s := range g {
			es = append(es, s.e)
		}
		st = pl.applyEach(es, st, cur, res)
	}
	st = pl.applyEach(rest, st, cur, res)
	for _, p := range sortedKeys(st.files) {
		after := st.files[p]
		before, err := pl.before.read(p)
		if err != nil {
			before = nil
		}
		if err == nil && string(before) == string(after) {
			continue
		}
		res.Files = append(res.Files, FileChange{Path: p, Before: before, After: after})
	}
}

// staged is an edit whose change was computed.
type staged struct {
	e       *edit
	changes map[string][]byte
	also    []string
	line    int
}

// stage computes an edit's change on st.
func (pl *planner) stage(e *edit, st *view) (*staged, error) {
	changes, also, err := pl.change(e, st)
	if err != nil {
		return nil, err
	}
	s := &staged{e: e, changes: changes, also: also, line: 1}
	if before, err := st.read(e.file); err == nil {
		s.line = firstChange(before, changes[e.file])
	}
	return s, nil
}

func (s *staged) intend(in intent) {
	for _, c := range s.e.cands {
		in.add(c.info.root, objKey(c.info.obj), c.fx.StrategicMergeJSON, c.r.Finding.Fingerprint())
	}
}

// independent splits staged edits into groups that share no file and no
// kustomization reading a changed file, keeping their order.
func independent(all []*staged, cur map[string]*rendered) [][]*staged {
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	var findRoot func(int) int
	findRoot = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{} // a file or a root → the first edit touching it
	link := func(key string, i int) {
		if j, ok := owner[key]; ok {
			parent[findRoot(i)] = findRoot(j)
			return
		}
		owner[key] = i
	}
	for i, s := range all {
		for p := range s.changes {
			link("file:"+p, i)
			for root, rr := range cur {
				if rr.r != nil {
					if _, ok := rr.r.Reads[p]; ok {
						link("root:"+root, i)
					}
				}
			}
		}
	}
	var order []int
	groups := map[int][]*staged{}
	for i, s := range all {
		r := findRoot(i)
		if _, ok := groups[r]; !ok {
			order = append(order, r)
		}
		groups[r] = append(groups[r], s)
	}
	out := make([][]*staged, 0, len(order))
	for _, r := range order {
		out = append(out, groups[r])
	}
	return out
}

// applyGroup verifies a group of edits at once on st and accepts them all;
// it returns nil (and changes nothing) when the group must be tried edit
// by edit.
func (pl *planner) applyGroup(g []*staged, st *view, cur map[string]*rendered, res *Result) *view {
	changes := map[string][]byte{}
	in := intent{}
	for _, s := range g {
		for p, b := range s.changes {
			changes[p] = b // a later edit of a file includes the earlier ones
		}
		s.intend(in)
	}
	out, err := pl.verify(cur, st, changes, in)
	if err != nil {
		return nil
	}
	for _, s := range g {
		if !pl.changesSomething(s, out) {
			return nil // an edit that changes nothing must not be written
		}
	}
	for root, r := range out.next {
		cur[root] = r
	}
	for _, s := range g {
		pl.accept(s, out, res)
	}
	return st.with(changes)
}

func (pl *planner) changesSomething(s *staged, out *outcome) bool {
	for _, c := range s.e.cands {
		if slices.Contains(out.changed[c.info.root], objKey(c.info.obj)) {
			return true
		}
	}
	return false
}

// applyEach tries the edits one by one, from st.
func (pl *planner) applyEach(edits []*edit, st *view, cur map[string]*rendered, res *Result) *view {
	for _, e := range edits {
		drop := func(reason string) {
			res.Dropped = append(res.Dropped, Dropped{Placement: e.placement, File: e.file, Findings: findingsOf(e.cands), Reason: reason})
		}
		s, err := pl.stage(e, st)
		if err != nil {
			drop(err.Error())
			continue
		}
		in := intent{}
		s.intend(in)
		out, err := pl.verify(cur, st, s.changes, in)
		if err != nil {
			drop("verification failed: " + err.Error())
			continue
		}
		st = st.with(s.changes)
		for root, r := range out.next {
			cur[root] = r
		}
		pl.accept(s, out, res)
	}
	return st
}

// accept records a verified edit.
func (pl *planner) accept(s *staged, out *outcome, res *Result) {
	e := s.e
	fix := Fix{Placement: e.placement, File: e.file, Line: s.line, Also: s.also,
		Source: e.first().src.describe(e.first().info.origin), Patch: e.first().fx}
	if e.placement == PlacementNewPatch {
		fix.Root = e.root
	}
	var missed []Finding
	for _, c := range e.cands {
		if slices.Contains(out.changed[c.info.root], objKey(c.info.obj)) {
			fix.Findings = append(fix.Findings, c.f)
			if !slices.Contains(fix.Changed, c.info.root) {
				fix.Changed = append(fix.Changed, c.info.root)
			}
		} else {
			missed = append(missed, c.f)
		}
	}
	sort.Strings(fix.Changed)
	res.Fixes = append(res.Fixes, fix)
	if len(missed) > 0 {
		res.Dropped = append(res.Dropped, Dropped{Placement: e.placement, File: e.file, Findings: missed,
			Reason: "the edit does not change these renderings (a later patch or transformer sets the value)"})
	}
}

func findingsOf(cs []*cand) []Finding {
	out := make([]Finding, len(cs))
	for i, c := range cs {
		out[i] = c.f
	}
	return out
}
