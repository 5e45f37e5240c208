package sourcemap

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// origin is kustomize's config.kubernetes.io/origin annotation.
type origin struct {
	Path         string `yaml:"path"`
	Repo         string `yaml:"repo"`
	Ref          string `yaml:"ref"`
	ConfiguredIn string `yaml:"configuredIn"`
	ConfiguredBy struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
		Namespace  string `yaml:"namespace"`
	} `yaml:"configuredBy"`
}

// root is a kustomization root known from the app that deployed an object.
type root struct {
	c      *checkout // nil when the repository is not checked out
	repo   string
	ref    string
	dir    string
	detail string
}

// byOrigin follows kustomize's origin annotation.
func (m *Mapper) byOrigin(o *object, _ int) (outcome, bool) {
	raw := o.annotation(annotationOrigin)
	if raw == "" {
		return outcome{}, false
	}
	var or origin
	if err := yaml.Unmarshal([]byte(raw), &or); err != nil {
		return fail(fmt.Errorf("%w: malformed %s annotation: %v", ErrUntrusted, annotationOrigin, err)), true
	}
	target, generated := or.Path, false
	if target == "" {
		target, generated = or.ConfiguredIn, true
	}
	if target == "" {
		return fail(fmt.Errorf("%w: %s annotation names no path", ErrUntrusted, annotationOrigin)), true
	}
	if err := checkSyntax(target); err != nil {
		return fail(fmt.Errorf("%s: %w", annotationOrigin, err)), true
	}
	detail := "kustomize origin path " + target
	if generated {
		detail = "kustomize origin configuredIn " + target
		if or.ConfiguredBy.Kind != "" {
			detail += " (" + or.ConfiguredBy.Kind + ")"
		}
	}

	// A remote resource: the path is relative to that repository's root.
	if or.Repo != "" {
		repo := NormalizeRepoURL(or.Repo)
		detail += " in " + repo
		if or.Ref != "" {
			detail += " at " + or.Ref
		}
		rel, err := joinRel("", target)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", annotationOrigin, err)), true
		}
		c := m.checkout(repo)
		if c == nil {
			return found(Location{Repo: repo, Ref: or.Ref, File: rel, Kind: KindKustomize, Via: ViaOrigin,
				Confidence: ConfidenceHigh, Detail: detail + "; repository " + repo + " is not checked out: not verified"}), true
		}
		return strong(m.originIn(c, o, root{c: c, repo: repo, ref: or.Ref}, rel, generated, ConfidenceHigh, detail)), true
	}

	// The root is known from the Argo CD Application or Flux Kustomization
	// that deployed the object.
	r, ok, err := m.appRoot(o)
	if err != nil {
		return fail(err), true
	}
	if ok {
		rel, err := joinRel(r.dir, target)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", annotationOrigin, err)), true
		}
		detail += " from root " + orRoot(r.dir) + " (" + r.detail + ")"
		if r.c == nil {
			return found(Location{Repo: r.repo, Ref: r.ref, Path: r.dir, File: rel, Kind: KindKustomize, Via: ViaOrigin,
				Confidence: ConfidenceHigh, Detail: detail + "; repository " + r.repo + " is not checked out: not verified"}), true
		}
		return strong(m.originIn(r.c, o, r, rel, generated, ConfidenceHigh, detail)), true
	}

	// Otherwise try every kustomization of the default checkout.
	c := m.def
	if c == nil {
		return fail(fmt.Errorf("%w: %s: no default checkout to look for kustomization roots in", ErrNotFound, detail)), true
	}
	ix, err := c.index()
	if err != nil {
		return fail(err), true
	}
	var best []Location
	cands := c.originCandidates(ix, target)
	bestScore, escaped := 0, cands.escaped
	for _, cd := range cands.roots {
		d, rel := cd.dir, cd.rel
		if ids, ok := ix.files[rel]; ok && !generated && !nameFits(ix, ids, o) {
			continue // originIn would find no document for o there
		}
		r := root{c: c, repo: c.url, dir: d}
		out := m.originIn(c, o, r, rel, generated, ConfidenceMedium, detail+" from root "+orRoot(d))
		if out.err != nil && isEscape(out.err) {
			escaped++
			continue
		}
		locs := out.cands
		if out.loc != nil {
			locs = []Location{*out.loc}
		}
		if len(locs) == 0 {
			continue
		}
		score := 1
		if out.err == nil || errors.Is(out.err, ErrAmbiguous) {
			score = 2 // the file holds the object, or the generator
		}
		if errors.Is(out.err, errWeak) {
			score = 1
		}
		switch {
		case score > bestScore:
			best, bestScore = locs, score
		case score == bestScore:
			best = append(best, locs...)
		}
	}
	switch {
	case len(best) > 0:
		return ambiguous(detail+" (several kustomization roots fit)", mergeRoots(best)), true
	case escaped > 0 && escaped == len(ix.kdirs):
		return fail(fmt.Errorf("%w: %s leaves the checkout from every kustomization root", ErrEscapes, target)), true
	}
	return fail(fmt.Errorf("%w: %s: no kustomization root in the default checkout holds it", ErrNotFound, detail)), true
}

// originCandidates are the kustomization roots of a checkout from which
// an origin path may lead to something: the others leave the checkout
// (counted) or lead to a path the index shows is not there.
type originCandidates struct {
	roots   []originRoot
	escaped int
}

