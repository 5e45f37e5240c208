package remediate

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
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
}

func (o Options) allows(f finding.Finding) bool {
	fx := o.Fixability
	if len(fx) == 0 {
		fx = []finding.Fixability{finding.FixAuto}
	}
	return slices.Contains(fx, f.Fixability) && f.Severity >= o.MinSeverity
}

// Applied is one fix that was accepted, with the findings it repairs (a
// pod-level fix can repair several containers).
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
	byFile := map[*yamledit.File][]manifest.Object{}
	for _, o := range set.Objects {
		for _, f := range set.Files {
			if f.Path == o.Pos.File {
				byFile[f] = append(byFile[f], o)
				break
			}
		}
	}
	var out []*FileResult
	for _, f := range set.Files {
		objs := byFile[f]
		if len(objs) == 0 {
			continue
		}
		r := fixFile(f, objs, controls, opts)
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

func fixFile(f *yamledit.File, objs []manifest.Object, controls []*catalog.Control, opts Options) *FileResult {
	res := &FileResult{Path: f.Path, Before: f.Data}
	work := map[int]*yaml.RNode{} // document index → edited copy
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
		fixObject(res, manifest.Object{Node: objNode, Ref: o.Ref, Pos: o.Pos, InDoc: o.InDoc}, todo, controls, opts)
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

// fixObject applies, one by one, the fixes for an object's findings to obj
// (a node inside the working copy), keeping only verified ones.
func fixObject(res *FileResult, obj manifest.Object, todo []check.Result, controls []*catalog.Control, opts Options) {
	for _, want := range todo {
		fp := want.Finding.Fingerprint()
		cur, still := current(obj, want.Control, fp, opts)
		if !still {
			// An earlier fix (a pod-level one) already repaired it.
			if a := lastFor(res, want.Control.ID, obj.Ref); a != nil {
				a.Findings = append(a.Findings, want.Finding)
			}
			continue
		}
		fx, err := patch.New(cur, obj.Node)
		if err != nil {
			res.Dropped = append(res.Dropped, Dropped{want.Finding, err.Error()})
			continue
		}
		if err := verify(obj, fx, fp, controls, opts); err != nil {
			res.Dropped = append(res.Dropped, Dropped{want.Finding, err.Error()})
			continue
		}
		if err := fx.Apply(obj.Node); err != nil {
			res.Dropped = append(res.Dropped, Dropped{want.Finding, err.Error()})
			continue
		}
		res.Applied = append(res.Applied, Applied{Fix: fx, Findings: []finding.Finding{want.Finding}})
	}
}

// current re-checks one control on the object as it is now and returns the
// result with fingerprint fp, if it still fails.
func current(obj manifest.Object, c *catalog.Control, fp string, opts Options) (check.Result, bool) {
	for _, r := range check.Run([]*catalog.Control{c}, obj, opts.Check) {
		if r.Finding.Fingerprint() == fp {
			return r, true
		}
	}
	return check.Result{}, false
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

// verify applies fx to a copy of the object and checks it: the control
// passes there, the strategic-merge patch and the RFC 6902 ops give exactly
// the edited object, and no other control fails that did not fail before.
func verify(obj manifest.Object, fx *patch.Fix, fp string, controls []*catalog.Control, opts Options) error {
	trial := obj.Node.Copy()
	if err := fx.Apply(trial); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	before, err := obj.Node.MarshalJSON()
	if err != nil {
		return err
	}
	after, err := trial.MarshalJSON()
	if err != nil {
		return err
	}
	if patch.SameJSON(before, after) {
		return fmt.Errorf("the fix changes nothing")
	}
	if err := fx.Verify(before, after); err != nil {
		return err
	}
	t := obj
	t.Node = trial
	if _, still := current(t, fx.Result.Control, fp, opts); still {
		return fmt.Errorf("the fix does not make %s pass", fx.Result.Control.ID)
	}
	was := map[string]bool{}
	for _, r := range check.Run(controls, obj, opts.Check) {
		was[r.Finding.Fingerprint()] = true
	}
	for _, r := range check.Run(controls, t, opts.Check) {
		if !was[r.Finding.Fingerprint()] {
			return fmt.Errorf("the fix makes %s fail (%s)", r.Control.ID, r.Finding.Path)
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
