package remediate

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
	"github.com/kmend/kmend/patches"
)

// The reference is how fixFile worked before fixes were applied in place:
// each fix is applied to a fresh copy of the object, the copy's JSON and
// check results are computed from scratch, the fix is rendered from the
// JSON with patch.NewWithJSON and verified with Fix.Verify and
// patch.SameJSON. fixFile must decide, write and say exactly the same.

func referenceRun(set *manifest.Set, controls []*catalog.Control, opts Options) []*FileResult {
	byFile := map[string][]manifest.Object{}
	for _, o := range set.Objects {
		byFile[o.Pos.File] = append(byFile[o.Pos.File], o)
	}
	var out []*FileResult
	for _, f := range set.Files {
		if objs := byFile[f.Path]; len(objs) > 0 {
			out = append(out, referenceFixFile(f, objs, controls, opts))
		}
	}
	return out
}

func referenceFixFile(f *yamledit.File, objs []manifest.Object, controls []*catalog.Control, opts Options) *FileResult {
	res := &FileResult{Path: f.Path, Before: f.Data}
	work := map[int]*yaml.RNode{}
	for _, o := range objs {
		var todo []check.Result
		for _, r := range check.Run(controls, o, opts.Check) {
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
		referenceFixObject(res, manifest.Object{Node: objNode, Ref: o.Ref, Pos: o.Pos, InDoc: o.InDoc}, todo, controls, opts)
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

type referenceState struct {
	json    []byte
	results map[string]check.Result
}

func referenceNewState(obj manifest.Object, node *yaml.RNode, controls []*catalog.Control, opts Options) (*referenceState, error) {
	j, err := patch.JSON(node)
	if err != nil {
		return nil, err
	}
	o := obj
	o.Node = node
	st := &referenceState{json: j, results: map[string]check.Result{}}
	for _, r := range check.Run(controls, o, opts.Check) {
		st.results[r.Finding.Fingerprint()] = r
	}
	return st, nil
}

func referenceFixObject(res *FileResult, obj manifest.Object, todo []check.Result, controls []*catalog.Control, opts Options) {
	cur, err := referenceNewState(obj, obj.Node, controls, opts)
	if err != nil {
		for _, r := range todo {
			res.Dropped = append(res.Dropped, Dropped{r.Finding, err.Error()})
		}
		return
	}
	for _, want := range todo {
		r, still := cur.results[want.Finding.Fingerprint()]
		if !still {
			if a := lastFor(res, want.Control.ID, obj.Ref); a != nil {
				a.Findings = append(a.Findings, want.Finding)
			}
			continue
		}
		fx, trial, next, err := referenceTry(obj, r, cur, controls, opts)
		if err != nil {
			res.Dropped = append(res.Dropped, Dropped{want.Finding, err.Error()})
			continue
		}
		*obj.Node.YNode() = *trial.YNode()
		cur = next
		res.Applied = append(res.Applied, Applied{Fix: fx, Findings: []finding.Finding{want.Finding}})
	}
}

func referenceTry(obj manifest.Object, r check.Result, cur *referenceState, controls []*catalog.Control, opts Options) (*patch.Fix, *yaml.RNode, *referenceState, error) {
	fx, err := patch.NewWithJSON(r, obj.Node, cur.json)
	if err != nil {
		return nil, nil, nil, err
	}
	trial := obj.Node.Copy()
	if err := fx.Apply(trial); err != nil {
		return nil, nil, nil, fmt.Errorf("apply: %w", err)
	}
	next, err := referenceNewState(obj, trial, controls, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if patch.SameJSON(cur.json, next.json) {
		return nil, nil, nil, fmt.Errorf("the fix changes nothing")
	}
	if err := fx.Verify(cur.json, next.json); err != nil {
		return nil, nil, nil, err
	}
	if _, still := next.results[r.Finding.Fingerprint()]; still {
		return nil, nil, nil, fmt.Errorf("the fix does not make %s pass", r.Control.ID)
	}
	for fp, nr := range next.results {
		if _, was := cur.results[fp]; !was {
			return nil, nil, nil, fmt.Errorf("the fix makes %s fail (%s)", nr.Control.ID, nr.Finding.Path)
		}
	}
	return fx, trial, next, nil
}

// describe prints all a caller can read in results, but the nodes.
func describe(t *testing.T, results []*FileResult) string {
	t.Helper()
	var b strings.Builder
	js := func(v any) string {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	for _, r := range results {
		fmt.Fprintf(&b, "file %s changed=%v\n--- before\n%s\n--- after\n%s\n", r.Path, r.Changed(), r.Before, r.After)
		for _, a := range r.Applied {
			f := a.Fix
			fmt.Fprintf(&b, "applied %s\n  findings %s\n  level %s base %q %s\n  ops %s\n  smp %q %s\n  json %s\n  kubectl %q note %q\n",
				js(f.Result.Finding), js(a.Findings), f.Level, f.Base, f.BasePointer, js(f.RelativeOps),
				f.StrategicMerge, f.StrategicMergeJSON, js(f.JSONPatch), f.Kubectl, f.Note)
			fmt.Fprintf(&b, "  control %s data %s target %+v\n", f.Result.Control.ID, js(f.Result.Data), f.Result.Target)
		}
		for _, d := range r.Dropped {
			fmt.Fprintf(&b, "dropped %s: %s\n", js(d.Finding), d.Reason)
		}
		for _, l := range r.Left {
			fmt.Fprintf(&b, "left %s\n", js(l))
		}
	}
	return b.String()
}

// sameAsReference fixes what load returns with Run and with the reference
// and fails when any result differs. load is called once for each, since
// fixing edits the files' state.
func sameAsReference(t *testing.T, load func() *manifest.Set, controls []*catalog.Control, opts Options) {
	t.Helper()
	got := describe(t, Run(load(), controls, opts))
	want := describe(t, referenceRun(load(), controls, opts))
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("results differ from the reference's at line %d:\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	t.Fatalf("results differ from the reference's: %d lines, want %d", len(g), len(w))
}

var everyFixability = Options{Fixability: []finding.Fixability{finding.FixAuto, finding.FixReview}}

// TestSameAsReferenceOnCatalog fixes every built-in control's fixtures,
// with the control alone (as RunFixtures does) and with the whole catalog.
func TestSameAsReferenceOnCatalog(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cat.All() {
		t.Run(c.ID, func(t *testing.T) {
			for _, name := range []string{catalog.FailingFile, catalog.PassingFile, catalog.FixedFile} {
				data, err := fs.ReadFile(patches.FS, filepath.Base(c.Dir)+"/"+name)
				if err != nil {
					continue
				}
				load := func() *manifest.Set {
					f, err := yamledit.Parse(name, data, yamledit.Options{})
					if err != nil {
						t.Fatal(err)
					}
					return manifest.FromFiles(f)
				}
				sameAsReference(t, load, []*catalog.Control{c}, everyFixability)
				sameAsReference(t, load, cat.All(), everyFixability)
				sameAsReference(t, load, cat.All(), Options{})
			}
		})
	}
}

// TestSameAsReferenceOnTrees fixes the sample repositories, the bad inputs
// and the first 200 files of the benchmarks' generated tree.
func TestSameAsReferenceOnTrees(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{"../../fixtures/demo-repo", "../../fixtures/upstream", "../../fixtures/bad"}
	if gen := generatedTree(t, 200); gen != "" {
		dirs = append(dirs, gen)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			load := func() *manifest.Set { return manifest.Load([]string{dir}, manifest.Options{}) }
			sameAsReference(t, load, cat.All(), everyFixability)
			sameAsReference(t, load, cat.All(), Options{})
		})
	}
}

// generatedTree writes the first n files of hack/gen's tree (the same seed
// gives the same files whatever the number) and returns its directory, or ""
// in -short mode or when the go command is not there to run it.
func generatedTree(t *testing.T, n int) string {
	t.Helper()
	if testing.Short() {
		return ""
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Log("no go command: the generated tree is not fixed")
		return ""
	}
	dir := filepath.Join(t.TempDir(), "tree")
	cmd := exec.Command("go", "run", "../../hack/gen", "-out", dir, "-n", fmt.Sprint(n))
	cmd.Stderr = os.Stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("hack/gen: %v\n%s", err, out)
	}
	return dir
}

// TestSameAsReferenceWhenFixesFail uses controls whose fixes fail in each
// way a fix can, or whose ops take the paths patch works out one by one
// (lists, escapes, move and copy), next to a control whose fixes pass.
func TestSameAsReferenceWhenFixesFail(t *testing.T) {
	const pod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    a/b: x
spec:
  containers:
    - name: a
      image: x:1
      env:
        - name: A
          value: "1"
    - name: b
      image: x:1
      securityContext:
        capabilities:
          add: [NET_ADMIN]
`
	base := `apiVersion: kmend.dev/v1alpha1
kind: Control
id: T-%d
name: t%d
title: test
severity: high
category: test
rationale: test
references: [https://example.com]
check:
  level: container
  field: %s
  unset: fail
  safe: {equals: "%s"}
why:
  unset: unset
  risky: risky
fix:
  fixability: auto
  strategicMerge: |
%s
  jsonPatch: |
%s
`
	indent := func(s string) string { return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ") }
	cases := []struct{ field, safe, smp, ops string }{
		// Passes.
		{"securityContext.allowPrivilegeEscalation", "false", "securityContext:\n  allowPrivilegeEscalation: false", "- {op: add, path: /securityContext/allowPrivilegeEscalation, value: false}"},
		// Does not pass.
		{"securityContext.privileged", "false", "securityContext:\n  privileged: true", "- {op: add, path: /securityContext/privileged, value: true}"},
		// The forms disagree.
		{"securityContext.runAsNonRoot", "true", "securityContext:\n  runAsNonRoot: true", "- {op: add, path: /securityContext/runAsNonRoot, value: false}"},
		// Changes nothing.
		{"image", "y", "image: x:1", "- {op: replace, path: /image, value: \"x:1\"}"},
		// Ops through a list, with move, copy and test, and one that does not apply.
		{"env", "y", "env:\n  - name: A\n    value: \"2\"", "- {op: replace, path: /env/0/value, value: \"2\"}"},
		{"workingDir", "/w", "workingDir: /w", "- {op: add, path: /workingDir, value: /x}\n- {op: move, from: /workingDir, path: /workingDir2}\n- {op: copy, from: /workingDir2, path: /workingDir}\n- {op: remove, path: /workingDir2}\n- {op: test, path: /workingDir, value: /x}\n- {op: replace, path: /workingDir, value: /w}"},
		{"stdin", "true", "stdin: true", "- {op: add, path: /image/x, value: true}"},
		// An object-level fix whose parents are missing.
		{"metadata.labels.team", "t", "metadata:\n  labels:\n    team: t", "- {op: add, path: /metadata/labels/team, value: t}"},
		{"tty", "true", "tty: true", "- {op: add, path: /tt~1y, value: true}\n- {op: move, from: /tt~1y, path: /tty}"},
		// Makes KM-001 fail.
		{"securityContext.readOnlyRootFilesystem", "true", "securityContext:\n  readOnlyRootFilesystem: true\n  privileged: true", "- {op: add, path: /securityContext/readOnlyRootFilesystem, value: true}\n- {op: add, path: /securityContext/privileged, value: true}"},
		// Removes a list member, a missing one, and replaces a missing one.
		{"securityContext.capabilities.add", "[]", "securityContext:\n  capabilities:\n    add: []", "- {op: remove, path: /securityContext/capabilities/add}\n- {op: remove, path: /securityContext/nothing}\n- {op: replace, path: /securityContext/capabilities/add, value: []}"},
	}
	var controls []*catalog.Control
	for i, c := range cases {
		src := fmt.Sprintf(base, i, i, c.field, c.safe, indent(c.smp), indent(c.ops))
		if c.field == "metadata.labels.team" {
			src = strings.Replace(src, "level: container", "level: object", 1)
		}
		ctl, err := catalog.Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatalf("control %d: %v", i, err)
		}
		controls = append(controls, ctl)
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	load := func() *manifest.Set {
		f, err := yamledit.Parse("p.yaml", []byte(pod), yamledit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return manifest.FromFiles(f)
	}
	for i := range controls {
		sameAsReference(t, load, controls[i:i+1], Options{})
		sameAsReference(t, load, append(controls[i:i+1:i+1], cat.All()...), everyFixability)
	}
	sameAsReference(t, load, controls, Options{})
}