type originRoot struct{ dir, rel string }

// originCandidates returns (and caches: origin paths such as
// ../../base/deployment.yaml repeat across objects) the candidate roots of
// target, so that locating an object by its origin path alone costs a
// look at the roots where the path exists, not a walk over every
// kustomization of the checkout.
func (c *checkout) originCandidates(ix *index, target string) *originCandidates {
	c.mu.Lock()
	oc, ok := c.origins[target]
	c.mu.Unlock()
	if ok {
		return oc
	}
	oc = &originCandidates{}
	for _, d := range ix.kdirs {
		rel, err := joinRel(d, target)
		if err != nil {
			oc.escaped++
			continue
		}
		if ix.missing(rel) != nil {
			continue // no system call: most roots are ruled out here
		}
		oc.roots = append(oc.roots, originRoot{d, rel})
	}
	c.mu.Lock()
	if c.origins == nil {
		c.origins = map[string]*originCandidates{}
	}
	c.origins[target] = oc
	c.mu.Unlock()
	return oc
}

// nameFits reports whether one of the entries holds an object of o's kind
// whose name is o's or inside it (prefixes and suffixes): the documents
// originIn can take for o.
func nameFits(ix *index, ids []int32, o *object) bool {
	for _, id := range ids {
		e := &ix.entries[id]
		if e.kind == o.ref.Kind && (e.name == o.ref.Name || e.name != "" && strings.Contains(o.ref.Name, e.name)) {
			return true
		}
	}
	return false
}

func orRoot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// errWeak marks an origin candidate whose file exists but does not
// clearly hold the object (a kustomization without a matching generator).
var errWeak = errors.New("weak origin candidate")

// strong accepts a weak candidate when the root is known.
func strong(out outcome) outcome {
	if errors.Is(out.err, errWeak) {
		return found(out.cands[0])
	}
	return out
}

// originIn checks the file an origin annotation names in a checkout and
// finds the object's document in it.
func (m *Mapper) originIn(c *checkout, o *object, r root, rel string, generated bool, conf Confidence, detail string) outcome {
	real, err := c.locateFile(rel)
	if err != nil {
		if isEscape(err) {
			return fail(fmt.Errorf("%s: %w", annotationOrigin, err))
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Errorf("%w: %s: %s is not in the checkout", ErrNotFound, detail, rel))
		}
		return fail(fmt.Errorf("%w: %s: %v", ErrNotFound, detail, err))
	}
	ix, err := c.index()
	if err != nil {
		return fail(err)
	}
	base := Location{Repo: r.repo, Ref: r.ref, Path: r.dir, File: real, Kind: KindKustomize, Via: ViaOrigin, Confidence: conf, Detail: detail}
	if generated {
		k := ix.kusts[dirOf(real)]
		if k == nil || k.file != real {
			// A generator configured elsewhere (a generator's own file):
			// point at its first document.
			base.Line = 1
			return outcome{loc: &base, err: nil}
		}
		base.Line = k.line
		if line := k.generatorLine(o.ref.Name); line > 0 {
			base.Line = line
			base.Detail += " → generator entry for " + o.ref.Name
			return found(base)
		}
		return outcome{cands: []Location{base}, err: errWeak}
	}
	es, err := c.fileEntries(real)
	if err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrNotFound, detail, err))
	}
	var same, kind []entry
	for _, e := range es {
		if e.kind != o.ref.Kind {
			continue
		}
		kind = append(kind, e)
		if e.name == o.ref.Name {
			same = append(same, e)
		}
	}
	hits := same
	if len(hits) == 0 {
		// Prefixes and suffixes change names: keep the entries whose name
		// the live name contains.
		for _, e := range kind {
			if e.name != "" && strings.Contains(o.ref.Name, e.name) {
				hits = append(hits, e)
			}
		}
	}
	if len(hits) > 1 {
		hits = byNamespace(hits, o.ref.Namespace)
	}
	if len(hits) == 0 {
		return fail(fmt.Errorf("%w: %s: %s holds no %s %s", ErrUntrusted, detail, real, o.ref.Kind, o.ref.Name))
	}
	locs := make([]Location, len(hits))
	for i := range hits {
		l := base
		l.Document, l.Line = hits[i].doc, hits[i].line
		locs[i] = l
	}
	out := ambiguous(detail, locs)
	if len(same) == 0 && out.err == nil {
		out.loc.Detail += " (name changed by kustomize)"
	}
	return out
}

// mergeRoots merges the candidates that point at the same document from
// different kustomization roots (two overlays of one base): the file is
// certain, the root is not, so Path is left empty.
func mergeRoots(locs []Location) []Location {
	var out []Location
	roots := map[int][]string{}
	for _, l := range locs {
		i := slices.IndexFunc(out, func(o Location) bool {
			return o.Repo == l.Repo && o.File == l.File && o.Document == l.Document && o.Line == l.Line
		})
		if i < 0 {
			out = append(out, l)
			i = len(out) - 1
		}
		roots[i] = append(roots[i], orRoot(l.Path))
	}
	for i := range out {
		if len(roots[i]) > 1 {
			out[i].Detail = strings.Replace(out[i].Detail, " from root "+orRoot(out[i].Path),
				" from roots "+strings.Join(roots[i], ", ")+" (the same file from each)", 1)
			out[i].Path = ""
		}
	}
	return out
}
