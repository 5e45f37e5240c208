package remediate

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
)

// Options select what to fix.
type Options struct {
	// Fixability lists what may be applied; empty means auto only.
	Fixability []finding.Fixability
	// MinSeverity skips findings below it.
	MinSeverity finding.Severity
	// Check is passed to every check run (parameters per control).
	Check check.Options
	// Select, when set, narrows the findings to fix further (for example
	// to one change set's findings); the others are left as they are.
	Select func(finding.Finding) bool
}

func (o Options) allows(f finding.Finding) bool {
	fx := o.Fixability
	if len(fx) == 0 {
		fx = []finding.Fixability{finding.FixAuto}
	}
	return slices.Contains(fx, f.Fixability) && f.Severity >= o.MinSeverity && (o.Select == nil || o.Select(f))
}

// Applied is one fix that was accepted, with the findings it repairs (a
// pod-level fix can repair several containers). The fix keeps what is
// shown of it (its patches as text, its result's finding), not nodes: its
// Result's Node and Root were nodes of a working copy, and its Relative a
// tree of its own, which a run over many files would otherwise keep for
// every fix; they are nil. The fix is not to be applied again.
type Applied struct {
	Fix      *patch.Fix
	Findings []finding.Finding
}

// Dropped is a finding whose fix was not accepted, with why.
type Dropped struct {
	Finding finding.Finding
	Reason  string
}

// FileResult is what remediation did to one file.
type FileResult struct {
	Path   string
	Before []byte
	// After is the new content; nil when nothing changed.
	After   []byte
	Applied []Applied
	Dropped []Dropped
	// Left are findings not selected for fixing (manual, review, below the
	// minimum severity, suppressed are not listed).
	Left []finding.Finding
}

// Changed reports whether the file has new content.
func (r *FileResult) Changed() bool { return r.After != nil }

