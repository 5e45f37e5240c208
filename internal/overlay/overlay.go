package overlay

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/openapi"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
)

// Placement says where a fix was written.
type Placement string

// Placements, from the narrowest.
const (
	// PlacementPatch: the failing value comes from a patch (a
	// strategic-merge file, an RFC 6902 file, or an inline patches: entry
	// of a kustomization): the patch is edited.
	PlacementPatch Placement = "patch"
	// PlacementResource: the value comes from (or is missing in) the file
	// that defines the object, and every kustomization that renders the
	// object needs the fix: that file (usually a base) is edited.
	PlacementResource Placement = "resource"
	// PlacementNewPatch: the value comes from a base that other
	// kustomizations render without needing the fix: a strategic-merge
	// patch file is added to the overlay and listed in its kustomization.
	PlacementNewPatch Placement = "new-patch"
)

// Options select what to fix.
type Options struct {
	// Fixability lists what may be applied; empty means auto only.
	Fixability []finding.Fixability
	// MinSeverity skips findings below it.
	MinSeverity finding.Severity
	// Check is passed to every check run (parameters per control).
	Check check.Options
	// Paths limits the fixes to the kustomizations at or below these
	// directories (relative to the repository, forward slashes); empty
	// means every kustomization. Findings of the others are not reported.
	// Every kustomization is still rendered for the invariant, and a file
	// that others render too is edited only when all of them are
	// selected.
	Paths []string
	// Cache keeps renderings between plans; nil uses a new one.
	Cache *Cache
}

// selected reports whether the kustomization at root is in Paths.
func (o Options) selected(root string) bool {
	if len(o.Paths) == 0 {
		return true
	}
	for _, p := range o.Paths {
		p = path.Clean(strings.TrimPrefix(p, "./"))
		if p == "." || root == p || strings.HasPrefix(root, p+"/") {
			return true
		}
	}
	return false
}

func (o Options) allows(f finding.Finding) bool {
	fx := o.Fixability
	if len(fx) == 0 {
		fx = []finding.Fixability{finding.FixAuto}
	}
	return slices.Contains(fx, f.Fixability) && f.Severity >= o.MinSeverity
}

// Finding is a finding on an object as one kustomization renders it. Its
// Object is the rendered object (names and namespace as deployed); its
// Position is where the failing value is set in the repository (or, when
// it is unset, where the object is defined).
type Finding struct {
	Root string
	finding.Finding
}

// Fix is one accepted edit. It is verified: every kustomization renders
// after it as before except for the fields it means to change, on the
// objects it means to change.
type Fix struct {
	Placement Placement
	// File is the file edited or created, relative to the repository;
	// Line is the first line the edit changed in its new content.
	File string
	Line int
	// Also lists the other files the fix changed: the kustomization that
	// lists a new patch.
	Also []string
	// Root is the kustomization a new patch was added to
	// (PlacementNewPatch).
	Root string
	// Source says where the failing value came from.
	Source string
	// Findings are the findings it repairs, in every kustomization.
	Findings []Finding
	// Patch is the fix of the first finding, as patches of the rendered
	// object (strategic merge, RFC 6902, kubectl) for applying by hand.
	Patch *patch.Fix
	// Changed lists the kustomizations whose rendering changed.
	Changed []string
}

// Dropped is a fix that was not written, with why. Placement and File say
// where it would have gone, when that was decided.
type Dropped struct {
	Placement Placement
	File      string
	Findings  []Finding
	Reason    string
}

// Left is a finding kmend did not try to fix, with why.
type Left struct {
	Finding
	Reason string
}

// Root is one kustomization of the repository.
type Root struct {
	// Path is its directory, relative to the repository ("." for the
	// repository itself); File its kustomization file.
	Path string
	File string
	// TopLevel is true when no other kustomization builds on it: it is
	// what gets deployed. Findings are fixed for top-level kustomizations;
	// a base is fixed in place only when every kustomization rendering the
	// object needs it.
	TopLevel bool
	// Component is true for a kustomize Component, which is not rendered
	// on its own: only inside the kustomizations that use it.
	Component bool
	// Err is why it did not render (nil when it did).
	Err error
}

// RootError is a kustomization that does not render.
type RootError struct {
	Root string
	File string // its kustomization file, "" when it has none
	Err  error
}

func (e *RootError) Error() string {
	f := e.File
	if f == "" {
		f = e.Root
	}
	return fmt.Sprintf("%s: %v", f, e.Err)
}

func (e *RootError) Unwrap() error { return e.Err }

// FileChange is the new content of one file. Before is nil for a new file.
type FileChange struct {
	Path   string
	Before []byte
	After  []byte
}

// Result is what Plan decided. Nothing is written until Write.
type Result struct {
	// Repo is the repository directory as given to Plan.
	Repo    string
	Roots   []Root
	Fixes   []Fix
	Dropped []Dropped
	Left    []Left
	// Files are the changed files, sorted by path.
	Files []FileChange
	// Errors are the kustomizations that did not render (*RootError);
	// the others were still planned.
	Errors []error
	// Inputs lists every repository file the renderings read:
	// kustomization files, resources, patches. A scan of plain manifests
	// should skip them: they are checked as kustomize renders them.
	Inputs []string
}

// Changed reports whether the plan changes any file.
func (r *Result) Changed() bool { return len(r.Files) > 0 }

