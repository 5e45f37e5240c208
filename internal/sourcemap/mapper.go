package sourcemap

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Mapper locates the sources of live objects. Build it once with NewMapper;
// it is safe for concurrent use.
type Mapper struct {
	repos    map[string]*checkout // normalised URL → checkout
	def      *checkout            // the default checkout, or nil
	apps     map[string][]*argoApp
	ks       map[nsName]*fluxKustomization
	gitRepos map[nsName]*gitRepository
	releases map[nsName]*helmRelease
	argoNS   string
}

type nsName struct{ ns, name string }

func (n nsName) String() string { return n.ns + "/" + n.name }

// NewMapper reads ctx: it normalises the repository URLs, checks that
// every checkout is a directory, and reads the Argo CD and Flux objects.
// Checkouts are indexed later, when first needed.
func NewMapper(ctx Context) (*Mapper, error) {
	m := &Mapper{
		repos:    map[string]*checkout{},
		apps:     map[string][]*argoApp{},
		ks:       map[nsName]*fluxKustomization{},
		gitRepos: map[nsName]*gitRepository{},
		releases: map[nsName]*helmRelease{},
		argoNS:   ctx.ArgoCDNamespace,
	}
	var errs []error
	byDir := map[string]*checkout{}
	keys := make([]string, 0, len(ctx.Repos))
	for k := range ctx.Repos {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dir := ctx.Repos[k]
		abs, err := filepath.Abs(dir)
		if err == nil {
			var fi os.FileInfo
			if fi, err = os.Stat(abs); err == nil && !fi.IsDir() {
				err = fmt.Errorf("not a directory")
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("repository %q: checkout %s: %w", k, dir, err))
			continue
		}
		c := byDir[abs]
		if c == nil {
			c = &checkout{dir: abs}
			byDir[abs] = c
		}
		if k == "" {
			m.def = c
			continue
		}
		u := NormalizeRepoURL(k)
		if prev, ok := m.repos[u]; ok && prev != c {
			errs = append(errs, fmt.Errorf("repository %s is given twice, with checkouts %s and %s", u, prev.dir, c.dir))
			continue
		}
		m.repos[u] = c
		if c.url == "" || u < c.url {
			c.url = u
		}
	}
	if m.def == nil && len(m.repos) == 1 && len(byDir) == 1 {
		for _, c := range m.repos {
			m.def = c
		}
	}
	for _, n := range ctx.Applications {
		a, err := readApplication(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, b := range m.apps[a.id.name] {
			if b.id == a.id {
				err = fmt.Errorf("application %s is given twice", a.id)
			}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.apps[a.id.name] = append(m.apps[a.id.name], a)
	}
	for _, n := range ctx.Kustomizations {
		k, err := readFluxKustomization(n)
		if err == nil && m.ks[k.id] != nil {
			err = fmt.Errorf("flux Kustomization %s is given twice", k.id)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.ks[k.id] = k
	}
	for _, n := range ctx.GitRepositories {
		g, err := readGitRepository(n)
		if err == nil && m.gitRepos[g.id] != nil {
			err = fmt.Errorf("flux GitRepository %s is given twice", g.id)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.gitRepos[g.id] = g
	}
	for _, n := range ctx.HelmReleases {
		h, err := readHelmRelease(n)
		if err == nil && m.releases[h.id] != nil {
			err = fmt.Errorf("flux HelmRelease %s is given twice", h.id)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.releases[h.id] = h
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("sourcemap: %w", errors.Join(errs...))
	}
	return m, nil
}

// Checkout returns the local directory of a repository as reported in
// Location.Repo ("" for the default checkout), and whether it is checked
// out.
func (m *Mapper) Checkout(repo string) (string, bool) {
	c := m.checkout(repo)
	if c == nil {
		return "", false
	}
	return c.dir, true
}

// checkout returns the checkout of a repository URL (any spelling; "" for
// the default one), or nil.
func (m *Mapper) checkout(repo string) *checkout {
	if repo == "" {
		return m.def
	}
	if c, ok := m.repos[repo]; ok { // already normalised
		return c
	}
	return m.repos[NormalizeRepoURL(repo)]
}

// outcome is what a route found.
type outcome struct {
	loc   *Location
	cands []Location
	err   error
}

func fail(err error) outcome { return outcome{err: err} }

func found(l Location) outcome { return outcome{loc: &l} }

// ambiguous reports several candidates (deduplicated and sorted), or the
// one left after deduplication.
func ambiguous(what string, cands []Location) outcome {
	slices.SortFunc(cands, func(a, b Location) int {
		return cmp.Or(strings.Compare(a.Repo, b.Repo), strings.Compare(a.File, b.File),
			cmp.Compare(a.Document, b.Document), cmp.Compare(a.Line, b.Line),
			strings.Compare(a.Path, b.Path), strings.Compare(a.Ref, b.Ref), strings.Compare(string(a.Kind), string(b.Kind)))
	})
	cands = slices.CompactFunc(cands, func(a, b Location) bool {
		return a.Repo == b.Repo && a.File == b.File && a.Document == b.Document && a.Line == b.Line &&
			a.Path == b.Path && a.Ref == b.Ref && a.Kind == b.Kind
	})
	if len(cands) == 1 {
		return found(cands[0])
	}
	where := make([]string, len(cands))
	for i, c := range cands {
		where[i] = c.short()
	}
	return outcome{cands: cands, err: fmt.Errorf("%w: %s: %d candidates: %s", ErrAmbiguous, what, len(cands), strings.Join(where, ", "))}
}

// short names a location in one token.
func (l Location) short() string {
	var b strings.Builder
	if l.Repo != "" || l.Ref != "" {
		b.WriteString(l.Repo)
		if l.Ref != "" {
			b.WriteString("@" + l.Ref)
		}
		b.WriteString("//")
	}
	switch {
	case l.File != "":
		fmt.Fprintf(&b, "%s#%d", l.File, l.Document)
		if l.Line > 0 {
			fmt.Fprintf(&b, ":%d", l.Line)
		}
	case l.Path != "":
		b.WriteString(l.Path)
	default:
		b.WriteString("(no file)")
	}
	return b.String()
}

func isEscape(err error) bool { return errors.Is(err, ErrEscapes) }

// maxDepth bounds Locate's recursion (a HelmRelease or an Application is
// located to find the file holding its values).
const maxDepth = 4

// Locate finds where obj, a live object, is defined.
func (m *Mapper) Locate(obj *yaml.RNode) Result { return m.locate(obj, 0) }

func (m *Mapper) locate(obj *yaml.RNode, depth int) Result {
	o, ok := readObject(obj)
	if !ok {
		return Result{Err: fmt.Errorf("%w: not a Kubernetes object (no apiVersion or kind)", ErrNotFound)}
	}
	res := Result{Object: o.ref}
	if depth > maxDepth {
		res.Err = fmt.Errorf("%w: %s: source chain deeper than %d", ErrNotFound, o.ref, maxDepth)
		return res
	}
	routes := [...]func(*object, int) (outcome, bool){m.byAnnotation, m.byOrigin, m.byArgoCD, m.byFlux, m.bySearch}
	for _, r := range routes {
		out, applies := r(o, depth)
		if !applies {
			continue
		}
		res.Location, res.Candidates, res.Err = out.loc, out.cands, out.err
		if res.Err != nil {
			res.Location = nil
			res.Err = fmt.Errorf("%s: %w", o.ref, res.Err)
		}
		return res
	}
	res.Err = fmt.Errorf("%s: %w", o.ref, ErrNotFound)
	return res
}

// kindOfFile says whether a file found in a checkout is a kustomize
// resource or a plain manifest.
func kindOfFile(ix *index, file string) SourceKind {
	if ix != nil && ix.resources[file] {
		return KindKustomize
	}
	return KindPlain
}

// locFromEntry builds a location from an index entry.
func locFromEntry(e *entry) Location {
	return Location{File: e.file, Document: e.doc, Line: e.line}
}
