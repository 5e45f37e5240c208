package patch

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/yamledit"
	"github.com/kmend/kmend/patches"
)

// renderedBefore renders a fix as NewWithJSON did before it kept what it
// parses and worked the ops out on the decoded object: templates parsed
// every time, ops applied one by one.
func renderedBefore(r check.Result, objJSON []byte) (*Fix, error) {
	c := r.Control
	smp, ops, level := c.Fix.StrategicMerge, c.Fix.JSONPatch, c.Fix.Level
	if level == "" {
		level = c.Check.Level
	}
	if c.Fix.Pod != nil && c.Check.Level == catalog.LevelContainer &&
		(r.Finding.Reason == finding.ReasonUnset || r.Finding.Reason == finding.ReasonInherited) {
		smp, ops, level = c.Fix.Pod.StrategicMerge, c.Fix.Pod.JSONPatch, catalog.LevelPod
	}
	if smp == "" || ops == "" {
		return nil, fmt.Errorf("control %s has no fix template", c.ID)
	}
	f := &Fix{Result: r, Level: level}
	t := r.Target
	switch level {
	case catalog.LevelObject:
	case catalog.LevelPod:
		f.Base = append([]string{}, t.TemplatePath...)
	case catalog.LevelContainer:
		if t.ContainerType == "" {
			return nil, fmt.Errorf("control %s: a container-level fix needs a container-level finding", c.ID)
		}
		f.Base = append(append([]string{}, t.TemplatePath...), "spec", t.ContainerType, strconv.Itoa(t.ContainerIndex))
	}
	f.BasePointer = pointer(f.Base)
	text, err := catalog.Render(c.ID+" strategicMerge", smp, r.Data)
	if err != nil {
		return nil, err
	}
	if f.Relative, err = yaml.Parse(text); err != nil {
		return nil, fmt.Errorf("control %s: strategicMerge renders invalid YAML: %w", c.ID, err)
	}
	text, err = catalog.Render(c.ID+" jsonPatch", ops, r.Data)
	if err != nil {
		return nil, err
	}
	if f.RelativeOps, err = catalog.ParseOps([]byte(text)); err != nil {
		return nil, fmt.Errorf("control %s: jsonPatch: %w", c.ID, err)
	}
	var rel map[string]any
	s, err := f.Relative.String()
	if err != nil {
		return nil, err
	}
	if err := syaml.Unmarshal([]byte(s), &rel); err != nil {
		return nil, err
	}
	var patch any = rel
	p := f.Base
	if f.Level == catalog.LevelContainer {
		rel["name"] = f.Result.Target.Container
		n := len(p)
		patch = map[string]any{p[n-2]: []any{rel}}
		p = p[:n-2]
	}
	for i := len(p) - 1; i >= 0; i-- {
		patch = map[string]any{p[i]: patch}
	}
	if f.StrategicMergeJSON, err = json.Marshal(patch); err != nil {
		return nil, err
	}
	if f.StrategicMerge, err = syaml.JSONToYAML(f.StrategicMergeJSON); err != nil {
		return nil, err
	}
	if f.JSONPatch, err = absoluteOps(objJSON, f.BasePointer, f.RelativeOps); err != nil {
		return nil, fmt.Errorf("control %s: %w", f.Result.Control.ID, err)
	}
	f.kubectl()
	return f, nil
}

func describeFix(t *testing.T, f *Fix, err error) string {
	t.Helper()
	if err != nil {
		return "error " + err.Error()
	}
	rel, err := f.Relative.String()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("level %s base %q %s\nrelative %q ops %s\nsmp %q %s\njson %s\nkubectl %q note %q",
		f.Level, f.Base, f.BasePointer, rel, mustJSON(t, f.RelativeOps), f.StrategicMerge, f.StrategicMergeJSON,
		mustJSON(t, f.JSONPatch), f.Kubectl, f.Note)
}

// TestFixesRenderAsBefore renders the fix of every result of the whole
// catalog on every built-in fixture, twice (the second time from what was
// kept), and compares it with the fix rendered as before, then verifies
// it both ways after applying it.
func TestFixesRenderAsBefore(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	rendered := 0
	for _, c := range cat.All() {
		for _, name := range []string{catalog.FailingFile, catalog.PassingFile, catalog.FixedFile} {
			data, err := fs.ReadFile(patches.FS, path.Join(path.Base(c.Dir), name))
			if err != nil {
				continue
			}
			f, err := yamledit.Parse(name, data, yamledit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range manifest.FromFiles(f).Objects {
				j, err := JSON(o.Node)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range check.Run(cat.All(), o, check.Options{}) {
					want, wantErr := renderedBefore(r, j)
					for range 2 {
						got, err := NewWithDoc(r, NewDoc(j))
						if g, w := describeFix(t, got, err), describeFix(t, want, wantErr); g != w {
							t.Fatalf("%s %s %s:\n got %s\nwant %s", c.ID, name, r.Finding.Path, g, w)
						}
						if err != nil {
							continue
						}
						rendered++
						edited := o.Node.Copy()
						if err := got.Apply(edited); err != nil {
							t.Fatal(err)
						}
						after, err := JSON(edited)
						if err != nil {
							t.Fatal(err)
						}
						byDocs := got.VerifyDocs(NewDoc(j), NewDoc(after))
						if w := want.Verify(j, after); fmt.Sprint(byDocs) != fmt.Sprint(w) {
							t.Fatalf("%s %s %s: VerifyDocs says %v, Verify %v", c.ID, name, r.Finding.Path, byDocs, w)
						}
					}
				}
			}
		}
	}
	if rendered == 0 {
		t.Fatal("no fix rendered")
	}
}
