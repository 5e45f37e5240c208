package overlay

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/patch"
)

// cand is a finding kmend tries to fix.
type cand struct {
	info *objInfo
	r    check.Result
	f    Finding
	fx   *patch.Fix
	src  *source
	same string // what "fails the same way" compares
	fix  string // what the fix does (control, level, container, patch)
}

// sameKey identifies a failure across kustomizations: the same control
// failing on the same container (or field) of the same defining document.
func sameKey(o *origin, obj kustomize.Object, r check.Result) string {
	k := o.key() + "|" + r.Control.ID
	if r.Control.Check.Level == catalog.LevelContainer {
		k += "|" + r.Target.ContainerType + "/" + r.Target.Container
		if !strings.Contains(r.Control.Check.Field, "[]") {
			return k
		}
	}
	return k + "|" + semantic(obj.Node.YNode(), valuePath(r), nil).String()
}

// fixKey identifies what a fix does, independent of list positions.
func fixKey(fx *patch.Fix) string {
	s, _ := fx.Relative.String()
	k := fx.Result.Control.ID + "|" + fx.Level
	if fx.Level == catalog.LevelContainer {
		k += "|" + fx.Result.Target.ContainerType + "/" + fx.Result.Target.Container
	}
	return k + "|" + s
}

// edit is one planned change with the findings it should repair.
type edit struct {
	placement Placement
	file      string // the file edited or created
	root      string // PlacementNewPatch: the kustomization it goes into
	cands     []*cand
}

func (e *edit) first() *cand { return e.cands[0] }

