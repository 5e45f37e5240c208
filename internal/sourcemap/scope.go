package sourcemap

import (
	"cmp"
	"slices"
	"strings"
)

// xform is what kustomize (or Argo CD's and Flux's kustomize options) does
// to the names and namespaces of the objects of a file.
type xform struct {
	prefix, suffix string
	ns             string // namespace override, "" for none
}

// inner returns the transformation seen by the resources of kustomization
// k included from a kustomization transformed by t: prefixes and suffixes
// accumulate (the outer one outermost), and the outermost namespace wins.
func (t xform) inner(k *kustFile) xform {
	out := xform{prefix: t.prefix + k.prefix, suffix: k.suffix + t.suffix, ns: t.ns}
	if out.ns == "" {
		out.ns = k.ns
	}
	return out
}

// strip returns the name before the transformation, if live can be its
// result.
func (t xform) strip(live string) (string, bool) {
	if len(live) < len(t.prefix)+len(t.suffix) || !strings.HasPrefix(live, t.prefix) || !strings.HasSuffix(live, t.suffix) {
		return "", false
	}
	return live[len(t.prefix) : len(live)-len(t.suffix)], true
}

// scopeKey identifies a scope of a checkout.
type scopeKey struct {
	dir       string
	mode      scopeMode
	transform xform
}

type scopeMode uint8

const (
	scopeDir       scopeMode = iota // the files directly in dir
	scopeTree                       // every file under dir
	scopeKustomize                  // what the kustomization in dir includes
)

// scope is a set of files an app deploys, with the transformation each
// gets.
type scope struct {
	key scopeKey
	// files, for kustomize scopes: file → transformations (a file can be
	// included twice).
	files   map[string][]xform
	xforms  []xform // distinct transformations of files
	remote  []string
	escaped []string
	missing []string
}

// scopeFor returns the (cached) scope of dir in the checkout. auto picks a
// kustomize scope when dir holds a kustomization, else mode.
func (c *checkout) scopeFor(dir string, mode scopeMode, t xform, auto bool) (*scope, error) {
	ix, err := c.index()
	if err != nil {
		return nil, err
	}
	if auto && ix.kusts[dir] != nil {
		mode = scopeKustomize
	}
	k := scopeKey{dir: dir, mode: mode, transform: t}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.scopes[k]; ok {
		return s, nil
	}
	s := &scope{key: k}
	if mode == scopeKustomize {
		c.buildKustomizeScope(ix, s)
	}
	if c.scopes == nil {
		c.scopes = map[scopeKey]*scope{}
	}
	c.scopes[k] = s
	return s, nil
}

// buildKustomizeScope follows the kustomization in s.key.dir through its
// resources, bases and components, inside the checkout.
func (c *checkout) buildKustomizeScope(ix *index, s *scope) {
	s.files = map[string][]xform{}
	onStack := map[string]bool{}
	var walk func(dir string, t xform)
	walk = func(dir string, t xform) {
		k := ix.kusts[dir]
		onStack[dir] = true
		defer delete(onStack, dir)
		t = t.inner(k)
		for _, r := range k.resources {
			if isRemote(r) {
				s.remote = append(s.remote, r)
				continue
			}
			p, err := joinRel(dir, r)
			if err != nil {
				s.escaped = append(s.escaped, path2(dir, r))
				continue
			}
			if _, ok := ix.files[p]; !ok && ix.kusts[p] == nil {
				// Not indexed: maybe reached through a symbolic link.
				real, err := c.locateAny(p)
				if err != nil {
					if isEscape(err) {
						s.escaped = append(s.escaped, p)
					} else {
						s.missing = append(s.missing, p)
					}
					continue
				}
				p = real
			}
			switch {
			case ix.kusts[p] != nil:
				if !onStack[p] {
					walk(p, t)
				}
			case ix.files[p] != nil:
				if !slices.Contains(s.files[p], t) {
					s.files[p] = append(s.files[p], t)
				}
				if !slices.Contains(s.xforms, t) {
					s.xforms = append(s.xforms, t)
				}
			default:
				s.missing = append(s.missing, p)
			}
		}
	}
	walk(s.key.dir, s.key.transform)
}

func path2(dir, r string) string {
	if dir == "" {
		return r
	}
	return dir + "/" + r
}

// locateAny resolves p to a file or directory of the checkout.
func (c *checkout) locateAny(p string) (string, error) {
	root, err := c.open()
	if err != nil {
		return "", err
	}
	defer root.Close()
	return c.resolve(root, p)
}

// match is a candidate entry with how well its namespace matches.
type match struct {
	id   int32
	tier int // 0: namespace matches; 1: the file sets none and nothing says which
}

// nsTier says how well an entry's namespace fits the object's. defaultNS
// is the namespace the deploying app puts namespace-less objects in (Argo
// CD destination.namespace), "" when unknown.
func nsTier(e *entry, t xform, defaultNS, objNS string) (int, bool) {
	if objNS == "" { // cluster-scoped
		if e.ns == "" {
			return 0, true
		}
		return 1, true // a namespace on a cluster-scoped object is ignored
	}
	eff := e.ns
	if t.ns != "" {
		eff = t.ns
	}
	switch {
	case eff == objNS:
		return 0, true
	case eff == "" && defaultNS == objNS:
		return 0, true
	case eff == "" && defaultNS == "":
		return 1, true
	}
	return 0, false
}

// search returns the best matches for o in s: the entries of the same
// group, kind and name (after the scope's transformations) whose namespace
// fits, best tier only, sorted.
func (ix *index) search(s *scope, o *object, defaultNS string) []match {
	var out []match
	add := func(id int32, t xform) {
		e := &ix.entries[id]
		if e.group != o.group {
			return
		}
		tier, ok := nsTier(e, t, defaultNS, o.ref.Namespace)
		if !ok {
			return
		}
		for i := range out {
			if out[i].id == id {
				out[i].tier = min(out[i].tier, tier)
				return
			}
		}
		out = append(out, match{id, tier})
	}
	switch s.key.mode {
	case scopeKustomize:
		for _, t := range s.xforms {
			raw, ok := t.strip(o.ref.Name)
			if !ok {
				continue
			}
			for _, id := range ix.byKey[key(o.ref.Kind, raw)] {
				if slices.Contains(s.files[ix.entries[id].file], t) {
					add(id, t)
				}
			}
		}
	default:
		raw, ok := s.key.transform.strip(o.ref.Name)
		if !ok {
			return nil
		}
		for _, id := range ix.byKey[key(o.ref.Kind, raw)] {
			f := ix.entries[id].file
			if ix.patches[f] || !under(f, s.key.dir) {
				continue
			}
			if s.key.mode == scopeDir && dirOf(f) != s.key.dir {
				continue
			}
			add(id, s.key.transform)
		}
	}
	return best(ix, out)
}

// best keeps the matches of the best tier, sorted by file, document, line.
func best(ix *index, ms []match) []match {
	if len(ms) == 0 {
		return nil
	}
	top := ms[0].tier
	for _, m := range ms {
		top = min(top, m.tier)
	}
	ms = slices.DeleteFunc(ms, func(m match) bool { return m.tier != top })
	slices.SortFunc(ms, func(a, b match) int {
		ea, eb := &ix.entries[a.id], &ix.entries[b.id]
		return cmp.Or(strings.Compare(ea.file, eb.file), cmp.Compare(ea.doc, eb.doc), cmp.Compare(ea.line, eb.line))
	})
	return ms
}