// Run fixes what it can in the set's files, in memory. Nothing is written:
// callers write FileResult.After (see Write).
func Run(set *manifest.Set, controls []*catalog.Control, opts Options) []*FileResult {
	byFile := map[string][]manifest.Object{}
	for _, o := range set.Objects {
		byFile[o.Pos.File] = append(byFile[o.Pos.File], o)
	}
	// Files are fixed in parallel: each one is independent. kyaml's OpenAPI
	// schema, which merge2 reads, is loaded once before the workers start.
	openapi.Schema()
	results := make([]*FileResult, len(set.Files))
	parallel.Each(len(set.Files), func(i int) {
		f := set.Files[i]
		if objs := byFile[f.Path]; len(objs) > 0 {
			// An edit of its own: the set's file keeps no edit, and
			// fixFile releases this one when done with it.
			results[i] = fixFile(f.Edit(), objs, controls, opts)
		}
	}, nil)
	var out []*FileResult
	for _, r := range results {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// fixFile fixes the objects objs of f, a File to edit (see
// yamledit.File.Edit), and releases f's edit once the new bytes are known,
// or the fixes dropped: a run holds the edited and original trees of the
// files being fixed only. The result keeps f's bytes, not its trees.
func fixFile(f *yamledit.File, objs []manifest.Object, controls []*catalog.Control, opts Options) *FileResult {
	defer f.Release()
	res := &FileResult{Path: f.Path, Before: f.Data}
	work := map[int]*yaml.RNode{} // document index → edited copy
	tried := map[int]bool{}       // documents whose copy fixes were tried on
	for _, o := range objs {
		results := check.Run(controls, o, opts.Check)
		var todo []check.Result
		for _, r := range results {
			switch {
			case r.Finding.Suppression != nil:
			case !opts.allows(r.Finding):
				res.Left = append(res.Left, r.Finding)
			case f.NotEditable != nil:
				res.Dropped = append(res.Dropped, Dropped{r.Finding, f.NotEditable.Error()})
			default:
				todo = append(todo, r)
			}
		}
		if len(todo) == 0 {
			continue
		}
		doc := f.Docs[o.Pos.Document]
		if work[doc.Index] == nil {
			work[doc.Index] = doc.Node.Copy()
		}
		objNode, err := nodeAt(work[doc.Index], o.InDoc)
		if err != nil {
			for _, r := range todo {
				res.Dropped = append(res.Dropped, Dropped{r.Finding, err.Error()})
			}
			continue
		}
		obj := manifest.Object{Node: objNode, Ref: o.Ref, Pos: o.Pos, InDoc: o.InDoc}
		// Until fixes are tried on it, the copy holds the object as checked
		// above (when that is the document's own node): these results are
		// the copy's, no need to check it again.
		var checked []check.Result
		if orig, err := nodeAt(doc.Node, o.InDoc); err == nil && orig.YNode() == o.Node.YNode() && !tried[doc.Index] {
			checked = results
		}
		tried[doc.Index] = true
		fixObject(res, obj, todo, checked, controls, opts)
	}
	if len(res.Applied) == 0 {
		return res
	}
	for i, n := range work {
		if err := f.SetDoc(i, n); err != nil {
			res.dropAll(err)
			return res
		}
	}
	after, err := f.Render()
	// The new bytes are known: the trees are not needed to check them.
	f.Release()
	if err != nil {
		res.dropAll(err)
		return res
	}
	if err := recheck(f.Path, after, res, controls, opts); err != nil {
		res.dropAll(err)
		return res
	}
	res.After = after
	return res
}

// dropAll turns every applied fix into a dropped one.
func (r *FileResult) dropAll(err error) {
	for _, a := range r.Applied {
		for _, fd := range a.Findings {
			r.Dropped = append(r.Dropped, Dropped{fd, "the file could not be edited faithfully: " + err.Error()})
		}
	}
	r.Applied = nil
}

// state is an object as the fixes so far left it: its JSON and its failing
// results, by fingerprint, so each fix costs one merge, one JSON conversion
// and one check run.
type state struct {
	doc     *patch.Doc
	results []check.Result
	byFP    map[string]int // fingerprint → index in results
}

// newState reads obj's state; results, when not nil, are obj's check
// results already.
func newState(obj manifest.Object, results []check.Result, controls []*catalog.Control, opts Options) (*state, error) {
	j, err := patch.JSON(obj.Node)
	if err != nil {
		return nil, err
	}
	if results == nil {
		results = check.Run(controls, obj, opts.Check)
	}
	st := &state{doc: patch.NewDoc(j), results: results, byFP: make(map[string]int, len(results))}
	for i, r := range results {
		st.byFP[r.Finding.Fingerprint()] = i
	}
	return st, nil
}

// result returns the failing result with the fingerprint fp.
func (st *state) result(fp string) (check.Result, bool) {
	i, ok := st.byFP[fp]
	if !ok {
		return check.Result{}, false
	}
	return st.results[i], true
}

// fixObject applies, one by one, the fixes for an object's findings to obj
// (a node inside the working copy), keeping only verified ones. checked, when
// not nil, are obj's check results.
func fixObject(res *FileResult, obj manifest.Object, todo, checked []check.Result, controls []*catalog.Control, opts Options) {
	cur, err := newState(obj, checked, controls, opts)
	if err != nil {
		for _, r := range todo {
			res.Dropped = append(res.Dropped, Dropped{r.Finding, err.Error()})
		}
		return
	}
	for _, want := range todo {
		fp := want.Finding.Fingerprint()
		r, still := cur.result(fp)
		if !still {
			// An earlier fix (a pod-level one) already repaired it.
			if a := lastFor(res, want.Control.ID, obj.Ref); a != nil {
				a.Findings = append(a.Findings, want.Finding)
			}
			continue
		}
		fx, next, err := try(obj, r, cur, controls, opts)
		if err != nil {
			res.Dropped = append(res.Dropped, Dropped{want.Finding, err.Error()})
			continue
		}
		cur = next
		fx.Result.Node, fx.Result.Root, fx.Relative = nil, nil, nil
		res.Applied = append(res.Applied, Applied{Fix: fx, Findings: []finding.Finding{want.Finding}})
	}
}

// try renders the fix for r, applies it to the object and verifies it: the
// control passes there, the strategic-merge patch and the RFC 6902 ops give
// exactly the edited object, and no control fails that did not fail before.
// It returns the fix and the object's new state; when the fix is not
// verified, the object is put back as it was.
func try(obj manifest.Object, r check.Result, cur *state, controls []*catalog.Control, opts Options) (*patch.Fix, *state, error) {
	fx, err := patch.NewWithDoc(r, cur.doc)
	if err != nil {
		return nil, nil, err
	}
	undo, err := fx.ApplyUndoable(obj.Node)
	if err != nil {
		undo()
		return nil, nil, fmt.Errorf("apply: %w", err)
	}
	next, err := verify(obj, fx, r, cur, controls, opts)
	if err != nil {
		undo()
		return nil, nil, err
	}
	return fx, next, nil
}

// verify checks the fix fx for r, just applied to obj, whose state before
// was cur, and returns obj's new state.
func verify(obj manifest.Object, fx *patch.Fix, r check.Result, cur *state, controls []*catalog.Control, opts Options) (*state, error) {
	next, err := newState(obj, nil, controls, opts)
	if err != nil {
		return nil, err
	}
	if patch.SameDoc(cur.doc, next.doc) {
		return nil, fmt.Errorf("the fix changes nothing")
	}
	if err := fx.VerifyDocs(cur.doc, next.doc); err != nil {
		return nil, err
	}
	if _, still := next.byFP[r.Finding.Fingerprint()]; still {
		return nil, fmt.Errorf("the fix does not make %s pass", r.Control.ID)
	}
	for fp, i := range next.byFP {
		if _, was := cur.byFP[fp]; !was {
			nr := next.results[i]
			return nil, fmt.Errorf("the fix makes %s fail (%s)", nr.Control.ID, nr.Finding.Path)
		}
	}
	return next, nil
}

func lastFor(res *FileResult, id string, ref finding.ObjectRef) *Applied {
	for i := len(res.Applied) - 1; i >= 0; i-- {
		a := &res.Applied[i]
		if a.Fix.Result.Control.ID == id && a.Fix.Result.Finding.Object == ref {
			return a
		}
	}
	return nil
}

// recheck parses the new bytes and checks every applied fix's findings are
// gone from it.
func recheck(path string, data []byte, res *FileResult, controls []*catalog.Control, opts Options) error {
	f, err := yamledit.Parse(path, data, yamledit.Options{})
	if err != nil {
		return fmt.Errorf("the edited file does not parse: %w", err)
	}
	set := manifest.FromFiles(f)
	gone := map[string]bool{}
	for _, a := range res.Applied {
		for _, fd := range a.Findings {
			gone[fd.Fingerprint()] = true
		}
	}
	for _, o := range set.Objects {
		for _, r := range check.Run(controls, o, opts.Check) {
			if gone[r.Finding.Fingerprint()] {
				return fmt.Errorf("after editing, %s still fails at %s", r.Control.ID, r.Finding.Path)
			}
		}
	}
	return nil
}

// nodeAt walks keys and list indexes below n.
func nodeAt(n *yaml.RNode, path []string) (*yaml.RNode, error) {
	cur := n
	for _, k := range path {
		switch cur.YNode().Kind {
		case yaml.MappingNode:
			f := cur.Field(k)
			if f == nil {
				return nil, fmt.Errorf("no %s in document", strings.Join(path, "."))
			}
			cur = f.Value
		case yaml.SequenceNode:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(cur.YNode().Content) {
				return nil, fmt.Errorf("no %s in document", strings.Join(path, "."))
			}
			cur = yaml.NewRNode(cur.YNode().Content[i])
		default:
			return nil, fmt.Errorf("no %s in document", strings.Join(path, "."))
		}
	}
	return cur, nil
}