// Write writes the changed files atomically (see yamledit.WriteFile),
// creating new patch files, and returns the paths written. Every path is
// checked again to be inside the repository.
func (r *Result) Write() ([]string, error) {
	d, err := newDisk(r.Repo)
	if err != nil {
		return nil, err
	}
	// New files first: a kustomization is never written listing a patch
	// file that is not there yet.
	files := slices.Clone(r.Files)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Before == nil && files[j].Before != nil })
	var written []string
	var errs []error
	for _, fc := range files {
		p, err := d.abs(fc.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		changed, err := yamledit.WriteFile(p, fc.After)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if changed {
			written = append(written, fc.Path)
		}
	}
	return written, errors.Join(errs...)
}

// planner holds one plan's state.
type planner struct {
	repo     string
	controls []*catalog.Control
	opts     Options
	cache    *Cache
	before   *view
	g        *graph

	mu          sync.Mutex
	resources   map[string]*yamledit.File
	resourceErr map[string]error
}

// objInfo is one rendered workload in one root.
type objInfo struct {
	root    string
	obj     kustomize.Object
	origin  *origin
	oerr    error
	results []check.Result // not suppressed
	json    []byte         // the rendered object as JSON, once needed
}

// Plan renders every kustomization below repo with origin tracking,
// checks the rendered objects, and plans a fix for each failing (object,
// control) at the narrowest place (see the package documentation). Every
// fix is verified by rendering the kustomizations it affects; a fix that
// changes anything else, or breaks a rendering, is dropped. Plan reads
// the repository and writes nothing (see Result.Write).
func Plan(repo string, controls []*catalog.Control, opts Options) (*Result, error) {
	pl, err := newPlanner(repo, controls, opts)
	if err != nil {
		return nil, err
	}
	res, cur := pl.start()
	infos := pl.collect(cur)
	edits := pl.plan(infos, cur, res)
	pl.apply(edits, cur, res)
	return res, nil
}

// newPlanner finds the kustomizations of repo and reads them.
func newPlanner(repo string, controls []*catalog.Control, opts Options) (*planner, error) {
	roots, err := kustomize.Roots(repo)
	if err != nil {
		return nil, fmt.Errorf("find kustomizations in %s: %w", repo, err)
	}
	d, err := newDisk(repo)
	if err != nil {
		return nil, err
	}
	pl := &planner{
		repo: repo, controls: controls, opts: opts, cache: opts.Cache,
		before:    &view{disk: d},
		resources: map[string]*yamledit.File{}, resourceErr: map[string]error{},
	}
	if pl.cache == nil {
		pl.cache = NewCache()
	}
	// merge2 reads kyaml's OpenAPI schema: load it before any goroutine.
	openapi.Schema()
	pl.g = loadGraph(pl.before, roots)
	return pl, nil
}

// start renders every root and records the roots, their errors and the
// files they read.
func (pl *planner) start() (*Result, map[string]*rendered) {
	res := &Result{Repo: pl.repo}
	var renderable []string
	for _, root := range pl.g.roots {
		if !pl.g.kusts[root].component {
			renderable = append(renderable, root)
		}
	}
	cur := pl.renderAll(pl.before, renderable)
	inputs := map[string]bool{}
	for _, root := range pl.g.roots {
		k := pl.g.kusts[root]
		if k.component {
			res.Roots = append(res.Roots, Root{Path: root, File: k.file, Component: true})
			continue
		}
		rr := cur[root]
		res.Roots = append(res.Roots, Root{Path: root, File: k.file, TopLevel: pl.g.topLevel(root), Err: rr.err})
		if rr.err != nil {
			res.Errors = append(res.Errors, &RootError{Root: root, File: k.file, Err: rr.err})
		}
		if rr.r != nil {
			for p, h := range rr.r.Reads {
				if h != kustomize.ReadAbsent && h != kustomize.ReadExists {
					inputs[p] = true
				}
			}
		}
	}
	for p := range inputs {
		res.Inputs = append(res.Inputs, p)
	}
	sort.Strings(res.Inputs)
	return res, cur
}

// rendered is a root's rendering, or why it failed.
type rendered struct {
	r   *kustomize.Rendering
	err error
}

func (pl *planner) renderAll(v *view, roots []string) map[string]*rendered {
	out := make([]*rendered, len(roots))
	parallel.Each(len(roots), func(i int) {
		r, err := pl.cache.render(pl.repo, roots[i], v)
		out[i] = &rendered{r: r, err: err}
	}, nil)
	m := make(map[string]*rendered, len(roots))
	for i, root := range roots {
		m[root] = out[i]
	}
	return m
}

// collect checks every rendered workload and resolves where it is defined.
func (pl *planner) collect(cur map[string]*rendered) []*objInfo {
	var infos []*objInfo
	for _, root := range sortedKeys(cur) {
		rr := cur[root]
		if rr.err != nil {
			continue
		}
		for _, o := range rr.r.Objects {
			if len(check.Applicable(pl.controls, o.Ref.Kind)) == 0 {
				continue
			}
			infos = append(infos, &objInfo{root: root, obj: o})
		}
	}
	parallel.Each(len(infos), func(i int) {
		in := infos[i]
		in.origin, in.oerr = pl.resolve(in.root, in.obj)
		for _, r := range check.Run(pl.controls, manifest.Object{Node: in.obj.Node, Ref: in.obj.Ref}, pl.opts.Check) {
			if r.Finding.Suppression == nil {
				in.results = append(in.results, r)
			}
		}
	}, nil)
	return infos
}