// plan decides the place of every fix.
func (pl *planner) plan(infos []*objInfo, cur map[string]*rendered, res *Result) []*edit {
	failing := map[string]map[string]bool{} // root → same keys failing there
	rendering := map[string][]string{}      // origin key → roots rendering it
	var cands []*cand
	for _, in := range infos {
		if in.origin != nil {
			key := in.origin.key()
			if !slices.Contains(rendering[key], in.root) {
				rendering[key] = append(rendering[key], in.root)
			}
		}
		for _, r := range in.results {
			f := Finding{Root: in.root, Finding: r.Finding}
			if in.origin != nil {
				if failing[in.root] == nil {
					failing[in.root] = map[string]bool{}
				}
				failing[in.root][sameKey(in.origin, in.obj, r)] = true
				f.Position = finding.Position{File: in.origin.file, Document: in.origin.doc, Line: in.origin.node.Line}
			}
			if !pl.opts.selected(in.root) {
				continue
			}
			if !pl.opts.allows(f.Finding) {
				res.Left = append(res.Left, Left{Finding: f, Reason: notSelected(f.Finding, pl.opts)})
				continue
			}
			if in.oerr != nil {
				res.Dropped = append(res.Dropped, Dropped{Findings: []Finding{f}, Reason: in.oerr.Error()})
				continue
			}
			c := &cand{info: in, r: r, f: f, same: sameKey(in.origin, in.obj, r)}
			src, err := pl.attribute(in.origin, in.obj, r)
			if err != nil {
				res.Dropped = append(res.Dropped, Dropped{Findings: []Finding{f}, Reason: err.Error()})
				continue
			}
			c.src = src
			c.f.Position = finding.Position{File: src.file(in.origin), Line: src.line}
			switch {
			case src.kind == fromResource:
				c.f.Position.Document = in.origin.doc
			case src.patch.file != "":
				c.f.Position.Document = src.doc
			}
			if why := comment(src.owner, src.node); why != "" && r.Finding.Reason == finding.ReasonRisky && c.f.Fixability == finding.FixAuto {
				c.f.Fixability = finding.FixReview
				c.f.ReviewNote = "the value is set explicitly with a comment (" + why + "): kmend will not flip it without review"
				if !pl.opts.allows(c.f.Finding) {
					res.Left = append(res.Left, Left{Finding: c.f, Reason: notSelected(c.f.Finding, pl.opts)})
					continue
				}
			}
			if in.json == nil {
				in.json, err = patch.JSON(in.obj.Node)
			}
			if err == nil {
				c.fx, err = patch.NewWithJSON(r, in.obj.Node, in.json)
			}
			if err != nil {
				res.Dropped = append(res.Dropped, Dropped{Findings: []Finding{c.f}, Reason: err.Error()})
				continue
			}
			c.fix = fixKey(c.fx)
			cands = append(cands, c)
		}
	}

	// Group the candidates by where their fix goes.
	groups := map[string][]*cand{}
	var order []string
	add := func(k string, c *cand) {
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	for _, c := range cands {
		if c.src.kind == fromPatch {
			add(fmt.Sprintf("patch|%s|%d|%d|%s", c.src.patch.where(), c.src.doc, c.src.op, c.fix), c)
		} else {
			add("resource|"+c.info.origin.key()+"|"+c.fix, c)
		}
	}
	var edits []*edit
	for _, k := range order {
		g := groups[k]
		c0 := g[0]
		switch {
		case c0.src.kind == fromPatch && pl.allSelected(readers(cur, c0.src.patch.editFile())):
			edits = append(edits, &edit{placement: PlacementPatch, file: c0.src.patch.editFile(), cands: g})
		case c0.src.kind == fromPatch:
			// The patch is shared with kustomizations not selected: each
			// selected overlay gets its own patch over it.
			edits = append(edits, pl.newPatches(g, infos, res, "the patch "+c0.src.patch.where()+" is shared with kustomizations not selected")...)
		case pl.everyRootNeeds(g, rendering[c0.info.origin.key()], failing):
			edits = append(edits, &edit{placement: PlacementResource, file: c0.info.origin.file, cands: g})
		default:
			edits = append(edits, pl.newPatches(g, infos, res, "not every kustomization that renders "+c0.info.origin.file+" needs this fix")...)
		}
	}
	rank := map[Placement]int{PlacementPatch: 0, PlacementResource: 1, PlacementNewPatch: 2}
	sort.SliceStable(edits, func(i, j int) bool {
		a, b := edits[i], edits[j]
		if rank[a.placement] != rank[b.placement] {
			return rank[a.placement] < rank[b.placement]
		}
		if a.file != b.file {
			return a.file < b.file
		}
		return a.first().r.Control.ID < b.first().r.Control.ID
	})
	return edits
}

// newPatches plans a new patch in every top-level kustomization of the
// group; the findings of bases are left, with why.
func (pl *planner) newPatches(g []*cand, infos []*objInfo, res *Result, why string) []*edit {
	var edits []*edit
	perRoot := map[string][]*cand{}
	var roots []string
	for _, c := range g {
		if !pl.g.topLevel(c.info.root) {
			res.Left = append(res.Left, Left{Finding: c.f, Reason: fmt.Sprintf(
				"%s is a base of %s, and %s: the overlays that need it get their own patch",
				orDot(c.info.root), strings.Join(pl.g.usedBy[c.info.root], ", "), why)})
			continue
		}
		if _, ok := perRoot[c.info.root]; !ok {
			roots = append(roots, c.info.root)
		}
		perRoot[c.info.root] = append(perRoot[c.info.root], c)
	}
	for _, root := range roots {
		rc := perRoot[root]
		file := path.Join(root, newPatchName(rc[0].info.origin.org, pl.sameNameInRoot(infos, root, rc[0].info.origin.org)))
		edits = append(edits, &edit{placement: PlacementNewPatch, file: file, root: root, cands: rc})
	}
	return edits
}

// readers returns the kustomizations whose rendering read a file.
func readers(cur map[string]*rendered, file string) []string {
	var out []string
	for _, root := range sortedKeys(cur) {
		if rr := cur[root]; rr.r != nil {
			if _, ok := rr.r.Reads[file]; ok {
				out = append(out, root)
			}
		}
	}
	return out
}

func (pl *planner) allSelected(roots []string) bool {
	for _, r := range roots {
		if !pl.opts.selected(r) {
			return false
		}
	}
	return true
}

// everyRootNeeds reports whether every kustomization that renders the
// object fails the same way as the group.
func (pl *planner) everyRootNeeds(g []*cand, roots []string, failing map[string]map[string]bool) bool {
	keys := map[string]bool{}
	for _, c := range g {
		keys[c.same] = true
	}
	for _, root := range roots {
		if !pl.opts.selected(root) {
			return false
		}
		ok := false
		for k := range keys {
			if failing[root][k] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return len(roots) > 0
}

// sameNameInRoot reports whether another object of the same kind and
// name, in another namespace, is rendered in root: the new patch's file
// name then carries the namespace.
func (pl *planner) sameNameInRoot(infos []*objInfo, root string, org orgID) bool {
	for _, in := range infos {
		if in.root == root && in.origin != nil && in.origin.org.kind == org.kind &&
			in.origin.org.name == org.name && in.origin.org.namespace != org.namespace {
			return true
		}
	}
	return false
}

// newPatchName is the file name of the patch kmend adds to an overlay.
func newPatchName(org orgID, withNS bool) string {
	name := "kmend-" + strings.ToLower(org.kind) + "-"
	if withNS && org.namespace != "" {
		name += org.namespace + "-"
	}
	return name + org.name + ".yaml"
}

func notSelected(f finding.Finding, opts Options) string {
	switch {
	case f.Severity < opts.MinSeverity:
		return "below the minimum severity"
	case f.Fixability == finding.FixManual:
		return "to fix by hand: kmend explain shows the patch"
	case f.Fixability == finding.FixReview:
		if f.ReviewNote != "" {
			return "needs review: " + f.ReviewNote
		}
		return "needs review: select it with fixability review"
	}
	return "not selected"
}
